package kubernetes

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"
)

func TestInitialListIsRecordedNotDelivered(t *testing.T) {
	old1 := podEvent(1, "default", "web-1", "BackOff", 4, -time.Minute)
	old2 := podEvent(2, "kube-system", "dns-1", "Unhealthy", 1, -2*time.Minute)
	h := newHarness(t, Config{}, old1, old2)
	if h.src.Ready() {
		t.Fatal("Ready before Run")
	}
	h.start()
	w := h.nextWatch()
	eventually(t, "ready after the initial list and the watch", h.src.Ready)

	if got := h.got.uids(); len(got) != 0 {
		t.Fatalf("events present at start were delivered: %v", got)
	}
	if n := counter(h.metrics.initial); n != 2 {
		t.Errorf(`events_total{outcome="initial"} = %d, want 2`, n)
	}
	if n := counter(h.metrics.tracked); n != 2 {
		t.Errorf("tracked_events = %d, want 2", n)
	}

	// A new event after the initial list is delivered, once, with the cluster name.
	fresh := podEvent(3, "default", "web-2", "FailedScheduling", 1, time.Second)
	w.w.Add(fresh)
	eventually(t, "the new event delivered", func() bool { return len(h.got.all()) == 1 })
	e := h.got.all()[0]
	if e.UID != fresh.UID || e.Cluster != "test-cluster" || e.Reason != "FailedScheduling" {
		t.Errorf("delivered %s/%s reason %q cluster %q, want the new event with cluster test-cluster", e.Namespace, e.Name, e.Reason, e.Cluster)
	}
	if !e.Observed.Equal(h.clock.Now()) {
		t.Errorf("Observed = %v, want the source clock's now %v", e.Observed, h.clock.Now())
	}

	// The same Added again (a watch re-established at an older point) is not a second delivery.
	w.w.Add(fresh.DeepCopy())
	eventually(t, "the repeated add processed", func() bool { return counter(h.metrics.unchanged) == 1 })
	if got := h.got.uids(); !slices.Equal(got, []string{delivery(3, 1)}) {
		t.Errorf("deliveries = %v, want only the new event once", got)
	}
	if n := counter(h.metrics.delivered); n != 1 {
		t.Errorf(`events_total{outcome="delivered"} = %d, want 1`, n)
	}
}

func TestUpdatesDeliverOnlyWhenTheEventRepeats(t *testing.T) {
	ev := podEvent(1, "default", "web-1", "BackOff", 3, -time.Minute)
	h := newHarness(t, Config{}, ev)
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)

	// Metadata only: a label, an annotation, a new resourceVersion. Not a delivery.
	meta := ev.DeepCopy()
	meta.Labels = map[string]string{"touched": "yes"}
	meta.Annotations = map[string]string{"a": "b"}
	meta.ResourceVersion = "2"
	meta.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	w.w.Modify(meta)
	eventually(t, "the metadata-only update processed", func() bool { return counter(h.metrics.unchanged) == 1 })
	if got := h.got.uids(); len(got) != 0 {
		t.Fatalf("a metadata-only update was delivered: %v", got)
	}

	// The count advances: delivered.
	bumped := meta.DeepCopy()
	bumped.Count = 4
	bumped.LastTimestamp = metav1.NewTime(t0)
	w.w.Modify(bumped)
	eventually(t, "the count bump delivered", func() bool { return len(h.got.all()) == 1 })

	// Only lastTimestamp advances (a writer that does not count): delivered.
	later := bumped.DeepCopy()
	later.LastTimestamp = metav1.NewTime(t0.Add(time.Minute))
	w.w.Modify(later)
	eventually(t, "the lastTimestamp advance delivered", func() bool { return len(h.got.all()) == 2 })

	// An events.k8s.io/v1 style series advances: delivered.
	series := later.DeepCopy()
	series.Series = &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(t0.Add(time.Minute))}
	w.w.Modify(series)
	eventually(t, "the series count advance delivered", func() bool { return len(h.got.all()) == 3 })

	// The same state again: not delivered.
	w.w.Modify(series.DeepCopy())
	eventually(t, "the repeat processed", func() bool { return counter(h.metrics.unchanged) == 2 })
	if got := h.got.uids(); !slices.Equal(got, []string{delivery(1, 4), delivery(1, 4), delivery(1, 4)}) {
		t.Errorf("deliveries = %v, want the three advances only", got)
	}
	if mf := h.got.all()[0].ManagedFields; mf != nil {
		t.Errorf("delivered event keeps managedFields %v", mf)
	}
}

