package chattest

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// LastSeen is the last timestamp of the events Event makes.
var LastSeen = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

// Event is a Warning about pod name in namespace ns, seen three times, last at LastSeen.
func Event(ns, name, reason, message string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + ".18a2b", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Count:          3,
		LastTimestamp:  metav1.NewTime(LastSeen),
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}}
}

// Build makes a sink the way cmd/herald does, through the registry, and closes it at cleanup.
func Build(t testing.TB, sinkValue string, env sinks.Env) core.Sink {
	t.Helper()
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Location == nil {
		env.Location = time.UTC
	}
	b, err := sinks.Build(1, sinkValue, env)
	if err != nil {
		t.Fatalf("building %s: %v", sinkValue, err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

// LongStorm returns n Warning events over namespaces and reasons, each about its own pod, with
// long messages holding markup, quotes and Chinese text, a millisecond apart.
func LongStorm(n int) []*core.Event {
	reasons := []string{"BackOff", "FailedScheduling", "Unhealthy", "FailedMount", "OOMKilling"}
	out := make([]*core.Event, n)
	for i := range out {
		e := Event(fmt.Sprintf("team-%d", i%7), fmt.Sprintf("pod-%04d", i), reasons[i%len(reasons)],
			fmt.Sprintf("event %d: <failed> & \"quoted\" — 容器启动失败 %s", i, LongText(300)))
		e.LastTimestamp = metav1.NewTime(LastSeen.Add(time.Duration(i) * time.Millisecond))
		out[i] = e
	}
	return out
}

// LongText is n letters, a to z over and over.
func LongText(n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = rune('a' + i%26)
	}
	return string(b)
}
