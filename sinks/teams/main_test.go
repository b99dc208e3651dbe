package teams_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// TestMain sends glog to stderr: by default it writes log files into the temp directory.
func TestMain(m *testing.M) {
	_ = flag.Set("logtostderr", "true")
	os.Exit(m.Run())
}

var lastSeen = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

// event is a Warning about pod name in namespace ns.
func event(ns, name, reason, message string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + ".18a2b", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Count:          3,
		LastTimestamp:  metav1.NewTime(lastSeen),
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}}
}

// build makes a sink the way cmd/herald does, through the registry.
func build(t testing.TB, sinkValue string, env sinks.Env) core.Sink {
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

// storm returns n Warning events over namespaces and reasons, each about its own pod, with
// long messages.
func storm(n int) []*core.Event {
	reasons := []string{"BackOff", "FailedScheduling", "Unhealthy", "FailedMount", "OOMKilling"}
	out := make([]*core.Event, n)
	for i := range out {
		e := event(fmt.Sprintf("team-%d", i%7), fmt.Sprintf("pod-%04d", i), reasons[i%len(reasons)],
			fmt.Sprintf("event %d: <failed> & \"quoted\" — 容器启动失败 %s", i, longText(300)))
		e.LastTimestamp = metav1.NewTime(lastSeen.Add(time.Duration(i) * time.Millisecond))
		out[i] = e
	}
	return out
}

func longText(n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = rune('a' + i%26)
	}
	return string(b)
}