func TestDeleteForgetsTheEvent(t *testing.T) {
	a := podEvent(1, "default", "web-1", "BackOff", 3, -time.Minute)
	b := podEvent(2, "default", "web-2", "BackOff", 1, -time.Minute)
	h := newHarness(t, Config{}, a, b)
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)

	w.w.Delete(a)
	eventually(t, "the delete processed", func() bool { return h.src.Tracked() == 1 })
	if h.src.tracks(a.UID) {
		t.Errorf("the deleted event is still tracked")
	}
	if n := counter(h.metrics.tracked); n != 1 {
		t.Errorf("tracked_events = %d, want 1", n)
	}
	// Once forgotten, the same event coming back (re-created with the same UID) is news again.
	w.w.Add(a.DeepCopy())
	eventually(t, "the re-added event delivered", func() bool { return len(h.got.all()) == 1 })
	if got := h.got.uids(); !slices.Equal(got, []string{delivery(1, 3)}) {
		t.Errorf("deliveries = %v", got)
	}
}

// A 410 Gone on the watch makes the reflector relist. The relist delivers exactly the events that
// are new or advanced while the watch was gone, forgets those that are gone, and delivers nothing
// twice.
func TestGoneOnTheWatchRelistsWithoutDuplicates(t *testing.T) {
	a := podEvent(1, "default", "web-1", "BackOff", 3, -time.Minute)   // unchanged throughout
	b := podEvent(2, "default", "web-2", "Unhealthy", 1, -time.Minute) // advances while the watch is gone
	c := podEvent(3, "default", "web-3", "Killing", 1, -time.Minute)   // deleted while the watch is gone
	h := newHarness(t, Config{PodEvents: 10}, a, b, c)
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)

	// Delivered over the watch before it expires.
	d := podEvent(4, "default", "web-4", "OOMKilling", 1, time.Second)
	h.create(d)
	w.w.Add(d)
	eventually(t, "the watched event delivered", func() bool { return len(h.got.all()) == 1 })

	// What happens while the watch is gone: b repeats, c expires, e is new.
	b2 := b.DeepCopy()
	b2.Count, b2.LastTimestamp = 2, metav1.NewTime(t0.Add(2*time.Second))
	h.update(b2)
	h.remove(c)
	e := podEvent(5, "default", "web-5", "FailedMount", 1, 3*time.Second)
	h.create(e)

	listsBefore := h.lists()
	w.w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version: 1 (5)"})
	next := h.nextWatch()
	eventually(t, "the relist processed", func() bool { return counter(h.metrics.relists) == 1 })

	if h.lists() != listsBefore+1 {
		t.Errorf("list requests went from %d to %d, want one relist", listsBefore, h.lists())
	}
	want := []string{delivery(4, 1), delivery(2, 2), delivery(5, 1)} // relist deliveries in time order
	if got := h.got.uids(); !slices.Equal(got, want) {
		t.Errorf("deliveries = %v, want %v", got, want)
	}
	if got, want := h.src.Tracked(), 4; got != want { // a, b, d, e
		t.Errorf("tracked = %d, want %d (the deleted event forgotten)", got, want)
	}
	if h.src.tracks(c.UID) {
		t.Errorf("the event deleted while the watch was gone is still tracked")
	}
	if got := h.src.RecentEvents("default", "web-3"); len(got) != 0 {
		t.Errorf("pod history keeps the deleted event: %v", got)
	}
	if n := counter(h.metrics.watchErrors); n != 0 {
		t.Errorf("watch_errors_total = %d; an expiry is routine, not an error", n)
	}
	if !h.src.Ready() {
		t.Errorf("not ready after the relist")
	}

	// The new watch carries on; a second expiry with nothing changed delivers nothing.
	next.w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonGone})
	h.nextWatch()
	eventually(t, "the second relist processed", func() bool { return counter(h.metrics.relists) == 2 })
	if got := h.got.uids(); !slices.Equal(got, want) {
		t.Errorf("after a relist with nothing new, deliveries = %v, want still %v", got, want)
	}
	if n := counter(h.metrics.unchanged); n < 4 {
		t.Errorf(`events_total{outcome="unchanged"} = %d, want the 4 relisted events counted`, n)
	}
}

