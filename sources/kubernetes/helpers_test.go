package kubernetes

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

// t0 is the fake clock's start; event times are set relative to it.
var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

// uidFor returns a canonical UUID-shaped UID for n.
func uidFor(n int) types.UID {
	return types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012x", n))
}

// podEvent is a core/v1 Event about pod `pod` in namespace ns, seen count times, last at t0+last.
func podEvent(n int, ns, pod, reason string, count int32, last time.Duration) *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:            fmt.Sprintf("%s.%x", pod, n),
			Namespace:       ns,
			UID:             uidFor(n),
			ResourceVersion: "1",
		},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: ns, Name: pod},
		Reason:         reason,
		Message:        reason + " for " + pod,
		Type:           corev1.EventTypeWarning,
		Count:          count,
		FirstTimestamp: metav1.NewTime(t0.Add(-time.Hour)),
		LastTimestamp:  metav1.NewTime(t0.Add(last)),
		Source:         corev1.EventSource{Component: "kubelet"},
	}
}

// collector is an Emit that records what it gets.
type collector struct {
	mu     sync.Mutex
	events []*core.Event
}

func (c *collector) emit(e *core.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func (c *collector) all() []*core.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*core.Event(nil), c.events...)
}

// uids lists the delivered events' UIDs and counts, in delivery order: "uid#count".
func (c *collector) uids() []string {
	var out []string
	for _, e := range c.all() {
		out = append(out, fmt.Sprintf("%s#%d", e.UID, e.Count))
	}
	return out
}

func delivery(n int, count int32) string { return fmt.Sprintf("%s#%d", uidFor(n), count) }

// eventually polls cond until it holds, failing the test after a generous bound. It waits for
// asynchronous delivery; it does not measure time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func counter(c prometheus.Collector) int { return int(testutil.ToFloat64(c)) }

// harness runs a Source against a fake clientset whose event watches the test drives by hand.
type harness struct {
	t        *testing.T
	client   *fake.Clientset
	clock    *clocktesting.FakeClock
	got      *collector
	metrics  *Metrics
	src      *Source
	watchers chan *watchCall
	listRV   string // resourceVersion the list reports
	listN    atomic.Int32

	mu       sync.Mutex
	failList func(n int) error // list requests fail with its error (n counts list requests, from 1)
	failWat  func() error      // watch requests fail with its error
	cancel   context.CancelFunc
	done     chan struct{}
}

// watchCall is one watch request the source made and the fake watch that answers it.
type watchCall struct {
	rv string
	w  *watch.FakeWatcher
}

var (
	eventsGVR = corev1.SchemeGroupVersion.WithResource("events")
	eventsGVK = corev1.SchemeGroupVersion.WithKind("Event")
)

func newHarness(t *testing.T, cfg Config, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{
		t:        t,
		client:   fake.NewClientset(objs...),
		clock:    clocktesting.NewFakeClock(t0),
		got:      &collector{},
		metrics:  NewMetrics(prometheus.NewRegistry()),
		watchers: make(chan *watchCall, 16),
		done:     make(chan struct{}),
	}
	h.client.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := int(h.listN.Add(1))
		h.mu.Lock()
		fail := h.failList
		h.mu.Unlock()
		if fail != nil {
			if err := fail(n); err != nil {
				return true, nil, err
			}
		}
		obj, err := h.client.Tracker().List(eventsGVR, eventsGVK, a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		l := obj.(*corev1.EventList)
		l.ResourceVersion = h.listRV
		return true, l, nil
	})
	h.client.PrependWatchReactor("events", func(a k8stesting.Action) (bool, watch.Interface, error) {
		h.mu.Lock()
		fail := h.failWat
		h.mu.Unlock()
		if fail != nil {
			if err := fail(); err != nil {
				return true, nil, err
			}
		}
		w := watch.NewFakeWithChanSize(100, false)
		h.watchers <- &watchCall{rv: a.(k8stesting.WatchActionImpl).WatchRestrictions.ResourceVersion, w: w}
		return true, w, nil
	})
	cfg.Client = h.client
	cfg.Clock = h.clock
	cfg.Metrics = h.metrics
	cfg.Emit = h.got.emit
	if cfg.Cluster == "" {
		cfg.Cluster = "test-cluster"
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.src.Run(ctx)
		close(h.done)
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.t.Error("Run did not return after its context was cancelled")
	}
}

// nextWatch returns the next watch request, stepping the fake clock past any backoff the source
// waits out before making it.
func (h *harness) nextWatch() *watchCall {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case c := <-h.watchers:
			return c
		default:
		}
		if h.clock.HasWaiters() {
			h.clock.Step(time.Minute)
		}
		if time.Now().After(deadline) {
			h.t.Fatal("timed out waiting for a watch request")
		}
		time.Sleep(time.Millisecond)
	}
}

// lists counts the list requests made so far.
func (h *harness) lists() int { return int(h.listN.Load()) }

// failLists makes list requests fail with f's error (nil: succeed).
func (h *harness) failLists(f func(n int) error) {
	h.mu.Lock()
	h.failList = f
	h.mu.Unlock()
}

// failWatches makes watch requests fail with err (nil: succeed).
func (h *harness) failWatches(err error) {
	h.mu.Lock()
	h.failWat = func() error { return err }
	h.mu.Unlock()
}

// create stores ev in the fake API server (for later lists), without a watch notification.
func (h *harness) create(ev *corev1.Event) {
	h.t.Helper()
	if err := h.client.Tracker().Create(eventsGVR, ev, ev.Namespace); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) update(ev *corev1.Event) {
	h.t.Helper()
	if err := h.client.Tracker().Update(eventsGVR, ev, ev.Namespace); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remove(ev *corev1.Event) {
	h.t.Helper()
	if err := h.client.Tracker().Delete(eventsGVR, ev.Namespace, ev.Name); err != nil {
		h.t.Fatal(err)
	}
}
