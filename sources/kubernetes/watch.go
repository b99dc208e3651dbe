package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// DefaultBackoff is client-go's reflector backoff: 0.8 s doubling to 30 s, fully jittered, reset
// after two minutes without failures.
var DefaultBackoff = wait.Backoff{Duration: 800 * time.Millisecond, Factor: 2, Jitter: 1, Steps: 38, Cap: 30 * time.Second}

const backoffReset = 2 * time.Minute

// nsWatch is one reflector (list + watch of events in one namespace, or in all) feeding one store.
type nsWatch struct {
	namespace string
	store     *store
	health    *health
	lw        *observedLW
	clock     clock.Clock
	backoff   wait.Backoff
}

// run lists and watches until ctx is done. It is cache.Reflector.RunWithContext with two
// differences: the error handler is herald's (the reflector has no setter for it outside a
// SharedInformer, whose store would hold every object), and the wait between attempts runs on
// the injected clock, so tests drive a relist without sleeping.
func (w *nsWatch) run(ctx context.Context) {
	b := w.backoff
	r := cache.NewReflectorWithOptions(w.lw, &corev1.Event{}, w.store, cache.ReflectorOptions{
		Name:            "herald events in " + scopeText(w.namespace),
		TypeDescription: "core/v1 Event",
		Clock:           w.clock,
		Backoff:         &b,
	})
	delay := w.backoff.DelayWithReset(w.clock, backoffReset)
	for {
		if err := r.ListAndWatchWithContext(ctx); err != nil && ctx.Err() == nil {
			w.onWatchError(ctx, r, err)
		}
		if ctx.Err() != nil {
			return
		}
		t := w.clock.NewTimer(delay())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// onWatchError is the cache.WatchErrorHandlerWithContext for this watch: called when
// ListAndWatch gives up (a failed list, a watch that cannot start), before the backoff.
func (w *nsWatch) onWatchError(_ context.Context, _ *cache.Reflector, err error) {
	switch {
	case isExpired(err):
		w.health.expired(err) // the watch request's resourceVersion is compacted: relist
		return
	case w.health.seen(err):
		return // the watch wrapper already recorded it
	}
	w.health.failed("list", err)
}

// health tracks whether one list+watch works: for Ready, the error counter and the log, which
// says when it breaks, at most once a minute while it stays broken, and when it recovers.
type health struct {
	scope   string
	metrics *Metrics
	clock   clock.PassiveClock
	failLog *logEvery

	mu       sync.Mutex
	up       bool // the last watch request succeeded and nothing failed since
	failures int  // consecutive
	since    time.Time
	last     error
}

func newHealth(scope string, m *Metrics, c clock.PassiveClock) *health {
	return &health{scope: scope, metrics: m, clock: c, failLog: newLogEvery(c, time.Minute)}
}

// watching records an established watch.
func (h *health) watching() {
	h.mu.Lock()
	n, since := h.failures, h.since
	h.up, h.failures, h.last = true, 0, nil
	h.mu.Unlock()
	if n > 0 {
		h.failLog.reset()
		glog.Infof("kubernetes source: watching events in %s again, after %d failed attempts over %s", scopeText(h.scope), n, h.clock.Since(since).Round(time.Second))
	}
}

// interrupted records a watch stream that ended; the reflector starts the next one at once.
func (h *health) interrupted() {
	h.mu.Lock()
	h.up = false
	h.mu.Unlock()
}

// failed records a failed list or watch.
func (h *health) failed(op string, err error) {
	h.mu.Lock()
	h.up = false
	if h.failures == 0 {
		h.since = h.clock.Now()
	}
	h.failures++
	n, since := h.failures, h.since
	h.last = err
	h.mu.Unlock()
	h.metrics.watchErrors.Inc()
	ok, _ := h.failLog.allow()
	switch {
	case !ok:
	case n == 1:
		glog.Warningf("kubernetes source: cannot %s events in %s: %s%s; retrying with backoff", op, scopeText(h.scope), describe(err), hint(err))
	default:
		glog.Warningf("kubernetes source: still cannot watch events in %s: %d failed attempts since %s; last (%s): %s%s", scopeText(h.scope), n, since.Format(time.RFC3339), op, describe(err), hint(err))
	}
}

// expired records a watch the API server ended with 410 Gone: routine, not a failure; the
// reflector relists and the store delivers only what changed.
func (h *health) expired(err error) {
	glog.Infof("kubernetes source: the watch of events in %s expired (%s); relisting", scopeText(h.scope), describe(err))
}

// seen reports whether err is the failure recorded last.
func (h *health) seen(err error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last != nil && errors.Is(err, h.last)
}

func (h *health) isUp() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// describe is err's text, or its HTTP status and reason when the server sent no message.
func describe(err error) string {
	if s := err.Error(); s != "" {
		return s
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return fmt.Sprintf("HTTP %d %s", status.Status().Code, status.Status().Reason)
	}
	return fmt.Sprintf("%T", err)
}

func isExpired(err error) bool { return apierrors.IsResourceExpired(err) || apierrors.IsGone(err) }

// hint adds the fix for the failures an operator can fix.
func hint(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return " (grant herald's ServiceAccount get, list and watch on events: a ClusterRole, or with namespaces= a Role in each namespace)"
	case apierrors.IsUnauthorized(err):
		return " (the API server rejected the credentials: check the ServiceAccount token or the kubeconfig)"
	}
	return ""
}

// observedLW lists and watches events through the clientset and reports each watch's success or
// failure to health. List failures reach health through onWatchError.
type observedLW struct {
	events      typedcorev1.EventInterface
	health      *health
	noWatchList bool // the client cannot stream lists (the fake clientset)
}

var (
	_ cache.ListerWatcher            = (*observedLW)(nil)
	_ cache.ListerWatcherWithContext = (*observedLW)(nil)
)

// List is cache.Lister; the reflector calls ListWithContext.
func (o *observedLW) List(opts metav1.ListOptions) (runtime.Object, error) {
	return o.ListWithContext(context.Background(), opts)
}

// Watch is cache.Watcher; the reflector calls WatchWithContext.
func (o *observedLW) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return o.WatchWithContext(context.Background(), opts)
}

