package kubernetes

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

func newTestStore(emit func(*core.Event), history *podHistory) (*store, *Metrics) {
	m := NewMetrics(nil)
	if emit == nil {
		emit = func(*core.Event) {}
	}
	return newStore(storeOptions{cluster: "c", emit: emit, clock: clocktesting.NewFakeClock(t0), metrics: m, history: history}), m
}

func TestStoreSkipsMalformedObjects(t *testing.T) {
	got := &collector{}
	s, m := newTestStore(got.emit, newPodHistory(3, 10))
	noUID := podEvent(1, "default", "web-1", "BackOff", 1, 0)
	noUID.UID = ""
	good := podEvent(2, "default", "web-2", "BackOff", 1, 0)
	var nilEvent *corev1.Event
	odd := []any{nil, nilEvent, noUID, &corev1.Pod{}, "text", cache.DeletedFinalStateUnknown{Key: "x"}}

	// In an initial list...
	if err := s.Replace(append(slices.Clone(odd), good), ""); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || counter(m.initial) != 1 || counter(m.skipped) != len(odd) {
		t.Errorf("after a list with %d malformed objects: tracked %d, initial %d, skipped %d; want 1, 1, %d",
			len(odd), s.Len(), counter(m.initial), counter(m.skipped), len(odd))
	}
	// ...and in every watch notification.
	for _, o := range odd {
		for _, op := range []func(any) error{s.Add, s.Update, s.Delete} {
			if err := op(o); err != nil {
				t.Errorf("%T: %v", o, err)
			}
		}
	}
	if s.Len() != 1 || len(got.all()) != 0 {
		t.Errorf("malformed notifications changed the store: tracked %d, delivered %d", s.Len(), len(got.all()))
	}
	if want := len(odd) * 4; counter(m.skipped) != want {
		t.Errorf("skipped = %d, want %d", counter(m.skipped), want)
	}
	// A tombstone around a real event is unwrapped.
	if err := s.Delete(cache.DeletedFinalStateUnknown{Key: "default/x", Obj: good}); err != nil || s.Len() != 0 {
		t.Errorf("a tombstone did not delete its event: err %v, tracked %d", err, s.Len())
	}
}

// Events with a UID that is not a canonical UUID are tracked as well, by their text.
func TestStoreTracksNonUUIDUIDs(t *testing.T) {
	got := &collector{}
	s, _ := newTestStore(got.emit, nil)
	if err := s.Replace(nil, ""); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []types.UID{"custom-uid", "AAAAAAAA-0000-4000-8000-000000000001"} {
		ev := podEvent(1, "default", "web-1", "BackOff", 1, 0)
		ev.UID = uid
		_ = s.Add(ev)
		_ = s.Update(ev.DeepCopy())
		ev2 := ev.DeepCopy()
		ev2.Count = 2
		_ = s.Update(ev2)
		if c, ok := s.counts()[uid]; !ok || c != 2 {
			t.Errorf("counts()[%q] = %d, %v; want 2", uid, c, ok)
		}
	}
	if n := len(got.all()); n != 4 {
		t.Errorf("delivered %d, want 4 (an add and a count bump for each)", n)
	}
}

