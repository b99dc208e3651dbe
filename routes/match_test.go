package routes

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
)

func event(ns, kind, name, typ, reason, msg string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + ".1", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Namespace: ns, Kind: kind, Name: name},
		Type:           typ, Reason: reason, Message: msg,
	}}
}

func route(ns string, spec api.RouteSpec) *api.Route {
	if spec.Receivers == nil {
		spec.Receivers = []string{"r"}
	}
	return &api.Route{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rt"}, Spec: spec}
}

func TestRouteSelects(t *testing.T) {
	labels := map[string]map[string]string{
		"team-a/web": {"tier": "frontend", "owner": "ann"},
		"team-a/db":  {"tier": "backend"},
	}
	labelsOf := func(ref corev1.ObjectReference) (map[string]string, error) {
		if ref.Name == "broken" {
			return nil, errors.New("lookup failed")
		}
		return labels[ref.Namespace+"/"+ref.Name], nil
	}
	warn := func(ns, name string) *core.Event {
		return event(ns, "Pod", name, "Warning", "BackOff", "back-off restarting")
	}
	for _, tc := range []struct {
		name  string
		ns    string // the Route's namespace; herald's is "herald"
		spec  api.RouteSpec
		event *core.Event
		want  bool
	}{
		{"own namespace", "team-a", api.RouteSpec{}, warn("team-a", "web"), true},
		{"another namespace is not a team's", "team-a", api.RouteSpec{}, warn("team-b", "web"), false},
		{"cluster-scoped objects are not a team's", "team-a", api.RouteSpec{}, event("", "Node", "n1", "Warning", "NodeNotReady", ""), false},
		{"herald's namespace sees all", "herald", api.RouteSpec{}, warn("team-b", "web"), true},
		{"herald's namespace sees nodes", "herald", api.RouteSpec{}, event("", "Node", "n1", "Warning", "NodeNotReady", ""), true},
		{"namespaces, exact", "herald", api.RouteSpec{Namespaces: []string{"team-b"}}, warn("team-b", "web"), true},
		{"namespaces, regexp", "herald", api.RouteSpec{Namespaces: []string{"/^team-/"}}, warn("team-c", "web"), true},
		{"namespaces, not listed", "herald", api.RouteSpec{Namespaces: []string{"/^team-/"}}, warn("prod", "web"), false},
		{"Warning is the default level", "team-a", api.RouteSpec{}, event("team-a", "Pod", "web", "Normal", "Pulled", ""), false},
		{"level Normal", "team-a", api.RouteSpec{Level: "Normal"}, event("team-a", "Pod", "web", "Normal", "Pulled", ""), true},
		{"kinds", "team-a", api.RouteSpec{Kinds: []string{"Deployment"}}, warn("team-a", "web"), false},
		{"reasons", "team-a", api.RouteSpec{Reasons: []string{"^Back", "OOM"}}, warn("team-a", "web"), true},
		{"reasons, none match", "team-a", api.RouteSpec{Reasons: []string{"^OOM"}}, warn("team-a", "web"), false},
		{"excludeReasons", "team-a", api.RouteSpec{ExcludeReasons: []string{"BackOff"}}, warn("team-a", "web"), false},
		{"message", "team-a", api.RouteSpec{Message: "restart(ing)?"}, warn("team-a", "web"), true},
		{"message, no match", "team-a", api.RouteSpec{Message: "^OOM"}, warn("team-a", "web"), false},
		{"eventSources, any name", "team-a", api.RouteSpec{EventSources: []api.EventSource{{Kind: "Pod", Name: "*"}}}, warn("team-a", "web"), true},
		{"eventSources, by name", "team-a", api.RouteSpec{EventSources: []api.EventSource{{Kind: "Pod", Name: "db"}}}, warn("team-a", "web"), false},
		{"eventSources, other kind", "team-a", api.RouteSpec{EventSources: []api.EventSource{{Kind: "Deployment"}}}, warn("team-a", "web"), false},
		{"objectSelector", "team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}}, warn("team-a", "web"), true},
		{"objectSelector, no match", "team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}}, warn("team-a", "db"), false},
		{"objectSelector, expression", "team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "owner", Operator: metav1.LabelSelectorOpExists}}}}, warn("team-a", "web"), true},
		{"objectSelector, lookup failed", "team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}}, warn("team-a", "broken"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := compileRoute(route(tc.ns, tc.spec), "herald", labelsOf)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Match(tc.event); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRouteErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		ns   string
		spec api.RouteSpec
		want string
	}{
		{"team-a", api.RouteSpec{Receivers: []string{}}, "spec.receivers is empty"},
		{"team-a", api.RouteSpec{Level: "Info"}, `spec.level "Info"`},
		{"team-a", api.RouteSpec{Reasons: []string{"ok", "(unclosed"}}, "spec.reasons[1]"},
		{"team-a", api.RouteSpec{ExcludeReasons: []string{"["}}, "spec.excludeReasons[0]"},
		{"team-a", api.RouteSpec{Message: "*"}, "spec.message"},
		{"team-a", api.RouteSpec{EventSources: []api.EventSource{{Name: "x"}}}, "spec.eventSources[0].kind"},
		{"team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}}, "spec.objectSelector"},
		{"team-a", api.RouteSpec{Namespaces: []string{"team-b"}}, "spec.namespaces is honoured only for Routes in herald's own namespace (herald)"},
		{"herald", api.RouteSpec{Namespaces: []string{"/(/"}}, "spec.namespaces[0]"},
		{"team-a", api.RouteSpec{GroupBy: []string{"reason", "owner"}}, `spec.groupBy[1] "owner"`},
		{"team-a", api.RouteSpec{GroupWait: &metav1.Duration{Duration: -time.Second}}, "spec.groupWait -1s is negative"},
		{"team-a", api.RouteSpec{MinCount: -2}, "spec.minCount -2"},
	} {
		_, err := compileRoute(route(tc.ns, tc.spec), "herald", func(corev1.ObjectReference) (map[string]string, error) { return nil, nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	if _, err := compileRoute(route("team-a", api.RouteSpec{ObjectSelector: &metav1.LabelSelector{}}), "herald", nil); err == nil {
		t.Error("objectSelector without a label lookup was accepted")
	}
}

// A Receiver's matcher is the union of its Routes.
func TestAnyOf(t *testing.T) {
	a, _ := compileRoute(route("team-a", api.RouteSpec{Kinds: []string{"Pod"}}), "herald", nil)
	b, _ := compileRoute(route("team-a", api.RouteSpec{Kinds: []string{"Deployment"}}), "herald", nil)
	m := anyOf{a, b}
	if !m.Match(event("team-a", "Deployment", "d", "Warning", "X", "")) || !m.Match(event("team-a", "Pod", "p", "Warning", "X", "")) {
		t.Error("an event one Route selects did not match")
	}
	if m.Match(event("team-a", "Node", "n", "Warning", "X", "")) {
		t.Error("an event no Route selects matched")
	}
	if (anyOf(nil)).Match(event("team-a", "Pod", "p", "Warning", "X", "")) {
		t.Error("a Receiver without Routes matched")
	}
}
