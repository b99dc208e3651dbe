package kubernetes

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/core"
)

// state is what herald remembers of one event, 16 bytes: enough to tell a repeat that matters
// (count, lastTimestamp or series count advanced) from an update that changed only metadata.
type state struct {
	count  int32
	series int32
	last   int64 // UnixNano of lastSeen; 0 when the event carries no time at all
}

func stateOf(ev *corev1.Event) state {
	s := state{count: ev.Count}
	if ev.Series != nil {
		s.series = ev.Series.Count
	}
	if t := core.LastSeen(ev); !t.IsZero() {
		s.last = t.UnixNano()
	}
	return s
}

// advancedFrom reports whether the event happened again since old was recorded.
func (s state) advancedFrom(old state) bool {
	return s.count > old.count || s.series > old.series || s.last > old.last
}

// stateMap holds the state of tracked events, UUID-keyed ones compactly.
type stateMap struct {
	uuids  map[uuidKey]state
	others map[string]state
}

func newStateMap(size int) stateMap {
	return stateMap{uuids: make(map[uuidKey]state, size), others: map[string]state{}}
}

func (m stateMap) get(k uidKey) (state, bool) {
	if k.other != "" {
		s, ok := m.others[k.other]
		return s, ok
	}
	s, ok := m.uuids[k.uuid]
	return s, ok
}

func (m stateMap) put(k uidKey, s state) {
	if k.other != "" {
		m.others[k.other] = s
		return
	}
	m.uuids[k.uuid] = s
}

func (m stateMap) remove(k uidKey) {
	if k.other != "" {
		delete(m.others, k.other)
		return
	}
	delete(m.uuids, k.uuid)
}

func (m stateMap) len() int { return len(m.uuids) + len(m.others) }

// store is the cache.ReflectorStore the reflector writes into. It keeps a compact state per event
// UID instead of the objects, and turns the reflector's Add/Update/Delete/Replace calls into
// deliveries: new events and events whose count, lastTimestamp or series count advanced are
// emitted once; events present at start-up and metadata-only updates are not.
//
// The reflector calls the store from one goroutine; States, Len and Synced may be called from
// any goroutine.
type store struct {
	scope    string // namespace watched, "" for all; for logs and the pod history
	cluster  string
	emit     func(*core.Event)
	emitWait func(*core.Event) bool // Config.EmitWait
	clock    clock.PassiveClock
	metrics  *Metrics
	history  *podHistory // nil when disabled

	skipLog *logEvery

	mu     sync.RWMutex
	states stateMap
	synced bool   // the first Replace (the initial list) is done
	since  *Since // consulted by the first Replace only
	// sinceIgnored is Config.SinceIgnored.
	sinceIgnored func()
	ttl          time.Duration // the API server's --event-ttl, to tell a gap

	// position is the resourceVersion up to which every event this store will deliver has been
	// emitted: the list's, then each watch notification's and bookmark's. 0 before the first list.
	position atomic.Uint64
}

var (
	_ cache.ReflectorStore         = (*store)(nil)
	_ cache.ResourceVersionUpdater = (*store)(nil)
	_ cache.TransformingStore      = (*store)(nil)
)

// Transformer is cache.TransformingStore: the reflector applies it to each event of a streamed
// list (WatchList, client-go's default where the API server supports it) as it arrives, before
// the whole list is held at once. See transform.
func (s *store) Transformer() cache.TransformFunc { return s.transform }

type storeOptions struct {
	scope    string
	cluster  string
	emit     func(*core.Event)
	emitWait func(*core.Event) bool
	clock    clock.PassiveClock
	metrics  *Metrics
	history  *podHistory
	since    *Since
	// sinceIgnored is called when since is ignored (Config.SinceIgnored).
	sinceIgnored func()
	ttl          time.Duration
}

func newStore(o storeOptions) *store {
	return &store{
		scope:   o.scope,
		cluster: o.cluster,
		emit:    o.emit,
		clock:   o.clock,

		emitWait: o.emitWait,
		metrics:  o.metrics,
		history:  o.history,
		since:    o.since,
		ttl:      o.ttl,

		sinceIgnored: o.sinceIgnored,
		skipLog:      newLogEvery(o.clock, time.Minute),
		states:       newStateMap(0),
	}
}

// Add handles an event the watch reports as added.
func (s *store) Add(obj any) error { s.upsert(obj, "add"); return nil }