func TestStateAdvances(t *testing.T) {
	base := state{count: 3, series: 1, last: 100}
	for _, tc := range []struct {
		name string
		now  state
		want bool
	}{
		{"same", base, false},
		{"count up", state{count: 4, series: 1, last: 100}, true},
		{"series up", state{count: 3, series: 2, last: 100}, true},
		{"later", state{count: 3, series: 1, last: 101}, true},
		{"count down, no later time", state{count: 2, series: 1, last: 100}, false},
		{"earlier", state{count: 3, series: 1, last: 99}, false},
	} {
		if got := tc.now.advancedFrom(base); got != tc.want {
			t.Errorf("%s: advancedFrom = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStateOf(t *testing.T) {
	ev := podEvent(1, "default", "web-1", "BackOff", 7, 0)
	ev.Series = &corev1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(t0)}
	if s := stateOf(ev); s.count != 7 || s.series != 3 || s.last != core.LastSeen(ev).UnixNano() {
		t.Errorf("stateOf = %+v", s)
	}
	if s := stateOf(&corev1.Event{}); s != (state{}) {
		t.Errorf("an event without count or time: %+v, want the zero state", s)
	}
}

// bytesPerTrackedEvent fills a store with n events through an initial list and returns the heap
// the store keeps per event once the listed objects are garbage.
func bytesPerTrackedEvent(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, _ := newTestStore(nil, nil)
	fill(s, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// fill lists n events into s; the events are garbage when it returns.
func fill(s *store, n int) {
	list := make([]any, n)
	for i := range list {
		list[i] = podEvent(i, "default", fmt.Sprintf("web-%d", i), "BackOff", 1, 0)
	}
	_ = s.Replace(list, "")
}

// The store keeps a few dozen bytes per event, not the events: 50,000 events must cost well under
// 100 bytes each (a 16-byte UID key and 16 bytes of state, plus the map's own overhead).
func TestMemoryPerTrackedEvent(t *testing.T) {
	per := bytesPerTrackedEvent(50_000)
	t.Logf("%.1f bytes per tracked event with 50,000 events", per)
	if per > 100 {
		t.Errorf("%.1f bytes per tracked event, want under 100", per)
	}
}

func TestPodHistoryIsBounded(t *testing.T) {
	h := newPodHistory(3, 2)
	ev := func(n int, pod string, at time.Duration) *corev1.Event {
		return podEvent(n, "default", pod, fmt.Sprintf("R%d", n), 1, at)
	}
	// Out of order, as an initial list delivers them: the 3 latest stay.
	for i, at := range []time.Duration{5, 1, 4, 2, 3} {
		h.put(ev(i+1, "a", at*time.Second))
	}
	if got := reasons(h.recent("default", "a")); !slices.Equal(got, []string{"R5", "R3", "R1"}) {
		t.Errorf("pod a = %v, want R5 R3 R1 (times 3s, 4s, 5s), oldest first", got)
	}
	// The same UID again replaces, not adds.
	h.put(podEvent(1, "default", "a", "R1-again", 2, 6*time.Second))
	if got := reasons(h.recent("default", "a")); !slices.Equal(got, []string{"R5", "R3", "R1-again"}) {
		t.Errorf("after an update pod a = %v", got)
	}
	// A third pod pushes out the least recently active one (a, since b is newer).
	h.put(ev(10, "b", 0))
	h.put(ev(11, "c", 0))
	if got := h.recent("default", "a"); got != nil {
		t.Errorf("pod a kept after two newer pods with maxPods=2: %v", reasons(got))
	}
	if len(h.recent("default", "b")) != 1 || len(h.recent("default", "c")) != 1 {
		t.Errorf("pods b and c should be kept")
	}
	// Deleting the last event of a pod drops the pod.
	h.remove(ev(10, "b", 0))
	if h.recent("default", "b") != nil || len(h.pods) != 1 || h.order.Len() != 1 {
		t.Errorf("pod b kept after its only event was deleted")
	}
	// retain drops what a relist no longer has, only within its namespace.
	other := podEvent(20, "other", "x", "R20", 1, 0)
	h.put(other)
	h.retain("default", func(types.UID) bool { return false })
	if h.recent("default", "c") != nil || len(h.recent("other", "x")) != 1 {
		t.Errorf("retain(default) = c %v, other/x %v", h.recent("default", "c"), h.recent("other", "x"))
	}
}

func reasons(evs []*corev1.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

func TestFailureLogIsRateLimited(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	l := newLogEvery(c, time.Minute)
	if ok, held := l.allow(); !ok || held != 0 {
		t.Fatalf("first line: allow = %v, %d", ok, held)
	}
	for range 5 {
		c.Step(5 * time.Second)
		if ok, _ := l.allow(); ok {
			t.Fatalf("a line within the minute was allowed at %v", c.Now())
		}
	}
	c.Step(time.Minute)
	if ok, held := l.allow(); !ok || held != 5 {
		t.Errorf("after a minute: allow = %v, held %d; want true, 5", ok, held)
	}
	l.reset()
	if ok, _ := l.allow(); !ok {
		t.Errorf("after reset the next line is not allowed")
	}
}

// Events lose their managedFields as they are decoded, by every path: a list page, a streamed
// list (the store's transformer) and a watch.
func TestManagedFieldsAreDropped(t *testing.T) {
	ev := podEvent(1, "default", "web-1", "BackOff", 1, 0)
	ev.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
	s := newStore(storeOptions{emit: func(*core.Event) {}, clock: clocktesting.NewFakeClock(t0), metrics: NewMetrics(nil)})
	if err := s.Replace(nil, "1"); err != nil { // synced: a relist keeps whole events
		t.Fatal(err)
	}
	out, err := s.Transformer()(ev)
	if err != nil || out.(*corev1.Event).ManagedFields != nil || out.(*corev1.Event).Reason != "BackOff" {
		t.Errorf("transformer gave %+v, %v; want the event without managedFields", out, err)
	}
}
