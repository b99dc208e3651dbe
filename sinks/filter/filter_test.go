package filter

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
)

func parse(t *testing.T, query string) (*Filter, error) {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	p := uri.NewParams("--sink #1 (webhook)", v, Params)
	f := FromParams(p, Herald)
	return f, p.Err()
}

func event(typ, ns, kind, reason string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		Type: typ, Reason: reason,
		InvolvedObject: corev1.ObjectReference{Namespace: ns, Kind: kind, Name: "x"},
	}}
}

func TestMatch(t *testing.T) {
	warnPod := event("Warning", "prod", "Pod", "BackOff")
	normalPod := event("Normal", "prod", "Pod", "Pulled")
	node := event("Warning", "", "Node", "NodeNotReady")
	unhealthy := event("Warning", "prod", "Pod", "Unhealthy")
	sandbox := event("Warning", "team-a-sandbox", "Pod", "BackOff")

	cases := []struct {
		query string
		ev    *core.Event
		want  bool
	}{
		{"", warnPod, true},
		{"", normalPod, false}, // default level is Warning
		{"level=Warning", normalPod, false},
		{"level=Normal", normalPod, true}, // a floor: Normal and Warning
		{"level=Normal", warnPod, true},
		{"level=normal", normalPod, true},
		{"namespaces=prod", warnPod, true},
		{"namespaces=dev,qa", warnPod, false},
		{"namespaces=dev&namespaces=prod", warnPod, true},
		{"namespaces=prod", node, false}, // cluster-scoped events need "" or cluster_scoped
		{`namespaces=prod,""`, node, true},
		{"namespaces=prod&cluster_scoped=true", node, true},
		{"namespaces=/^team-/", sandbox, true},
		{"namespaces=/^team-/", warnPod, false},
		{"exclude_namespaces=prod", warnPod, false},
		{"exclude_namespaces=/-sandbox$/", sandbox, false},
		{"exclude_namespaces=/-sandbox$/", warnPod, true},
		{"exclude_namespaces=prod", node, true},
		{"kinds=Pod", warnPod, true},
		{"kinds=Node,Deployment", warnPod, false},
		{"kinds=Node", node, true},
		{"exclude_kinds=Pod", warnPod, false},
		{"reason=BackOff", warnPod, true},
		{"reason=Back", warnPod, true}, // unanchored, as kube-eventer
		{"reason=^Failed&reason=BackOff", warnPod, true},
		{"reason=^Failed", warnPod, false},
		{"exclude_reason=^Unhealthy$", unhealthy, false},
		{"exclude_reason=^Unhealthy$", warnPod, true},
		// kube-eventer users write this hoping to exclude Unhealthy: it is a character class,
		// "contains a character other than U n h e a l t y". Unhealthy happens not to match,
		// but neither does any reason spelt only with those letters, and Healthy ("H") does.
		{"reason=[^Unhealthy]", unhealthy, false},
		{"reason=[^Unhealthy]", warnPod, true},
		{"reason=[^Unhealthy]", event("Warning", "prod", "Pod", "healthy"), false},
		{"reason=[^Unhealthy]", event("Warning", "prod", "Pod", "Healthy"), true},
	}
	for _, c := range cases {
		f, err := parse(t, c.query)
		if err != nil {
			t.Fatalf("%q: %v", c.query, err)
		}
		if got := f.Match(c.ev); got != c.want {
			t.Errorf("%q on %s/%s/%s/%s: got %v, want %v", c.query, c.ev.Type, c.ev.InvolvedObject.Namespace, c.ev.InvolvedObject.Kind, c.ev.Reason, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ query, want string }{
		{"level=Warnin", `parameter "level": "Warnin" is not allowed; write one of Warning, Normal (did you mean "Warning"?)`},
		{"reason=(", `parameter "reason": "(" does not compile`},
		{"namespaces=/(/", `parameter "namespaces": "/(/" does not compile`},
		{"levle=Normal", `unknown parameter "levle"; did you mean "level"?`},
		{"cluster_scoped=maybe", `"maybe" is not a boolean; write true or false`},
	}
	for _, c := range cases {
		_, err := parse(t, c.query)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--sink #1 (webhook)") {
			t.Errorf("%q: error %v, want it to name the sink and contain %q", c.query, err, c.want)
		}
	}
}

// Namespaces, as routes uses it: items added one by one, a bad regexp an error of its own.
func TestNamespaces(t *testing.T) {
	var m Namespaces
	if m.Match("prod") || m.Match("") {
		t.Error("the zero value matches")
	}
	for _, it := range []string{"prod", "/^team-/", ""} {
		if err := m.Add(it); err != nil {
			t.Fatalf("%q: %v", it, err)
		}
	}
	for ns, want := range map[string]bool{"prod": true, "team-a": true, "": true, "production": false, "a-team-b": false} {
		if got := m.Match(ns); got != want {
			t.Errorf("%q: got %v, want %v", ns, got, want)
		}
	}
	if err := m.Add("/(/"); err == nil || err.Error() != "error parsing regexp: missing closing ): `(`" {
		t.Errorf("a bad regexp: %v", err)
	}
	if expr, ok := NamespaceRegexp("/a/"); !ok || expr != "a" {
		t.Errorf("/a/: %q %v", expr, ok)
	}
	if _, ok := NamespaceRegexp("/"); ok {
		t.Error(`"/" is a regexp item`)
	}
}

// Every bad /regexp/ item of a namespace parameter is its own error, and the others still apply.
func TestNamespaceErrorsEachItem(t *testing.T) {
	_, err := parse(t, "namespaces=/(/,prod,/[/")
	want := "--sink #1 (webhook): parameter \"namespaces\": \"/(/\" does not compile: error parsing regexp: missing closing ): `(`; fix the regular expression between the slashes (Go RE2 syntax)\n" +
		"--sink #1 (webhook): parameter \"namespaces\": \"/[/\" does not compile: error parsing regexp: missing closing ]: `[`; fix the regular expression between the slashes (Go RE2 syntax)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}
