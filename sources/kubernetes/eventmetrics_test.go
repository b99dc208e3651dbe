package kubernetes

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// gathered returns the series of the family name that reg holds, by their label values
// joined with "/" in the order reason/kind/name/namespace (the exposition's order, sorted by
// label name, is kind/name/namespace/reason).
func gathered(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[strings.Join([]string{l["reason"], l["kind"], l["name"], l["namespace"]}, "/")] = m.GetCounter().GetValue()
		}
	}
	return out
}

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
	if got := len(gathered(t, reg, "eventer_events_warning_total")); got != 100 {
		t.Fatalf("%d warning series, want 100", got)
	}
	if _, ok := gathered(t, reg, "eventer_events_warning_total")["Unhealthy/Pod/web-149/shop"]; ok {
		t.Fatal("web-149, the 101st most recent, is still kept")
	}
	if got := testutil.ToFloat64(m.evicted); got != 150 {
		t.Fatalf("evicted %v, want 150", got)
	}
	// The kept ones count on, from where they were.
	m.Record(warningAbout("web-249"))
	if got := gathered(t, reg, "eventer_events_warning_total")["Unhealthy/Pod/web-249/shop"]; got != 2 {
		t.Fatalf("web-249 counted %v, want 2", got)
	}

	// An hour later only what was counted since is kept; failure classes are bounded too.
	clock = clock.Add(time.Hour + time.Minute)
	oom := &corev1.Event{Type: corev1.EventTypeWarning, Reason: "OOMKilling", InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	m.Record(oom)
	if got := len(gathered(t, reg, "eventer_events_warning_total")); got != 0 {
		t.Fatalf("%d warning series an hour after the last event, want 0", got)
	}
	if got := gathered(t, reg, "eventer_events_error_total"); len(got) != 1 || got["PodOOM/Node/node-1/"] != 1 {
		t.Fatalf("error series %v, want PodOOM/Node/node-1/ once", got)
	}
	if m.Series() != 1 {
		t.Fatalf("tracking %d series, want 1", m.Series())
	}

	// 0 and 0: kube-eventer's unbounded behaviour, on request.
	reg2 := prometheus.NewRegistry()
	m2 := NewEventMetrics(reg2)
	m2.SeriesTTL, m2.MaxSeries = 0, 0
	for i := 0; i < 300; i++ {
		m2.Record(warningAbout(fmt.Sprintf("api-%d", i)))
	}
	if got := len(gathered(t, reg2, "eventer_events_warning_total")); got != 300 {
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

// The counters read as kube-eventer's did: the same names, counter type,
// labels and values, whichever way herald keeps them.
func TestEventMetricsExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewEventMetrics(reg)
	m.Record(warningAbout("web-1"))
	m.Record(warningAbout("web-1"))
	m.Record(&corev1.Event{Type: corev1.EventTypeWarning, Reason: "BackOff", Message: "Back-off restarting failed container app",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "api-0"}})
	m.Record(&corev1.Event{Type: corev1.EventTypeNormal, Reason: "Pulled", ObjectMeta: metav1.ObjectMeta{Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1"}})
	want := `# HELP eventer_events_error_total kube-eventer's counter of events it classifies as a known failure; reason is the class (PodOOM, PodCrash, NodeNotReady, ...).
# TYPE eventer_events_error_total counter
eventer_events_error_total{kind="Pod",name="api-0",namespace="shop",reason="PodCrash"} 1
# HELP eventer_events_normal_total kube-eventer's counter of events that are neither Warning nor a known failure, by reason, the Event's namespace and the object's kind.
# TYPE eventer_events_normal_total counter
eventer_events_normal_total{kind="Pod",namespace="shop",reason="Pulled"} 1
# HELP eventer_events_warning_total kube-eventer's counter of Warning events that are not a known failure, by reason and object.
# TYPE eventer_events_warning_total counter
eventer_events_warning_total{kind="Pod",name="web-1",namespace="shop",reason="Unhealthy"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventer_events_error_total", "eventer_events_normal_total", "eventer_events_warning_total"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkEventMetricsStorm counts Warnings about 10,000 new objects, a storm's worst case for
// the per-object series, and reports the heap the kept series hold and the cost of counting.
func BenchmarkEventMetricsStorm(b *testing.B) {
	const objects = 10000
	events := make([]*corev1.Event, objects)
	for i := range events {
		events[i] = warningAbout(fmt.Sprintf("web-%d", i))
	}
	var held float64
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := NewEventMetrics(prometheus.NewRegistry())
		for _, e := range events {
			m.Record(e)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(m)
	}
	b.ReportMetric(held/objects, "heap-bytes/series")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*objects), "ns/event")
}
