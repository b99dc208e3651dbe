package wechat_test

import (
	"os"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/wechat"
)

// Every parameter the sink declares is documented in docs/sinks/wechat.md.
func TestDocsNameEveryParameter(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sinks/wechat.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range wechat.Params {
		if !strings.Contains(string(doc), "| `"+p.Name+"`") {
			t.Errorf("docs/sinks/wechat.md has no table row for parameter %q", p.Name)
		}
	}
}
