package kubernetes

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func warningAbout(name string) *corev1.Event {
	return &corev1.Event{Type: corev1.EventTypeWarning, Reason: "Unhealthy", Message: "Readiness probe failed",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: name}}
}

// kube-eventer's warning and error counters have one series per object. herald keeps those of
// objects counted within SeriesTTL, at most MaxSeries, so a stream of events about new pods
// does not grow memory for ever (the soak's rise of 4 MiB a minute).
func TestEventMetricsSeriesAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewEventMetrics(reg)
	clock := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return clock }
	m.SeriesTTL, m.MaxSeries = time.Hour, 100

	// 250 objects, one a second: only the last 100 are kept.
	for i := 0; i < 250; i++ {
		m.Record(warningAbout(fmt.Sprintf("web-%d", i)))
		clock = clock.Add(time.Second)
	}
	if got := testutil.CollectAndCount(m.warning); got != 100 {
		t.Fatalf("%d warning series, want 100", got)
	}
	if got := testutil.ToFloat64(m.evicted); got != 150 {
		t.Fatalf("evicted %v, want 150", got)
	}
	// The kept ones count on, from where they were.
	m.Record(warningAbout("web-249"))
	if got := testutil.ToFloat64(m.warning.WithLabelValues("Unhealthy", "Pod", "web-249", "shop")); got != 2 {
		t.Fatalf("web-249 counted %v, want 2", got)
	}

	// An hour later only what was counted since is kept; failure classes are bounded too.
	clock = clock.Add(time.Hour + time.Minute)
	oom := &corev1.Event{Type: corev1.EventTypeWarning, Reason: "OOMKilling", InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	m.Record(oom)
	if got := testutil.CollectAndCount(m.warning); got != 0 {
		t.Fatalf("%d warning series an hour after the last event, want 0", got)
	}
	if got := testutil.CollectAndCount(m.failure); got != 1 {
		t.Fatalf("%d error series, want 1", got)
	}
	if m.Series() != 1 {
		t.Fatalf("tracking %d series, want 1", m.Series())
	}

	// 0 and 0: kube-eventer's unbounded behaviour, on request.
	m2 := NewEventMetrics(prometheus.NewRegistry())
	m2.SeriesTTL, m2.MaxSeries = 0, 0
	for i := 0; i < 300; i++ {
		m2.Record(warningAbout(fmt.Sprintf("api-%d", i)))
	}
	if got := testutil.CollectAndCount(m2.warning); got != 300 {
		t.Fatalf("%d series with no bounds, want 300", got)
	}
}

// Normal events have no per-object label: never evicted.
func TestNormalEventsAreNotTracked(t *testing.T) {
	m := NewEventMetrics(prometheus.NewRegistry())
	m.MaxSeries = 1
	for i := 0; i < 10; i++ {
		m.Record(&corev1.Event{Type: corev1.EventTypeNormal, Reason: "Pulled", ObjectMeta: metav1.ObjectMeta{Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: fmt.Sprintf("web-%d", i)}})
	}
	if m.Series() != 0 || testutil.CollectAndCount(m.normal) != 1 {
		t.Fatalf("series %d, normal %d", m.Series(), testutil.CollectAndCount(m.normal))
	}
}