// A 410 can also come from the watch request itself (the resourceVersion is compacted before the
// watch starts); the result is the same: a relist, no error, no duplicate.
func TestGoneFromTheWatchRequestRelists(t *testing.T) {
	a := podEvent(1, "default", "web-1", "BackOff", 3, -time.Minute)
	h := newHarness(t, Config{}, a)
	h.failWatches(apierrors.NewResourceExpired("too old resource version"))
	h.failLists(func(n int) error {
		if n == 2 {
			h.failWatches(nil) // the relist gets a fresh resourceVersion; its watch works
		}
		return nil
	})
	h.start()
	h.nextWatch()
	eventually(t, "ready", h.src.Ready)
	if h.lists() != 2 {
		t.Errorf("list requests = %d, want 2 (the initial list and one relist)", h.lists())
	}
	if n := counter(h.metrics.watchErrors); n != 0 {
		t.Errorf("watch_errors_total = %d, want 0 for an expiry", n)
	}
	if got := h.got.uids(); len(got) != 0 {
		t.Errorf("the relist re-delivered %v", got)
	}
}

// When the API server restarts, the watch ends; the reflector watches again from the last
// resourceVersion it saw, without a list, so nothing is delivered twice.
func TestWatchResumesFromItsResourceVersion(t *testing.T) {
	h := newHarness(t, Config{}, podEvent(1, "default", "web-1", "BackOff", 1, -time.Minute))
	h.listRV = "10"
	h.start()
	w := h.nextWatch()
	if w.rv != "10" {
		t.Errorf("first watch from resourceVersion %q, want the list's 10", w.rv)
	}
	eventually(t, "ready", h.src.Ready)
	ev := podEvent(2, "default", "web-2", "BackOff", 1, time.Second)
	ev.ResourceVersion = "11"
	w.w.Add(ev)
	eventually(t, "delivered", func() bool { return len(h.got.all()) == 1 })

	w.w.Stop() // the server goes away: the stream ends
	again := h.nextWatch()
	if again.rv != "11" {
		t.Errorf("watch resumed from resourceVersion %q, want 11", again.rv)
	}
	if h.lists() != 1 {
		t.Errorf("list requests = %d, want 1: a resumed watch needs no relist", h.lists())
	}
	again.w.Add(ev.DeepCopy()) // the server replays the last event it sent
	eventually(t, "the replayed event processed", func() bool { return counter(h.metrics.unchanged) == 1 })
	if got := h.got.uids(); !slices.Equal(got, []string{delivery(2, 1)}) {
		t.Errorf("deliveries = %v, want the event once", got)
	}
}

