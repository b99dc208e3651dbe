// Package kubernetes is herald's event source: it lists and watches core/v1 Events, delivers each
// new event and each repeat (count, lastTimestamp or series count advanced) once, survives watch
// expiry, API server restarts and network cuts without losing or re-sending events, and never
// blocks on sinks.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/watchlist"
	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/core"
)

// DefaultPodEventPods is how many pods the pod event history covers when Config.PodEvents is set
// and Config.PodEventPods is not.
const DefaultPodEventPods = 1000

// Config is what New needs.
type Config struct {
	// Client reads events; cmd/herald builds it from ClientConfig and shares it.
	Client kubernetes.Interface
	// Namespaces limits the watch to these namespaces (one watch each); empty watches all.
	Namespaces []string
	// Cluster is --cluster-name, set on every emitted event.
	Cluster string
	// Emit receives every delivered event. It must not block (the pipeline's non-blocking Push)
	// and must be safe for concurrent use: each namespace is watched by its own goroutine. The
	// event is new and belongs to the receiver; nobody else mutates it.
	Emit func(*core.Event)
	// EmitWait receives what a catch-up delivers: the events written while herald was down
	// (Since) and what a relist finds new or changed. It may block until the sinks have room
	// (core.Pipeline.PushWait), so the backlog is read at the pace of the slowest sink instead
	// of overflowing its queue; it returns false when herald is stopping, and the source then
	// keeps its position below that event. Nil: Emit.
	EmitWait func(*core.Event) bool
	// Metrics are shared by all sources; nil creates an unregistered set.
	Metrics *Metrics
	// Clock drives the backoff between attempts, log rate limits and Event.Observed; nil is the
	// real clock.
	Clock clock.Clock
	// Backoff between failed list/watch attempts; nil is DefaultBackoff.
	Backoff *wait.Backoff

	// Since is a checkpoint (core.Pipeline's watermark, saved by cmd/herald): when set, the
	// initial list delivers the events written after Since.ResourceVersion (created or updated
	// while herald was down) and records the others. Nil: nothing is replayed.
	Since *Since
	// SinceIgnored is called (before any event of the initial list is emitted) when Since is
	// ignored because it belongs to another store (etcd replaced or restored): whoever skips
	// events at or below a checkpoint position must stop, or new events would be lost.
	SinceIgnored func()
	// EventTTL is the API server's --event-ttl (default DefaultEventTTL): resuming from a
	// checkpoint older than this reports the expired window as a gap.
	EventTTL time.Duration

	// PodEvents keeps the last PodEvents events of each pod for RecentEvents (sources/podrestart
	// reads them); 0 keeps none.
	PodEvents int
	// PodEventPods bounds how many pods that history covers (the least recently active pod is
	// dropped first); 0 means DefaultPodEventPods.
	PodEventPods int
}

// Source is the event source. Create it with New and start it with Run.
type Source struct {
	since   *Since
	watches []*nsWatch
	history *podHistory
	running atomic.Bool
}

// New checks cfg and prepares the watches; nothing is contacted before Run.
func New(cfg Config) (*Source, error) {
	var errs []error
	if cfg.Client == nil {
		errs = append(errs, errors.New("kubernetes source: no API client (Config.Client is nil)"))
	}
	if cfg.Emit == nil {
		errs = append(errs, errors.New("kubernetes source: nowhere to deliver events (Config.Emit is nil)"))
	}
	if cfg.PodEvents < 0 || cfg.PodEventPods < 0 {
		errs = append(errs, fmt.Errorf("kubernetes source: PodEvents (%d) and PodEventPods (%d) must not be negative", cfg.PodEvents, cfg.PodEventPods))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	backoff := DefaultBackoff
	if cfg.Backoff != nil {
		backoff = *cfg.Backoff
	}
	s := &Source{since: cfg.Since}
	if cfg.PodEvents > 0 {
		pods := cfg.PodEventPods
		if pods == 0 {
			pods = DefaultPodEventPods
		}
		s.history = newPodHistory(cfg.PodEvents, pods)
	}
	namespaces := cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{corev1.NamespaceAll}
	}
	noWatchList := watchlist.DoesClientNotSupportWatchListSemantics(cfg.Client)
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		h := newHealth(ns, cfg.Metrics, cfg.Clock)
		s.watches = append(s.watches, &nsWatch{
			namespace: ns,
			store: newStore(storeOptions{
				scope: ns, cluster: cfg.Cluster, emit: cfg.Emit, emitWait: cfg.EmitWait, clock: cfg.Clock,
				metrics: cfg.Metrics, history: s.history,
				since: cfg.Since.forScope(ns), sinceIgnored: cfg.SinceIgnored, ttl: cfg.EventTTL,
			}),
			health:  h,
			lw:      &observedLW{events: cfg.Client.CoreV1().Events(ns), health: h, noWatchList: noWatchList},
			clock:   cfg.Clock,
			backoff: backoff,
		})
	}
	return s, nil
}

