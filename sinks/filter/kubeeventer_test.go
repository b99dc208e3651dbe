package filter

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
)

func parseDialect(t *testing.T, rawQuery string, d Dialect) (*Filter, []string, error) {
	t.Helper()
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	p := uri.NewParams("--sink #1 (x)", v, Params)
	p.SetRawQuery(rawQuery)
	p.Lenient()
	f := FromParams(p, d)
	return f, p.Warnings(), p.Err()
}

// TestKubeEventerLevels: level as each of kube-eventer's sinks read it (webhook getLevels,
// dingtalk/wechat getLevel, the store sinks not at all), on a Normal and a Warning event.
func TestKubeEventerLevels(t *testing.T) {
	normal, warning := event("Normal", "a", "Pod", "Pulled"), event("Warning", "a", "Pod", "BackOff")
	type want struct{ normal, warning, warns bool }
	cases := []struct {
		d     Dialect
		query string
		want  want
	}{
		{KubeEventerWebhook, "", want{true, true, false}}, // no level filter at all
		{KubeEventerWebhook, "level=Normal", want{true, true, false}},
		{KubeEventerWebhook, "level=Warning", want{false, true, false}},
		{KubeEventerWebhook, "level=Normal,Warning", want{false, true, true}}, // not "Normal": [Warning]
		{KubeEventerWebhook, "level=[Warning]", want{false, true, true}},
		{KubeEventerWebhook, "level=Info", want{false, true, true}},
		{KubeEventerWebhook, "level=normal", want{false, true, true}}, // case-sensitive
		{KubeEventerWebhook, "level=", want{false, true, true}},
		{KubeEventerWebhook, "level=Warning&level=Normal", want{false, true, true}}, // the first
		{KubeEventerRobot, "", want{false, true, false}},
		{KubeEventerRobot, "level=Normal", want{true, true, false}},
		{KubeEventerRobot, "level=Warning", want{false, true, false}},
		{KubeEventerRobot, "level=Normal,Warning", want{true, true, true}}, // scores 0: every type
		{KubeEventerRobot, "level=Info", want{true, true, true}},
		{KubeEventerStore, "", want{true, true, false}},
		{KubeEventerStore, "level=Normal", want{true, true, false}},
		{KubeEventerStore, "level=Info", want{true, true, true}},
		{KubeEventerStore, "level=Warning", want{false, true, true}}, // applied, and said
	}
	for _, c := range cases {
		f, warns, err := parseDialect(t, c.query, c.d)
		if err != nil {
			t.Errorf("%v %q: %v", c.d, c.query, err)
			continue
		}
		got := want{f.Match(normal), f.Match(warning), len(warns) > 0}
		if got != c.want {
			t.Errorf("%v %q: Normal %v, Warning %v, warned %v (%q); want %+v", c.d, c.query, got.normal, got.warning, got.warns, warns, c.want)
		}
		for _, w := range warns {
			if !strings.Contains(w, `parameter "level"`) || !strings.Contains(w, "kube-eventer") {
				t.Errorf("%v %q: warning %q does not name the parameter and what kube-eventer did", c.d, c.query, w)
			}
		}
	}
}

// TestKubeEventerLists: namespaces, kinds and reason as GetValues read them.
func TestKubeEventerLists(t *testing.T) {
	pod := func(ns, reason string) *core.Event { return event("Warning", ns, "Pod", reason) }
	node := &core.Event{Event: &corev1.Event{Type: "Warning", Reason: "NodeNotReady",
		ObjectMeta:     metav1.ObjectMeta{Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n1"}}}
	cases := []struct {
		d     Dialect
		query string
		ev    *core.Event
		want  bool
	}{
		{KubeEventerWebhook, "namespaces=a,b", pod("b", "X"), true},
		{KubeEventerWebhook, "namespaces=a,b", pod("c", "X"), false},
		{KubeEventerWebhook, "namespaces=default", node, false}, // the involved object's namespace: empty
		{KubeEventerRobot, "namespaces=default", node, true},    // the Event's own namespace
		{KubeEventerWebhook, "kinds=Node,Pod", pod("a", "X"), true},
		{KubeEventerWebhook, "kinds=Node", pod("a", "X"), false},
		{KubeEventerWebhook, "reason=BackOff,Failed", pod("a", "Failed"), true}, // split on commas
		{KubeEventerWebhook, "reason=BackOff,Failed", pod("a", "Pulled"), false},
		{KubeEventerWebhook, "reason=Back", pod("a", "BackOff"), true},                // unanchored
		{KubeEventerWebhook, "namespaces=/^team-(a,b)$/", pod("team-a,b", "X"), true}, // a regexp is not split
		{KubeEventerWebhook, "namespaces=/^team-/,prod", pod("prod", "X"), true},
		{KubeEventerWebhook, "namespaces=/^team-/,prod", pod("team-x", "X"), true},
		{KubeEventerWebhook, "namespaces=/^team-/,prod", pod("dev", "X"), false},
	}
	for _, c := range cases {
		f, _, err := parseDialect(t, c.query, c.d)
		if err != nil {
			t.Errorf("%v %q: %v", c.d, c.query, err)
			continue
		}
		if got := f.Match(c.ev); got != c.want {
			t.Errorf("%v %q on %s/%s: %v, want %v", c.d, c.query, c.ev.InvolvedObject.Namespace, c.ev.Reason, got, c.want)
		}
	}
}

// TestKubeEventerWarnings: each reading that differs from kube-eventer's, or that kube-eventer
// would not have made, is said once, naming the parameter.
func TestKubeEventerWarnings(t *testing.T) {
	cases := []struct {
		d     Dialect
		query string
		want  string
	}{
		{KubeEventerWebhook, "reason=Back+Off", "`+` in a URI query is a space"},
		{KubeEventerWebhook, "namespaces=/^a+b$/", "`+` in a URI query is a space"},
		{KubeEventerWebhook, "namespaces=a&namespaces=b", "kube-eventer used only the first value"},
		{KubeEventerWebhook, "namespaces=", "delivered no event at all"},
		{KubeEventerWebhook, "kinds=Pod,%20Node", `item " Node" has spaces around it`},
		{KubeEventerRobot, "reason=BackOff", "had no reason filter"},
		{KubeEventerStore, "namespaces=prod", "had no namespaces or kinds filter"},
	}
	for _, c := range cases {
		_, warns, err := parseDialect(t, c.query, c.d)
		if err != nil {
			t.Errorf("%v %q: %v", c.d, c.query, err)
			continue
		}
		if len(warns) != 1 || !strings.Contains(warns[0], c.want) {
			t.Errorf("%v %q: warnings %q, want one containing %q", c.d, c.query, warns, c.want)
		}
	}
	// herald's own sinks: a bad level is an error, not a warning.
	if _, _, err := parseDialect(t, "level=Info", Herald); err == nil {
		t.Error("herald's own sinks accepted level=Info")
	}
}

func TestNamespaceItems(t *testing.T) {
	cases := map[string][]string{
		"a,b":              {"a", "b"},
		` a , b ,, ""`:     {"a", "b", ""},
		"/^(x|y){1,2}$/,c": {"/^(x|y){1,2}$/", "c"},
		"c,/a,b/ , d":      {"c", "/a,b/", "d"},
		"/unclosed,d":      {"/unclosed", "d"},
		"/a/b/,c":          {"/a/b/", "c"},
	}
	for in, want := range cases {
		got := namespaceItems([]string{in})
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
