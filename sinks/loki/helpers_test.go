package loki_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/loki/lokitest"
)

// t0 is when the test events happen; the receivers' clock is a little later.
var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func clock() time.Time { return t0.Add(time.Minute) }

// event is a Warning about a Pod, last seen at t0 + at.
func event(ns, reason, pod string, at time.Duration) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: pod + "." + reason, Namespace: ns, UID: types.UID("ev-" + pod + "-" + reason)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod, UID: types.UID("uid-" + pod), FieldPath: "spec.containers{app}"},
		Reason:         reason,
		Message:        fmt.Sprintf(`Back-off restarting "app" in %s 容器 🚑`+"\n"+`\ done`, pod),
		Type:           corev1.EventTypeWarning,
		Count:          2,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
		FirstTimestamp: metav1.NewTime(t0.Add(-time.Hour)),
		LastTimestamp:  metav1.NewTime(t0.Add(at)),
	}, Cluster: "prod-eu"}
}

// receiver starts a Loki stand-in on the test clock, before unordered writes unless o says.
func receiver(t testing.TB, o lokitest.Options) *lokitest.Receiver {
	t.Helper()
	if o.Now == nil {
		o.Now = clock
	}
	return lokitest.New(t, o)
}

// build builds a sink from a --sink value, on the test clock.
func build(t testing.TB, value string) core.Sink {
	t.Helper()
	b, err := sinks.Build(1, value, sinks.Env{Ctx: context.Background(), Location: time.UTC, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

// fates reads Export's error as the pipeline does.
func fates(err error, batch []*core.Event) (retry []*core.Event, retryErr error, rejected []*core.Event, rejectErr error) {
	return core.Fates(err, batch)
}

// lines returns the stored lines, in order.
func lines(stored []lokitest.Stored) []string {
	out := make([]string, len(stored))
	for i, s := range stored {
		out[i] = s.Line
	}
	return out
}
