package feishu_test

import (
	"os"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/feishu"
)

// Every parameter the sink declares is documented in docs/sinks/feishu.md.
func TestDocsNameEveryParameter(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sinks/feishu.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range feishu.Params {
		if !strings.Contains(string(doc), "| `"+p.Name+"`") {
			t.Errorf("docs/sinks/feishu.md has no table row for parameter %q", p.Name)
		}
	}
}
