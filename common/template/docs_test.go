package template

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var codeBlock = regexp.MustCompile("(?s)```(gotemplate|yaml)\n(.*?)```")

// TestDocExamples keeps docs/templates.md honest: every ```gotemplate block loads (and, when it
// is a JSON document, loads in JSON mode), and every ConfigMap in a ```yaml block holds a
// template that loads in JSON mode.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/templates.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range codeBlock.FindAllStringSubmatch(string(doc), -1) {
		kind, text := m[1], m[2]
		trimmed := strings.TrimSpace(text)
		jsonMode := strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "{{")
		if kind == "yaml" {
			if !strings.Contains(text, "kind: ConfigMap") {
				continue
			}
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(text), &cm); err != nil {
				t.Fatalf("ConfigMap example does not decode: %v\n%s", err, text)
			}
			text, jsonMode = cm.Data[ContentKey], true
		}
		n++
		if _, err := New(context.Background(), Options{Owner: "docs/templates.md", Inline: text, JSON: jsonMode}); err != nil {
			t.Errorf("example does not load: %v\n%s", err, text)
		}
	}
	if n < 4 {
		t.Errorf("found %d examples; did the code blocks lose their language tags?", n)
	}
}