func TestReadyFollowsTheWatch(t *testing.T) {
	h := newHarness(t, Config{}, podEvent(1, "default", "web-1", "BackOff", 1, -time.Minute))
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", errors.New("RBAC: access denied"))
	h.failLists(func(int) error { return forbidden })
	h.start()
	eventually(t, "the failed list counted", func() bool { return counter(h.metrics.watchErrors) >= 1 })
	if h.src.Ready() {
		t.Fatal("ready although the list fails")
	}
	// Several retries, each counted; the log says it once a minute at most (see TestFailureLogIsRateLimited).
	for counter(h.metrics.watchErrors) < 3 {
		if h.clock.HasWaiters() {
			h.clock.Step(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	if h.src.Ready() {
		t.Fatal("ready although the list still fails")
	}

	h.failLists(nil)
	w := h.nextWatch()
	eventually(t, "ready once list and watch work", h.src.Ready)

	// A watch that breaks with a server error makes the source unready until a watch is up again.
	h.failWatches(apierrors.NewServiceUnavailable("apiserver is shutting down"))
	errorsBefore := counter(h.metrics.watchErrors)
	w.w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 500, Reason: metav1.StatusReasonInternalError, Message: "etcd leader changed"})
	eventually(t, "unready after the watch error", func() bool { return !h.src.Ready() })
	for counter(h.metrics.watchErrors) < errorsBefore+2 {
		if h.clock.HasWaiters() {
			h.clock.Step(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	if h.src.Ready() {
		t.Fatal("ready while watch requests fail")
	}
	h.failWatches(nil)
	h.nextWatch()
	eventually(t, "ready again", h.src.Ready)
}

// A network cut between herald and the API server: the watch stream ends, and client-go answers
// each new watch request, after its own retries, with an empty watch instead of an error. The
// source must count that as a failure and be unready until a real watch is up again.
func TestReadyFalseWhileWatchesComeBackEmpty(t *testing.T) {
	h := newHarness(t, Config{})
	var mu sync.Mutex
	cut := false
	h.client.PrependWatchReactor("events", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		return cut, watch.NewEmptyWatch(), nil
	})
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)
	errorsBefore := counter(h.metrics.watchErrors)
	mu.Lock()
	cut = true
	mu.Unlock()
	w.w.Stop() // the stream ends
	for deadline := time.Now().Add(20 * time.Second); counter(h.metrics.watchErrors) < errorsBefore+2; {
		if time.Now().After(deadline) {
			t.Fatalf("empty watches were not counted as failures (%v failures)", counter(h.metrics.watchErrors)-errorsBefore)
		}
		if h.clock.HasWaiters() {
			h.clock.Step(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	if h.src.Ready() {
		t.Fatal("ready while every watch request comes back empty")
	}
	mu.Lock()
	cut = false
	mu.Unlock()
	for len(h.watchers) == 0 {
		if h.clock.HasWaiters() {
			h.clock.Step(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	h.nextWatch()
	eventually(t, "ready again once a watch is up", h.src.Ready)
}

// A nil, foreign or UID-less object on the watch is skipped with a log line, never a panic, and
// the watch goes on.
func TestMalformedWatchObjectsAreSkipped(t *testing.T) {
	h := newHarness(t, Config{})
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)

	noUID := podEvent(1, "default", "web-1", "BackOff", 1, time.Second)
	noUID.UID = ""
	w.w.Add(noUID)
	w.w.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "not-an-event", UID: "x"}}) // dropped by the reflector's type check
	good := podEvent(2, "default", "web-2", "BackOff", 1, time.Second)
	w.w.Add(good)
	eventually(t, "the good event delivered", func() bool { return len(h.got.all()) == 1 })
	if got := h.got.uids(); !slices.Equal(got, []string{delivery(2, 1)}) {
		t.Errorf("deliveries = %v", got)
	}
	if n := counter(h.metrics.skipped); n != 1 {
		t.Errorf(`events_total{outcome="skipped"} = %d, want 1 (the event without a UID)`, n)
	}
}

func TestEventWithoutLastTimestampIsNormalisedOnDelivery(t *testing.T) {
	h := newHarness(t, Config{})
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)

	// As events.k8s.io/v1 writers create them: eventTime, no lastTimestamp, no count.
	ev := podEvent(1, "default", "web-1", "Scheduled", 0, 0)
	ev.LastTimestamp, ev.FirstTimestamp = metav1.Time{}, metav1.Time{}
	ev.EventTime = metav1.NewMicroTime(t0.Add(-5 * time.Second))
	ev.Message = strings.Repeat("x", MaxMessageBytes+10)
	w.w.Add(ev)
	eventually(t, "delivered", func() bool { return len(h.got.all()) == 1 })
	got := h.got.all()[0]
	if !got.LastTimestamp.Time.Equal(ev.EventTime.Time) {
		t.Errorf("LastTimestamp = %v, want the eventTime %v", got.LastTimestamp, ev.EventTime)
	}
	if len(got.Message) > MaxMessageBytes || !strings.Contains(got.Message, "truncated") {
		t.Errorf("message of %d bytes not capped with a marker", len(got.Message))
	}
}

func TestNamespacesAreWatchedSeparately(t *testing.T) {
	inA := podEvent(1, "a", "web-1", "BackOff", 1, -time.Minute)
	inB := podEvent(2, "b", "web-1", "BackOff", 1, -time.Minute)
	inC := podEvent(3, "c", "web-1", "BackOff", 1, -time.Minute)
	h := newHarness(t, Config{Namespaces: []string{"a", "b"}}, inA, inB, inC)
	h.start()
	w1, w2 := h.nextWatch(), h.nextWatch()
	eventually(t, "ready", h.src.Ready)
	if got := h.src.Tracked(); got != 2 {
		t.Errorf("tracked = %d, want 2 (namespace c not watched)", got)
	}
	var namespaces []string
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "list" {
			namespaces = append(namespaces, a.GetNamespace())
		}
	}
	slices.Sort(namespaces)
	if !slices.Equal(namespaces, []string{"a", "b"}) {
		t.Errorf("listed namespaces %v, want a and b", namespaces)
	}
	// A relist in one namespace forgets nothing in the other.
	w1.w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired})
	h.nextWatch()
	eventually(t, "relisted", func() bool { return counter(h.metrics.relists) == 1 })
	if got := h.src.Tracked(); got != 2 {
		t.Errorf("after a relist in one namespace tracked = %d, want 2", got)
	}
	_ = w2
}

