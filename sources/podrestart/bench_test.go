package podrestart

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/heraldproject/herald/core"
)

// BenchmarkOnUpdateNoRestart is the common case: a pod's status changes (readiness, a probe)
// without a restart. Every pod update in the cluster goes through it.
func BenchmarkOnUpdateNoRestart(b *testing.B) {
	src, err := New(Config{Client: fake.NewClientset(), Emit: func(*core.Event) {}})
	if err != nil {
		b.Fatal(err)
	}
	older := podWith("u", statuses("init", 0), statuses("app", 3, "sidecar", 0, "proxy", 1), nil)
	newer := older.DeepCopy()
	newer.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	b.ReportAllocs()
	for b.Loop() {
		src.onUpdate(older, newer)
	}
}

// BenchmarkOnUpdateThrottledRestart is a crash loop inside --restart-repeat: detected, folded.
func BenchmarkOnUpdateThrottledRestart(b *testing.B) {
	src, err := New(Config{Client: fake.NewClientset(), Emit: func(*core.Event) {}, Queue: 1})
	if err != nil {
		b.Fatal(err)
	}
	older := podWith("u", nil, statuses("app", 3), nil)
	newer := podWith("u", nil, statuses("app", 4), nil)
	src.onUpdate(older, newer) // the first report; the rest are folded
	b.ReportAllocs()
	for b.Loop() {
		src.onUpdate(older, newer)
	}
}
