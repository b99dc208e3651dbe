package all_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/all"
)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func TestEverySinkIsRegistered(t *testing.T) {
	got := sinks.Schemes()
	for _, want := range []string{"alertmanager", "dingtalk", "discord", "elasticsearch", "feishu", "grafana", "honeycomb", "influxdb", "kafka", "log", "mysql", "slack", "sls", "teams", "webhook", "wechat"} {
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
		// Examples write secrets as ${NAME}, as users should: give each one a value.
		for _, m := range envRef.FindAllStringSubmatch(d.Example, -1) {
			t.Setenv(m[1], "example-value")
		}
		b, err := sinks.Build(1, d.Example, sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true})
		if err != nil {
			t.Errorf("%s: its example %q does not build: %v", d.Scheme, d.Example, err)
			continue
		}
		_ = b.Sink.Close()
	}
}