// ListWithContext lists events.
func (o *observedLW) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	l, err := o.events.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	// One page at a time (the reflector pages the list): what herald never reads is dropped
	// before the pages pile up into the whole list.
	for i := range l.Items {
		trimEvent(&l.Items[i])
	}
	return l, nil
}

// trimEvent drops what herald never reads from an event as it is decoded: managedFields (a few
// hundred bytes per event, often more than the event itself).
func trimEvent(ev *corev1.Event) {
	ev.ManagedFields = nil
}

// WatchWithContext starts a watch and observes the errors it reports.
func (o *observedLW) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := o.events.Watch(ctx, opts)
	if err != nil {
		if ctx.Err() == nil && !isExpired(err) {
			o.health.failed("watch", err)
		}
		return nil, err
	}
	if isEmptyWatch(w) {
		// client-go's answer when every retry of the request ended in EOF or a reset (a
		// link or a load balancer in between is gone): no error, a watch that is closed.
		if ctx.Err() == nil {
			o.health.failed("watch", errConnectionClosed)
		}
		return w, nil
	}
	o.health.watching()
	return newObservedWatch(ctx, w, o.health), nil
}

// errConnectionClosed is what herald reports when the API server's connection closed before
// any answer on every retry.
var errConnectionClosed = errors.New("the connection to the API server was closed before it answered, on every retry (EOF or reset: a network cut, or a proxy or load balancer in between that lost the API server)")

// emptyWatchType is the type of watch.NewEmptyWatch(), which client-go's REST client returns in
// place of an error when a watch request keeps failing with EOF.
var emptyWatchType = reflect.TypeOf(watch.NewEmptyWatch())

func isEmptyWatch(w watch.Interface) bool { return reflect.TypeOf(w) == emptyWatchType }

// IsWatchListSemanticsUnSupported tells the reflector whether the client can stream lists
// (watch-list); see k8s.io/client-go/util/watchlist.
func (o *observedLW) IsWatchListSemanticsUnSupported() bool { return o.noWatchList }

// observedWatch passes a watch's events through, noting the errors it carries.
type observedWatch struct {
	inner watch.Interface
	out   chan watch.Event
	done  chan struct{}
	once  sync.Once
}

func newObservedWatch(ctx context.Context, inner watch.Interface, h *health) *observedWatch {
	w := &observedWatch{inner: inner, out: make(chan watch.Event), done: make(chan struct{})}
	go w.loop(ctx, h)
	return w
}

func (w *observedWatch) loop(ctx context.Context, h *health) {
	defer close(w.out)
	in := w.inner.ResultChan()
	for {
		select {
		case <-w.done:
			return
		case e, ok := <-in:
			if !ok {
				if ctx.Err() == nil {
					// The stream ended (a server timeout, or the connection broke): down
					// until the next watch is established, without counting a failure.
					h.interrupted()
				}
				return
			}
			if ev, ok := e.Object.(*corev1.Event); ok {
				trimEvent(ev)
			}
			if e.Type == watch.Error && ctx.Err() == nil {
				if err := apierrors.FromObject(e.Object); isExpired(err) {
					h.expired(err)
				} else {
					h.failed("watch", err)
				}
			}
			select {
			case w.out <- e:
			case <-w.done:
				return
			}
		}
	}
}

// ResultChan is watch.Interface.
func (w *observedWatch) ResultChan() <-chan watch.Event { return w.out }

// Stop is watch.Interface; it stops the underlying watch and never blocks.
func (w *observedWatch) Stop() {
	w.once.Do(func() {
		close(w.done)
		w.inner.Stop()
	})
}