func TestRecentPodEventsIncludeTheInitialList(t *testing.T) {
	var objs []runtime.Object
	for i := range 5 {
		objs = append(objs, podEvent(i+1, "default", "web-1", "BackOff", 1, time.Duration(i)*time.Second-time.Hour))
	}
	node := podEvent(10, "", "node-1", "NodeNotReady", 1, 0)
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
	objs = append(objs, node)
	h := newHarness(t, Config{PodEvents: 3}, objs...)
	h.start()
	w := h.nextWatch()
	eventually(t, "ready", h.src.Ready)
	got := h.src.RecentEvents("default", "web-1")
	if len(got) != 3 || got[0].UID != uidFor(3) || got[2].UID != uidFor(5) {
		t.Fatalf("RecentEvents = %v, want the 3 latest of 5, oldest first", names(got))
	}
	w.w.Add(podEvent(6, "default", "web-1", "Killing", 1, time.Second))
	eventually(t, "delivered", func() bool { return len(h.got.all()) == 1 })
	got = h.src.RecentEvents("default", "web-1")
	if len(got) != 3 || got[2].UID != uidFor(6) {
		t.Errorf("RecentEvents after a new event = %v, want it last", names(got))
	}
	if got := h.src.RecentEvents("", "node-1"); got != nil {
		t.Errorf("a Node's events are kept: %v", names(got))
	}
}

func names(evs []*corev1.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.UID)[24:]+":"+e.Reason)
	}
	return out
}

func TestNewRejectsAnIncompleteConfig(t *testing.T) {
	_, err := New(Config{PodEvents: -1})
	if err == nil {
		t.Fatal("New accepted a config without client, emit, and a negative PodEvents")
	}
	for _, want := range []string{"Config.Client", "Config.Emit", "PodEvents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
