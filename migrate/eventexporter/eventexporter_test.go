package eventexporter

import (
	"fmt"
	"strings"
	"testing"
)

func TestLiteralAlternatives(t *testing.T) {
	cases := []struct {
		expr     string
		want     string
		anchored bool
	}{
		{"Pod", "Pod", false},
		{"^Pod$", "Pod", true},
		{"^(Pod|Node)$", "Pod,Node", true},
		{"^(?:Pod|Node)$", "Pod,Node", true},
		{"Pod|Deployment", "Pod,Deployment", false},
		{"^Pod|Node$", "", false},
		{"Pod.*", "", false},
		{"kube-system", "kube-system", false},
	}
	for _, c := range cases {
		got, anchored := literalAlternatives(c.expr)
		if strings.Join(got, ",") != c.want || (got != nil && anchored != c.anchored) {
			t.Errorf("%q: %v anchored=%v, want %q anchored=%v", c.expr, got, anchored, c.want, c.anchored)
		}
	}
}

func TestIndexFromFormat(t *testing.T) {
	for in, want := range map[string]string{
		"kube-events-{2006-01-02}":  "kube-events-%Y-%m-%d",
		"ev-{2006.01.02.15}":        "ev-%Y.%m.%d.%H",
		"kube-events-{Jan-2006}":    "",
		"a-{2006}-b-{01}":           "",
		"kube-events-{2006-01-02}x": "kube-events-%Y-%m-%dx",
	} {
		got, ok := indexFromFormat(in)
		if (want == "") == ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}

// An anchor that contains itself made the walk of the route tree recurse until the process ran
// out of memory; aliases of aliases made it take for ever. Both are errors now.
func TestReadRefusesAliasLoops(t *testing.T) {
	laughs := "a: &a {match: [{receiver: x}]}\n"
	prev := "a"
	for i := range 20 {
		name := fmt.Sprintf("l%d", i)
		laughs += fmt.Sprintf("%s: &%s {routes: [*%s, *%s, *%s]}\n", name, name, prev, prev, prev)
		prev = name
	}
	laughs += "route: *" + prev + "\nreceivers: [{name: x, stdout: {}}]\n"
	for name, c := range map[string]struct{ config, want string }{
		"self":    {"route: &r {routes: [*r]}\n", "alias *r refers to a value that contains it"},
		"nested":  {"route: &r {routes: [{routes: [{match: [{receiver: a}]}, *r]}]}\n", "alias *r refers to a value that contains it"},
		"laughs":  {laughs, "expand to more than 100000 values"},
		"in list": {"receivers: &x [{name: a, webhook: {endpoint: *x}}]\n", "alias *x refers to a value that contains it"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Read([]byte(c.config), "config.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("migration %v, error %v; want an error saying %q", m != nil, err, c.want)
			}
		})
	}
	// An alias to a sibling is fine: the exporter reads it, and so does herald migrate.
	m, err := Read([]byte("x: &hook {endpoint: http://r:8080/}\nroute: {match: [{receiver: a}]}\nreceivers: [{name: a, webhook: *hook}]\n"), "config.yaml")
	if err != nil || len(m.sinks) != 1 {
		t.Fatalf("an alias to a sibling: %v", err)
	}
}
