package otlp_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/otlp"
)

// Every parameter the sink declares has a row in docs/sinks/otlp.md, and every --sink line there
// (and the registered example) builds, with its ${ENV} references set.
func TestDocs(t *testing.T) {
	raw, err := os.ReadFile("../../docs/sinks/otlp.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, p := range otlp.Params {
		if !strings.Contains(doc, "| `"+p.Name+"`") {
			t.Errorf("docs/sinks/otlp.md has no table row for parameter %q", p.Name)
		}
	}
	d, _ := sinks.Lookup("otlp")
	values := []string{d.Example}
	for _, m := range regexp.MustCompile("(?m)^--sink=(otlp:\\S+)$").FindAllStringSubmatch(doc, -1) {
		values = append(values, m[1])
	}
	if len(values) < 3 {
		t.Fatalf("found %d examples", len(values))
	}
	for _, v := range values {
		for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(v, -1) {
			t.Setenv(m[1], "example-value")
		}
		b, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true})
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
