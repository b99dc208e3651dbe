package eventexporter

import (
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
