package grafana_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// The registered example (herald --help, docs/sinks/grafana.md) builds, with its ${ENV}
// references set, and every parameter has help text.
func TestRegisteredExampleBuilds(t *testing.T) {
	d, ok := sinks.Lookup("grafana")
	if !ok {
		t.Fatal("not registered")
	}
	for _, p := range d.Params {
		if p.Help == "" {
			t.Errorf("parameter %q has no help", p.Name)
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(d.Example, -1) {
		t.Setenv(m[1], "example-value")
	}
	b, err := sinks.Build(1, d.Example, sinks.Env{Ctx: context.Background(), CheckOnly: true})
	if err != nil {
		t.Fatalf("example %q: %v", d.Example, err)
	}
	_ = b.Sink.Close()
}
