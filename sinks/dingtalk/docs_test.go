package dingtalk_test

import (
	"os"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/dingtalk"
)

// Every parameter the sink declares is documented in docs/sinks/dingtalk.md.
func TestDocsNameEveryParameter(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sinks/dingtalk.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dingtalk.Params {
		if !strings.Contains(string(doc), "| `"+p.Name+"`") {
			t.Errorf("docs/sinks/dingtalk.md has no table row for parameter %q", p.Name)
		}
	}
}
