package routes

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks"
)

// Check gives each object of a snapshot its verdict, in the snapshot's order, Receivers first:
// without a cluster a ${KEY} is filled with a stand-in and the status says so; a Route naming a
// Receiver that fails fails too; and no Secret's value is in any message.
func TestCheck(t *testing.T) {
	const value = "s3cr3t-value-of-the-team"
	hook := "webhook:https://hooks.example.test/x?method=POST&key=${KEY}"
	snap := Snapshot{
		Receivers: []api.Receiver{
			*receiver("team-a", "chat", api.ReceiverSpec{Sink: hook, SecretRef: &api.LocalObjectReference{Name: "robot"}}),
			*receiver("team-a", "filtered", api.ReceiverSpec{Sink: "log:?level=Normal"}),
			*receiver("team-a", "unnamed", api.ReceiverSpec{Sink: hook}),
			*receiver("team-a", "plain", api.ReceiverSpec{Sink: "log:?"}),
		},
		Routes: []api.Route{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "z-all"}, Spec: api.RouteSpec{Receivers: []string{"chat", "plain"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "broken"}, Spec: api.RouteSpec{Receivers: []string{"plain", "filtered"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "info"}, Spec: api.RouteSpec{Receivers: []string{"plain"}, Level: "Info"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "labels"}, Spec: api.RouteSpec{Receivers: []string{"plain"},
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}}},
		},
	}
	type verdict struct {
		name, reason, in string
	}
	want := []verdict{
		{"chat", "Ready", "not read: no cluster"},
		{"filtered", "SinkInvalid", "belongs on a Route"},
		{"unnamed", "InvalidSpec", "spec.secretRef is not set"},
		{"plain", "Ready", "delivers to log:"},
		{"z-all", "Ready", "selects events for"},
		{"broken", "ReceiverNotFound", "filtered"},
		{"info", "InvalidSpec", `spec.level "Info"`},
		{"labels", "Ready", "selects events for"}, // no cluster: the selector's syntax is checked
	}
	check := func(objs Objects, want []verdict) {
		t.Helper()
		statuses, _ := Check(snap, objs, sinks.Env{}, "herald", "config", nil)
		if len(statuses) != len(want) {
			t.Fatalf("%d statuses, want %d: %+v", len(statuses), len(want), statuses)
		}
		for i, w := range want {
			s := statuses[i]
			if s.Name != w.name || s.Reason != w.reason || s.Ready != (w.reason == "Ready") || !strings.Contains(s.Message, w.in) {
				t.Errorf("status %d: %+v, want %s %s with %q", i, s, w.name, w.reason, w.in)
			}
			if strings.Contains(s.Message, value) {
				t.Errorf("%s %s: the Secret's value is in the message", s.Kind, s.Name)
			}
		}
		if s := statuses[0]; s.Ready && s.SinkID != "config/team-a/chat" {
			t.Errorf("chat: sink id %q", s.SinkID)
		}
	}
	check(nil, want)

	// With the cluster's Secrets: read, and no stand-in note.
	want[0] = verdict{"chat", "Ready", "delivers to webhook:"}
	check(secrets{"team-a/robot": {"KEY": []byte(value)}}, want)
	statuses, _ := Check(snap, secrets{"team-a/robot": {"KEY": []byte(value)}}, sinks.Env{}, "herald", "config", nil)
	if strings.Contains(statuses[0].Message, "stand-in") {
		t.Errorf("chat: %s", statuses[0].Message)
	}

	// A Secret that is not there fails its Receiver and the Routes naming it.
	statuses, _ = Check(snap, secrets{}, sinks.Env{}, "herald", "config", nil)
	if s := statuses[0]; s.Ready || !strings.Contains(s.Message, "spec.secretRef: Secret team-a/robot: not found") {
		t.Errorf("chat without its Secret: %+v", s)
	}
	if s := statuses[4]; s.Name != "z-all" || s.Ready || s.Reason != "ReceiverNotFound" || !strings.Contains(s.Message, "chat") {
		t.Errorf("a Route naming chat: %+v", s)
	}
}