// Update handles an event the watch reports as modified.
func (s *store) Update(obj any) error { s.upsert(obj, "update"); return nil }

func (s *store) upsert(obj any, op string) {
	ev, k, ok := s.accept(obj, op)
	if !ok {
		return
	}
	now := stateOf(ev)
	s.mu.Lock()
	old, known := s.states.get(k)
	s.states.put(k, now)
	synced := s.synced
	s.mu.Unlock()
	if !known {
		s.metrics.tracked.Inc()
	}
	switch {
	case !synced:
		// Not expected (the reflector lists before it watches), but if it happens the event
		// belongs to the state herald found, not to what happens from now on.
		s.metrics.initial.Inc()
		s.remember(ev)
	case known && !now.advancedFrom(old):
		s.metrics.unchanged.Inc()
	default:
		s.deliver(ev)
	}
}

// Delete forgets an event the API server deleted (expired, usually after an hour).
func (s *store) Delete(obj any) error {
	ev, k, ok := s.accept(obj, "delete")
	if !ok {
		return nil
	}
	s.mu.Lock()
	_, known := s.states.get(k)
	s.states.remove(k)
	s.mu.Unlock()
	if known {
		s.metrics.tracked.Dec()
	}
	if s.history != nil {
		s.history.remove(ev)
	}
	return nil
}

// Replace takes a full list: the initial one at start-up, or a relist after a 410 Gone or a
// long disconnect. The initial list is recorded without delivering (no replay), except, when
// resuming from a checkpoint, what was written after it. A relist delivers what is new or advanced, forgets what is
// gone, and never delivers an unchanged event again.
func (s *store) Replace(list []any, listRV string) error {
	s.mu.RLock()
	initial := !s.synced
	old := s.states
	s.mu.RUnlock()
	since := s.since
	if initial && since != nil {
		since = s.checkSince(since, list, listRV)
	}
	next := newStateMap(len(list))
	var deliver []*corev1.Event
	var initialN, unchanged, kept int
	for _, obj := range list {
		if l, ok := obj.(*listedEvent); ok {
			// Only in an initial list, where the transformer already remembered it.
			if _, dup := next.get(l.key); !dup {
				next.put(l.key, l.state)
				initialN++
			}
			continue
		}
		ev, k, ok := s.accept(obj, "list")
		if !ok {
			continue
		}
		now := stateOf(ev)
		var prev state
		var known bool
		if !initial {
			prev, known = old.get(k)
		}
		if _, dup := next.get(k); dup {
			continue
		}
		next.put(k, now)
		if known && !initial {
			kept++
		}
		switch {
		case initial && since != nil && resourceVersion(ev) > since.ResourceVersion:
			// Written while herald was down: deliver.
			deliver = append(deliver, ev)
		case initial:
			// Present at start (and, resuming, written at or before the checkpoint: delivered then).
			initialN++
			s.remember(ev)
		case known && !now.advancedFrom(prev):
			unchanged++
			s.remember(ev)
		default:
			deliver = append(deliver, ev)
		}
	}
	s.mu.Lock()
	s.states = next
	s.synced = true
	s.since = nil
	s.mu.Unlock()

	gone := 0
	if !initial {
		gone = old.len() - kept
	}
	s.metrics.tracked.Add(float64(next.len() - old.len()))
	s.metrics.initial.Add(float64(initialN))
	s.metrics.unchanged.Add(float64(unchanged))
	if s.history != nil && gone > 0 {
		s.history.retain(s.scope, func(uid types.UID) bool { _, ok := next.get(keyOf(uid)); return ok })
	}

	resuming := initial && since != nil
	if resuming {
		// Resuming: in the order the API server wrote them, the order a watch would have
		// delivered them in. Everything at or below the checkpoint was delivered before.
		sort.SliceStable(deliver, func(i, j int) bool { return resourceVersion(deliver[i]) < resourceVersion(deliver[j]) })
		s.UpdateResourceVersion(strconv.FormatUint(since.ResourceVersion, 10))
	} else {
		// Deliver in the order the events happened, not in the list's name order.
		sort.SliceStable(deliver, func(i, j int) bool { return core.LastSeen(deliver[i]).Before(core.LastSeen(deliver[j])) })
	}
	// A catch-up: waits for room in the sinks' queues rather than dropping what does not fit.
	for i, ev := range deliver {
		if !s.catchUp(ev) {
			glog.Infof("kubernetes source: stopping in the middle of a catch-up in %s: %d of %d events handed over; the checkpoint stays below the rest", scopeText(s.scope), i, len(deliver))
			return nil
		}
		if resuming {
			// In resourceVersion order: everything up to this one is handed over, so a
			// checkpoint saved now (or a SIGKILL) resumes after it, not from the start.
			s.UpdateResourceVersion(ev.ResourceVersion)
		}
	}
	s.UpdateResourceVersion(listRV)

	switch {
	case initial && since != nil:
		glog.Infof("kubernetes source: resuming events in %s after resourceVersion %d (checkpoint of %s): %d written since delivered, %d older recorded, not delivered again", scopeText(s.scope), since.ResourceVersion, since.Time.Format(time.RFC3339), len(deliver), initialN)
	case initial:
		glog.Infof("kubernetes source: initial list of events in %s: %d recorded, not delivered (herald delivers what happens from now on)", scopeText(s.scope), initialN)
	default:
		s.metrics.relists.Inc()
		glog.Infof("kubernetes source: relisted events in %s: %d listed, %d new or changed delivered, %d unchanged, %d gone", scopeText(s.scope), next.len(), len(deliver), unchanged, gone)
	}
	return nil
}

