package kubernetes

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// benchStore is a store tracking n events, and the events as the watch would send them.
func benchStore(b *testing.B, n int) (*store, []*corev1.Event, *int) {
	delivered := new(int)
	s, _ := newTestStore(func(*core.Event) { *delivered++ }, nil)
	evs := make([]*corev1.Event, n)
	list := make([]any, n)
	for i := range evs {
		evs[i] = podEvent(i, "default", fmt.Sprintf("web-%d", i), "BackOff", 1, 0)
		evs[i].ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
		list[i] = evs[i]
	}
	if err := s.Replace(list, ""); err != nil {
		b.Fatal(err)
	}
	return s, evs, delivered
}

// The compare-and-emit path for a repeat that is delivered: look up the state, see the count
// advanced, store the new state, normalise a copy, wrap it in a core.Event and emit it.
func BenchmarkStoreUpdateDelivered(b *testing.B) {
	s, evs, delivered := benchStore(b, 50_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.Count++ // the watch's object is new each time; the store only reads it
		_ = s.Update(ev)
	}
	b.StopTimer()
	if *delivered != b.N {
		b.Fatalf("delivered %d of %d", *delivered, b.N)
	}
}

// The path for an update that changed only metadata: look up, compare, drop.
func BenchmarkStoreUpdateUnchanged(b *testing.B) {
	s, evs, delivered := benchStore(b, 50_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = s.Update(evs[i%len(evs)])
	}
	b.StopTimer()
	if *delivered != 0 {
		b.Fatalf("delivered %d unchanged updates", *delivered)
	}
}

// A relist of 50,000 events of which none changed.
func BenchmarkStoreRelist50k(b *testing.B) {
	s, evs, _ := benchStore(b, 50_000)
	list := make([]any, len(evs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, ev := range evs {
			list[j] = ev
		}
		_ = s.Replace(list, "")
	}
}

// Heap held per tracked event with 50,000 events (runtime.MemStats before and after).
func BenchmarkTrackedEventMemory(b *testing.B) {
	var per float64
	for i := 0; i < b.N; i++ {
		per = bytesPerTrackedEvent(50_000)
	}
	b.ReportMetric(per, "bytes/event")
}
