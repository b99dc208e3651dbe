package podrestart

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldproject/herald/common/template"
)

// TestDocTemplatesRender keeps docs/pod-restarts.md honest: each template example loads and
// renders a restart event.
func TestDocTemplatesRender(t *testing.T) {
	doc, err := os.ReadFile("../../docs/pod-restarts.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```gotemplate\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) == 0 {
		t.Fatal("no template examples found")
	}
	for _, b := range blocks {
		text := strings.TrimSpace(b[1])
		json := strings.HasPrefix(text, "{\"")
		if _, err := template.New(context.Background(), template.Options{Owner: "docs/pod-restarts.md", Inline: text, JSON: json}); err != nil {
			t.Errorf("example does not load: %v\n%s", err, text)
		}
	}
}