// Resync is part of cache.ReflectorStore; the source runs without periodic resyncs.
func (s *store) Resync() error { return nil }

// accept checks that obj is an event herald can track; anything else is logged and skipped.
func (s *store) accept(obj any, op string) (*corev1.Event, uidKey, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	ev, ok := obj.(*corev1.Event)
	var why string
	switch {
	case !ok:
		why = fmt.Sprintf("an object of type %T, not a v1 Event", obj)
	case ev == nil:
		why = "a nil event"
	case ev.UID == "":
		why = fmt.Sprintf("event %s/%s without a UID", ev.Namespace, ev.Name)
	default:
		return ev, keyOf(ev.UID), true
	}
	s.metrics.skipped.Inc()
	if ok, held := s.skipLog.allow(); ok {
		glog.Warningf("kubernetes source: skipping %s in a watch %s in %s (%d more skipped since the last such line)", why, op, scopeText(s.scope), held)
	}
	return nil, uidKey{}, false
}

// deliver normalises ev and hands it to the pipeline.
func (s *store) deliver(ev *corev1.Event) {
	s.emit(s.prepare(ev))
}

// catchUp is deliver for a catch-up: through emitWait when there is one. False: herald is
// stopping and ev was not handed to every sink.
func (s *store) catchUp(ev *corev1.Event) bool {
	if s.emitWait == nil {
		s.deliver(ev)
		return true
	}
	return s.emitWait(s.prepare(ev))
}

// prepare normalises ev into the event the pipeline gets, and counts it.
func (s *store) prepare(ev *corev1.Event) *core.Event {
	now := s.clock.Now()
	out := normalise(ev, now)
	if s.history != nil && isPodEvent(out) {
		s.history.put(out)
	}
	s.metrics.delivered.Inc()
	return &core.Event{Event: out, Cluster: s.cluster, Observed: now, Position: resourceVersion(ev)}
}

// UpdateResourceVersion is cache.ResourceVersionUpdater: the reflector calls it after each watch
// notification and bookmark, once the store has handled everything up to rv.
func (s *store) UpdateResourceVersion(rv string) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return
	}
	for {
		cur := s.position.Load()
		if n <= cur || s.position.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Position is the resourceVersion up to which the store has emitted every event it will
// deliver; 0 before the initial list.
func (s *store) Position() uint64 { return s.position.Load() }

// resourceVersion is ev's resourceVersion as a number (etcd's revision), 0 when it is not one.
func resourceVersion(ev *corev1.Event) uint64 {
	n, err := strconv.ParseUint(ev.ResourceVersion, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// remember keeps a Pod's event in the pod history without delivering it.
func (s *store) remember(ev *corev1.Event) {
	if s.history != nil && isPodEvent(ev) {
		s.history.put(normalise(ev, s.clock.Now()))
	}
}

// Len is how many events the store tracks.
func (s *store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.states.len()
}

// Synced reports whether the initial list has been stored.
func (s *store) Synced() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.synced
}

func scopeText(namespace string) string {
	if namespace == "" {
		return "all namespaces"
	}
	return fmt.Sprintf("namespace %q", namespace)
}
