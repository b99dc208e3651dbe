package loki_test

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/loki"
)

// docs/sinks/loki.md names every parameter in its table, and every --sink line in it builds
// (its ${ENV} references set), as does the registered example.
func TestDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sinks/loki.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range loki.Params {
		if !regexp.MustCompile("(?m)^\\| [^|]*`" + regexp.QuoteMeta(p.Name) + "`").Match(doc) {
			t.Errorf("docs/sinks/loki.md has no table row for parameter %q", p.Name)
		}
	}
	d, _ := sinks.Lookup("loki")
	values := []string{d.Example}
	for _, m := range regexp.MustCompile("(?m)^--sink=(.+)$").FindAllStringSubmatch(string(doc), -1) {
		values = append(values, m[1])
	}
	if len(values) < 3 {
		t.Fatalf("found %d examples, want the registered one and the two in the doc", len(values))
	}
	for _, v := range values {
		for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(v, -1) {
			t.Setenv(m[1], "example-value-123")
		}
		b, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background(), CheckOnly: true, Now: time.Now})
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if len(b.Warnings) > 0 {
			t.Errorf("%s: warnings %q", v, b.Warnings)
		}
		_ = b.Sink.Close()
	}
}