// Run lists and watches events until ctx is done. Call it once.
func (s *Source) Run(ctx context.Context) {
	if !s.running.CompareAndSwap(false, true) {
		glog.Errorf("kubernetes source: Run called twice; the second call does nothing")
		return
	}
	scopes := make([]string, len(s.watches))
	for i, w := range s.watches {
		scopes[i] = scopeText(w.namespace)
	}
	history := "off"
	if s.history != nil {
		history = fmt.Sprintf("last %d events of up to %d pods", s.history.perPod, s.history.maxPods)
	}
	start := "events present now are recorded, not replayed"
	if s.since != nil {
		start = fmt.Sprintf("events written after the checkpoint (resourceVersion %d, %s) are delivered, older ones recorded", s.since.ResourceVersion, s.since.Time.Format(time.RFC3339))
	}
	glog.Infof("kubernetes source: watching core/v1 Events in %s; %s; new events and repeats (count, lastTimestamp or series count advanced) are delivered; pod event history: %s",
		strings.Join(scopes, ", "), start, history)
	var wg sync.WaitGroup
	for _, w := range s.watches {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	glog.Infof("kubernetes source: stopped")
}

// Ready reports whether every watch has its initial list and is up: false before that, and
// while a watch is failing (/readyz reports it).
func (s *Source) Ready() bool {
	for _, w := range s.watches {
		if !w.store.Synced() || !w.health.isUp() {
			return false
		}
	}
	return true
}

// Positions are Position for each watch on its own, keyed by namespace ("" when the source
// watches all namespaces at once): a namespace where nothing happens moves only with the API
// server's bookmarks, and must not hold back the others' checkpoint. A watch that has not
// listed yet is 0.
func (s *Source) Positions() map[string]uint64 {
	out := make(map[string]uint64, len(s.watches))
	for _, w := range s.watches {
		out[w.namespace] = w.store.Position()
	}
	return out
}

// Scopes are the keys Positions will have for a source watching namespaces (none: all).
func Scopes(namespaces []string) []string {
	if len(namespaces) == 0 {
		return []string{corev1.NamespaceAll}
	}
	var out []string
	for _, ns := range namespaces {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// ScopeOf is the key of Positions that covers e: its namespace when namespaces are watched one
// by one, "" when all are watched at once.
func (s *Source) ScopeOf(e *core.Event) string {
	if len(s.watches) == 1 && s.watches[0].namespace == corev1.NamespaceAll {
		return corev1.NamespaceAll
	}
	return e.Namespace
}

// Position is the lowest of Positions: the resourceVersion up to which every watch has handed
// each event it delivers to Emit; 0 until every initial list is done. The checkpoint saves
// Positions, one per watched namespace, not this.
func (s *Source) Position() uint64 {
	var low uint64
	for i, w := range s.watches {
		p := w.store.Position()
		if i == 0 || p < low {
			low = p
		}
	}
	return low
}

// Tracked is how many events the source remembers.
func (s *Source) Tracked() int {
	n := 0
	for _, w := range s.watches {
		n += w.store.Len()
	}
	return n
}

// RecentEvents returns the pod's last events (at most Config.PodEvents), oldest first; nil when
// the history is off or holds nothing for the pod. The events are shared and read-only.
func (s *Source) RecentEvents(namespace, podName string) []*corev1.Event {
	if s.history == nil {
		return nil
	}
	return s.history.recent(namespace, podName)
}
