package all_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/all"
)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func TestEverySinkIsRegistered(t *testing.T) {
	got := sinks.Schemes()
	for _, want := range []string{"alertmanager", "dingtalk", "discord", "elasticsearch", "feishu", "file", "grafana", "honeycomb", "influxdb", "kafka", "log", "loki", "mysql", "otlp", "slack", "sls", "syslog", "teams", "webhook", "wechat"} {
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
		// The example, the help and docs/sinks/reference/ come from this one Definition; the
		// sink packages do not repeat this test.
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
		// herald check shows what each sink would send.
		if _, ok := b.Sink.(sinks.Previewer); !ok {
			t.Errorf("%s: the sink is not a sinks.Previewer (herald check cannot show what it sends)", d.Scheme)
		}
		_ = b.Sink.Close()
	}
}

// TestKubeEventerSchemes: every scheme kube-eventer has is marked so, and reads its filter the
// way kube-eventer's code for that sink did: the default level (webhook and the store sinks had
// no level filter without level=; dingtalk and wechat defaulted to Warning), and a misspelt
// parameter is a warning, as kube-eventer ignored it. herald's own sinks stay strict.
func TestKubeEventerSchemes(t *testing.T) {
	defaults := map[string]string{
		"webhook": "every type", "log": "every type", "kafka": "every type", "elasticsearch": "every type",
		"mysql": "every type", "influxdb": "every type", "sls": "every type", "honeycomb": "every type",
		"dingtalk": "Warning", "wechat": "Warning",
	}
	normal := &core.Event{Event: &corev1.Event{Type: "Normal", Reason: "Pulled", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "a"}}}
	for _, d := range sinks.All() {
		want, kubeEventer := defaults[d.Scheme]
		if d.KubeEventer != kubeEventer {
			t.Errorf("%s: KubeEventer is %v; kube-eventer has this scheme: %v", d.Scheme, d.KubeEventer, kubeEventer)
		}
		if !kubeEventer {
			want = "Warning"
		}
		if got := d.DefaultLevel(); got != want {
			t.Errorf("%s: default level %q, want %q", d.Scheme, got, want)
		}
		for _, m := range envRef.FindAllStringSubmatch(d.Example, -1) {
			t.Setenv(m[1], "example-value")
		}
		env := sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true}
		// The example without level, to see the default at work.
		example := strings.NewReplacer("level=Warning&", "", "&level=Warning", "", "&level=Normal", "", "level=Normal&", "").Replace(d.Example)
		b, err := sinks.Build(1, example, env)
		if err != nil {
			t.Errorf("%s: %q: %v", d.Scheme, example, err)
			continue
		}
		_ = b.Sink.Close()
		if got := b.Filter.Match(normal); got != (want == "every type") {
			t.Errorf("%s: without level a Normal event passes: %v, want %v", d.Scheme, got, want == "every type")
		}
		sep := "?"
		if strings.Contains(example, "?") {
			sep = "&"
		}
		b, err = sinks.Build(1, example+sep+"levl=Normal", env)
		switch {
		case kubeEventer && err != nil:
			t.Errorf("%s: a misspelt parameter stops the sink (%v); kube-eventer ignored it", d.Scheme, err)
		case kubeEventer:
			_ = b.Sink.Close()
			if !slices.ContainsFunc(b.Warnings, func(w string) bool {
				return strings.Contains(w, `"levl" ignored`) && strings.Contains(w, `did you mean "level"?`)
			}) {
				t.Errorf("%s: warnings %q lack one for levl", d.Scheme, b.Warnings)
			}
		case err == nil:
			_ = b.Sink.Close()
			t.Errorf("%s: herald's own sink accepted a misspelt parameter", d.Scheme)
		}
	}
}
