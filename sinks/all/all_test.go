package all_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/all"
)

func TestEverySinkIsRegistered(t *testing.T) {
	got := sinks.Schemes()
	for _, want := range []string{"log", "webhook"} {
		if !slices.Contains(got, want) {
			t.Errorf("sink %q is not registered; registered: %v", want, got)
		}
	}
	for _, d := range sinks.All() {
		for _, p := range d.Params {
			if p.Help == "" {
				t.Errorf("%s: parameter %q has no help text", d.Scheme, p.Name)
			}
		}
		if d.Summary == "" || d.Example == "" {
			t.Errorf("%s: no summary or example", d.Scheme)
			continue
		}
		b, err := sinks.Build(1, d.Example, sinks.Env{Ctx: context.Background(), Location: time.UTC})
		if err != nil {
			t.Errorf("%s: its example %q does not build: %v", d.Scheme, d.Example, err)
			continue
		}
		_ = b.Sink.Close()
	}
}
