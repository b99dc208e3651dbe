package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
	"k8s.io/utils/clock"
)

// Matcher decides whether a sink receives an event (sinks/filter.Filter implements it).
type Matcher interface {
	Match(*Event) bool
}

// Backoff is the retry schedule for a failing sink: exponential from Initial to Max, with
// jitter (0.2 = up to 20% longer). While the receiver refuses the credential (Credential) the
// cap is CredentialMax instead: a person has to act, and a retry every few seconds only fills
// the receiver's logs.
type Backoff struct {
	Initial       time.Duration
	Max           time.Duration
	CredentialMax time.Duration
	Factor        float64
	Jitter        float64
}

// DefaultBackoff retries after 0.5 s, 1 s, 2 s, ... up to 10 s between attempts (5 min while the
// credential is refused): a handful of attempts a minute spares a sink that is down, and one
// that is back gets the backlog within 10 s. A Retry-After longer than that is honoured.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 10 * time.Second, CredentialMax: 5 * time.Minute, Factor: 2, Jitter: 0.2}

// PipelineConfig configures a Pipeline. Zero values take defaults.
type PipelineConfig struct {
	Clock   clock.Clock
	Metrics *Metrics
	Backoff Backoff
	// ExportTimeout bounds one Export attempt (default 30 s).
	ExportTimeout time.Duration
}

// Pipeline hands each event to every sink whose filter matches, through a bounded queue per
// sink, in batches of up to BatchSize events or FlushInterval of age, whichever comes first.
// Failed exports are retried with backoff until they succeed, fail permanently, or shutdown
// runs out of time. A slow or dead sink fills only its own queue.
type Pipeline struct {
	cfg PipelineConfig
	// runners is the current set of sinks, replaced as a whole (copy on write) when a sink is
	// added or removed while events flow; mu orders those changes.
	runners atomic.Pointer[[]*runner]
	mu      sync.Mutex
	started bool
	wg      sync.WaitGroup
	// stopping is closed by Shutdown: workers flush what is queued without waiting for batches
	// to fill.
	stopping chan struct{}
	// ctx is cancelled when the shutdown deadline passes: retries stop.
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	// offer holds each event while Push offers it to the sinks; each runner's own watermark
	// tracks what it has queued. Together they give the positions checkpoints save.
	offer *watermark
	// progress gets a signal (never blocking) each time a batch leaves a sink.
	progress chan struct{}
	// skip says what a sink had before a restart (SetSkip).
	skip atomic.Pointer[func(string, *Event) bool]
}

// NewPipeline returns a pipeline with no sinks.
func NewPipeline(cfg PipelineConfig) *Pipeline {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Backoff.CredentialMax == 0 {
		cfg.Backoff.CredentialMax = max(cfg.Backoff.Max, DefaultBackoff.CredentialMax)
	}
	if cfg.ExportTimeout == 0 {
		cfg.ExportTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{cfg: cfg, stopping: make(chan struct{}), ctx: ctx, cancel: cancel,
		offer: newWatermark(), progress: make(chan struct{}, 1)}
	p.runners.Store(&[]*runner{})
	return p
}

// list is the current set of sinks; callers must not modify it.
func (p *Pipeline) list() []*runner { return *p.runners.Load() }

// Add registers a sink under id (its name in logs and metrics). Before Start it waits for Start;
// after Start (a Receiver created while herald runs) its workers start at once and it receives
// the events pushed from then on. An id already present is an error.
func (p *Pipeline) Add(id string, s Sink, m Matcher, o SinkOptions) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.list() {
		if r.id == id {
			return fmt.Errorf("sink %s is already in the pipeline", id)
		}
	}
	select {
	case <-p.stopping:
		return fmt.Errorf("sink %s: the pipeline is shutting down", id)
	default:
	}
	r := p.newRunner(id, s, m, o)
	next := append(append([]*runner(nil), p.list()...), r)
	p.runners.Store(&next)
	if p.started {
		p.startRunner(r)
	}
	return nil
}

// Replace gives the sink id a new Sink and Matcher (a Receiver edited, a Secret rotated) and
// keeps its queue, its positions and its metrics: what was queued for the old sink goes to
// the new one. The old sink is closed once the export in flight with it has returned. Options
// are kept; to change them, Remove and Add.
func (p *Pipeline) Replace(id string, s Sink, m Matcher) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.list() {
		if r.id == id {
			old := r.swap(s, m)
			r.gate.retryNow() // the new sink may work where the old one failed: try it now
			go func() {
				r.exportMu.Lock() // the export with the old sink, if one is in flight, has returned
				r.exportMu.Unlock()
				if err := old.Close(); err != nil {
					glog.Warningf("sink %s: closing the replaced sink: %v", id, err)
				}
			}()
			return nil
		}
	}
	return fmt.Errorf("sink %s is not in the pipeline", id)
}

// SetMatcher changes which events the sink id receives, from the next Push on (a Route
// edited).
func (p *Pipeline) SetMatcher(id string, m Matcher) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.list() {
		if r.id == id {
			r.cur.Store(&bound{sink: r.current(), match: m})
			return nil
		}
	}
	return fmt.Errorf("sink %s is not in the pipeline", id)
}

// Remove takes the sink id out of the pipeline (its Receiver was deleted): it receives nothing
// more, delivers what it has queued until ctx ends, counts the rest as dropped (reason
// removed), closes the sink and deletes its gauges. Its positions leave the checkpoint.
func (p *Pipeline) Remove(ctx context.Context, id string) error {
	drain, err := p.Detach(id)
	if err != nil {
		return err
	}
	return drain(ctx)
}

// Detach is Remove in two steps: the sink leaves the pipeline at once (an Add under the same id
// may follow straight away), and drain delivers what it holds until ctx ends, then closes it.
func (p *Pipeline) Detach(id string) (drain func(context.Context) error, err error) {
	p.mu.Lock()
	var r *runner
	var rest []*runner
	for _, x := range p.list() {
		if x.id == id {
			r = x
		} else {
			rest = append(rest, x)
		}
	}
	if r == nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("sink %s is not in the pipeline", id)
	}
	p.runners.Store(&rest)
	started := p.started
	p.mu.Unlock()

	// An offer that read the old list may still queue an event: quit is closed after the
	// list changed, and the workers drain until their lanes are empty.
	r.stop()
	return func(ctx context.Context) error {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-r.done:
			case <-rctx.Done():
				r.cancel() // the export in flight ends; the lanes count what they hold as dropped
			}
		}()
		if started {
			<-r.done
		}
		err := r.current().Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, x := range p.list() {
			if x.id == id {
				return err // a new sink under this id owns the series now
			}
		}
		p.cfg.Metrics.deleteSink(id)
		return err
	}, nil
}

// newRunner builds the runner of a sink.
func (p *Pipeline) newRunner(id string, s Sink, m Matcher, o SinkOptions) *runner {
	if o.QueueSize <= 0 {
		o.QueueSize = 20000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	o.Concurrency = max(o.Concurrency, 1)
	r := &runner{id: id, opts: o, q: newQueue(o.QueueSize, o.Concurrency), p: p, wm: newWatermark(),
		quit: make(chan struct{}), done: make(chan struct{}), flushed: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(p.ctx)
	if o.Noise != nil {
		r.noise = newNoise(o.Noise)
	} else {
		close(r.flushed)
	}
	r.swap(s, m)
	r.health = newHealth(id, p.cfg.Metrics, p.cfg.Clock, o.CredentialHint, p.cfg.Backoff.CredentialMax)
	r.gate = newGate(p.cfg.Clock, p.cfg.Backoff)
	p.cfg.Metrics.queueCap.WithLabelValues(id).Set(float64(o.QueueSize))
	p.cfg.Metrics.initSink(id)
	return r
}

// Start starts the workers: one per lane of each sink (SinkOptions.Concurrency).
func (p *Pipeline) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = true
	for _, r := range p.list() {
		p.startRunner(r)
	}
}

// startRunner starts r's lanes; r.done is closed when all have returned.
func (p *Pipeline) startRunner(r *runner) {
	var lanes sync.WaitGroup
	if r.noise != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			r.flush()
		}()
	}
	for lane := range r.opts.Concurrency {
		p.wg.Add(1)
		lanes.Add(1)
		go func() {
			defer p.wg.Done()
			defer lanes.Done()
			r.run(lane)
		}()
	}
	go func() {
		lanes.Wait()
		close(r.done)
	}()
}

// Push offers e to every sink. It never blocks: a sink whose queue is full drops e and counts it.
// Push after Shutdown drops and counts too. Sources push live events with it.
func (p *Pipeline) Push(e *Event) { p.offerAll(nil, e) }

// PushWait is Push for a catch-up (a resume from a checkpoint, a relist after the watch
// expired): where a sink's queue has no room it waits for room instead of dropping, so the source
// reads its backlog at the pace of the slowest sink and nothing of it is dropped. It returns
// false when ctx ends or the pipeline shuts down first; e then has not reached every sink, and
// the caller must not move its position past e.
func (p *Pipeline) PushWait(ctx context.Context, e *Event) bool { return p.offerAll(ctx, e) }

// offerAll offers e to every sink; with a ctx it waits for room in full queues.
func (p *Pipeline) offerAll(ctx context.Context, e *Event) bool {
	m := p.cfg.Metrics
	m.received.Inc()
	// Hold e while it is offered, so a sink that finishes it early cannot release it before
	// the others have queued it.
	p.offer.hold(e, 1)
	defer p.offer.release(e)
	skip := p.skip.Load()
	for _, r := range p.list() {
		if skip != nil && e.Position != 0 && (*skip)(r.id, e) {
			// A resumed run replays from the lowest sink's checkpoint; this sink had this
			// event already.
			m.events.WithLabelValues(r.id, OutcomeSkipped, SkipDeliveredBefore).Inc()
			continue
		}
		if match := r.matcher(); match != nil && !match.Match(e) {
			m.events.WithLabelValues(r.id, OutcomeFiltered, "").Inc()
			continue
		}
		select {
		case <-p.stopping:
			m.events.WithLabelValues(r.id, OutcomeDropped, DropShutdown).Inc()
			if ctx != nil {
				return false
			}
			continue
		default:
		}
		r.wm.hold(e, 1)
		out := e
		if r.noise != nil {
			a, o, reason := r.noise.admit(e, p.cfg.Clock.Now())
			switch a {
			case admitSuppress:
				m.events.WithLabelValues(r.id, OutcomeSkipped, reason).Inc()
				r.wm.release(e)
				continue
			case admitHold: // held for its group's message (the flusher queues it)
				continue
			}
			out = o
		}
		if !r.q.push(out) {
			if ctx == nil || !r.waitAndPush(ctx, out) {
				r.wm.release(e)
				if ctx != nil {
					return false
				}
				m.events.WithLabelValues(r.id, OutcomeDropped, DropQueueFull).Inc()
				r.logDrop()
				continue
			}
		}
		m.queueLength.WithLabelValues(r.id).Set(float64(r.q.len()))
	}
	return true
}

// waitAndPush waits for room in r's queue and queues e; false when ctx ends or the pipeline
// stops first.
func (r *runner) waitAndPush(ctx context.Context, e *Event) bool {
	r.p.cfg.Metrics.waits.WithLabelValues(r.id).Inc()
	for {
		select {
		case <-r.q.space:
		case <-r.quit:
			return false
		case <-ctx.Done():
			return false
		}
		if r.q.push(e) {
			if r.q.hasRoom() {
				r.q.signalSpace()
			}
			return true
		}
	}
}

// Shutdown stops accepting events, delivers what is queued until shortly before ctx's deadline,
// counts the rest as dropped (reason shutdown), and closes every sink. It returns by ctx's
// deadline even when a sink ignores its context (a hung broker, a receiver that accepts and never
// answers): such a sink's batch in flight stays held, so the checkpoint stays below it, and its
// Close is abandoned.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.once.Do(func() { close(p.stopping) })
	runners := p.list()
	p.mu.Unlock()
	for _, r := range runners {
		r.stop()
	}
	// Keep a little of the time for cancelling exports and closing the sinks.
	deliverCtx, cancelDeliver := ctx, context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(closeReserve, time.Until(deadline)/5)
		deliverCtx, cancelDeliver = context.WithDeadline(ctx, deadline.Add(-reserve))
	}
	defer cancelDeliver()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-deliverCtx.Done():
		p.cancel()
		// Exports see their context end and return; give them until the deadline (at least
		// a moment when ctx had none).
		grace := closeReserve / 2
		if deadline, ok := ctx.Deadline(); ok {
			grace = max(time.Until(deadline), closeGrace)
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			for _, r := range runners {
				if r.exporting.Load() > 0 {
					glog.Errorf("sink %s: its export did not return when cancelled at the shutdown deadline (the receiver does not answer and the sink ignores its deadline); leaving it behind, its events stay held for the next run", r.id)
				}
			}
		}
	}
	p.cancel()
	errs := make([]error, len(runners))
	var wg sync.WaitGroup
	for i, r := range runners {
		wg.Go(func() {
			if err := r.current().Close(); err != nil {
				errs[i] = fmt.Errorf("closing sink %s: %w", r.id, err)
			}
		})
	}
	closed := make(chan struct{})
	go func() {
		wg.Wait()
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
		// A sink whose Close waits on a receiver that never answers must not hold the
		// process: the final checkpoint and the Lease release come after this.
		select {
		case <-closed:
		case <-time.After(closeGrace):
			errs = append(errs, errors.New("some sinks did not close by the shutdown deadline (a receiver that does not answer); exiting without waiting for them"))
		}
	}
	return errors.Join(errs...)
}

// closeReserve is the most of the shutdown time kept for cancelling exports and closing sinks;
// closeGrace is how long Shutdown still waits for Close calls once the deadline has passed.
const (
	closeReserve = time.Second
	closeGrace   = 100 * time.Millisecond
)

// Watermark is the pipeline's delivered position: one below the lowest Event.Position still
// queued or being delivered by some sink, or math.MaxUint64 when no tracked event is. Every event
// pushed with a position at or below it has left every sink (delivered, filtered, rejected, or
// dropped and counted). A checkpoint takes the smaller of this and the source's own position
// (read the source's first: what it has pushed is then held here or already gone).
func (p *Pipeline) Watermark() uint64 {
	low := p.offer.low()
	for _, r := range p.list() {
		low = min(low, r.wm.low())
	}
	return low
}

// SinkWatermarks is Watermark for each sink id on its own: every event pushed with a position at
// or below a sink's value has left that sink. A sink that is slow or down holds back only its
// own value, so a restart repeats nothing to the sinks that kept up.
func (p *Pipeline) SinkWatermarks() map[string]uint64 {
	offer := p.offer.low()
	runners := p.list()
	out := make(map[string]uint64, len(runners))
	for _, r := range runners {
		out[r.id] = min(offer, r.wm.low())
	}
	return out
}

// SetSkip tells the pipeline what each sink already had before a restart (from a checkpoint):
// Push skips an event (with a Position) for sink id when skip(id, e) is true, counting it as
// herald_sink_events_total{outcome="skipped",reason="delivered_before"}. Nil skips nothing
// (the checkpoint turned out not to belong to this API server). Safe to call at any time.
func (p *Pipeline) SetSkip(skip func(id string, e *Event) bool) {
	if skip == nil {
		p.skip.Store(nil)
		return
	}
	p.skip.Store(&skip)
}

// Progress signals (coalesced, never blocking the pipeline) each time a batch has left a sink:
// a checkpoint writer waits on it to save soon after delivery.
func (p *Pipeline) Progress() <-chan struct{} { return p.progress }

// QueueLengths returns the number of queued events per sink id.
func (p *Pipeline) QueueLengths() map[string]int {
	out := map[string]int{}
	for _, r := range p.list() {
		out[r.id] = r.q.len()
	}
	return out
}

// runner owns one sink: its filter, queue and worker.
type runner struct {
	id string
	// cur is the sink and its matcher, changed by Replace; exportMu is read-held while an
	// export runs, so Replace can close the old sink once no lane uses it.
	cur      atomic.Pointer[bound]
	exportMu sync.RWMutex
	opts     SinkOptions
	// quit is closed when the pipeline shuts down or the sink is removed: the lanes deliver
	// what they hold and return, then done is closed. ctx ends the sink's exports (the
	// pipeline's shutdown deadline, or a removal's).
	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	q        *queue
	p        *Pipeline
	// wm tracks the positions this sink has queued and not yet finished.
	wm *watermark
	// noise is the sink's noise control, nil without; flushed is closed when its flusher has
	// queued the last groups at stop (at once without noise control).
	noise   *noise
	flushed chan struct{}
	// health is whether the sink works: up/down, why, the log lines and herald_sink_up.
	health *health
	// gate gives the lanes one retry schedule while the sink fails.
	gate *gate
	// exporting counts the Export calls running (one per busy lane).
	exporting atomic.Int32

	dropMu      sync.Mutex
	lastDropLog time.Time
	dropsSince  int
}

// logDrop logs queue-full drops at most once every 10 s per sink, with the count since.
func (r *runner) logDrop() {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	r.dropsSince++
	now := r.p.cfg.Clock.Now()
	if now.Sub(r.lastDropLog) < 10*time.Second {
		return
	}
	glog.Warningf("sink %s: queue full (%d events): dropped %d event(s) since last report; the sink is slow or down (see herald_sink_events_total{sink=%q,outcome=\"dropped\"}); raise queue_size or fix the sink", r.id, r.opts.QueueSize, r.dropsSince, r.id)
	r.lastDropLog = now
	r.dropsSince = 0
}

func (r *runner) stopping() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// stop tells r's lanes to deliver what they hold and return.
func (r *runner) stop() { r.quitOnce.Do(func() { close(r.quit) }) }

// release lets the checkpoint pass events that have left the sink: a group's message
// releases the events it stands for.
func (r *runner) release(events []*Event) {
	for _, e := range events {
		if e.members != nil {
			r.wm.release(e.members...)
		} else {
			r.wm.release(e)
		}
	}
}

func (r *runner) isFlushed() bool {
	select {
	case <-r.flushed:
		return true
	default:
		return false
	}
}

// flush queues each group's message when it is due, until the sink stops; then it queues
// every group still held (a shutdown or removal delivers them rather than leave them to the
// next run) and closes flushed.
func (r *runner) flush() {
	defer close(r.flushed)
	clk := r.p.cfg.Clock
	m := r.p.cfg.Metrics
	for {
		stopping := r.stopping()
		reps, next := r.noise.due(clk.Now(), stopping)
		for _, rep := range reps {
			if rep.Folded > 0 {
				m.events.WithLabelValues(r.id, OutcomeSkipped, SkipGrouped).Add(float64(len(rep.members) - 1))
			}
			if !r.q.push(rep) && !r.waitAndPush(r.ctx, rep) {
				// Stopped while the queue was full: what the group held stays held (below the
				// checkpoint), for the next run.
				m.events.WithLabelValues(r.id, OutcomeDropped, DropShutdown).Add(float64(len(rep.members)))
			}
		}
		if stopping {
			return
		}
		var due <-chan time.Time
		var t clock.Timer
		if !next.IsZero() {
			t = clk.NewTimer(next.Sub(clk.Now()))
			due = t.C()
		}
		select {
		case <-due:
		case <-r.noise.wake:
		case <-r.quit:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// bound is a sink with its matcher.
type bound struct {
	sink  Sink
	match Matcher
}

// swap installs s and m and returns the sink they replace (nil the first time).
func (r *runner) swap(s Sink, m Matcher) Sink {
	old := r.cur.Swap(&bound{sink: s, match: m})
	if old == nil {
		return nil
	}
	return old.sink
}

func (r *runner) current() Sink    { return r.cur.Load().sink }
func (r *runner) matcher() Matcher { return r.cur.Load().match }

// run is the worker loop of one lane: take what is queued (at once when the sink was idle, or
// after waiting up to FlushInterval for a full batch with Linger), export it with retries,
// repeat. While an export is in flight new events queue up, so the next batch carries them
// all: batches grow with the load and an idle sink adds no delay. After Shutdown it drains its
// lane and returns.
func (r *runner) run(lane int) {
	clk := r.p.cfg.Clock
	notify := r.q.lanes[lane].notify
	for {
		first := r.q.oldest(lane)
		if first == nil {
			if r.stopping() && r.isFlushed() {
				return
			}
			select {
			case <-notify:
			case <-r.quit:
				<-r.flushed // the groups still held are queued before the lane may end
			}
			continue
		}
		// With Linger, wait until the batch is full, the oldest event is FlushInterval old, or
		// we are stopping. A queue smaller than a batch is full at its own size: waiting for
		// the flush interval would only slow a catch-up that is waiting for room.
		for r.opts.Linger && r.q.laneLen(lane) < min(r.opts.BatchSize, r.opts.QueueSize) && !r.stopping() {
			wait := r.opts.FlushInterval - clk.Since(first.Observed)
			if first.Observed.IsZero() || wait <= 0 {
				break
			}
			t := clk.NewTimer(wait)
			select {
			case <-t.C():
			case <-notify:
			case <-r.quit:
			}
			t.Stop()
			if clk.Since(first.Observed) >= r.opts.FlushInterval {
				break
			}
		}
		batch := r.q.take(lane, r.opts.BatchSize)
		r.p.cfg.Metrics.queueLength.WithLabelValues(r.id).Set(float64(r.q.len()))
		kept := r.deliver(batch)
		// Delivered or rejected: those events have left this sink. What the shutdown deadline
		// cut off stays held, so this sink's checkpoint stays below it and the next run
		// delivers it (to this sink only).
		if len(kept) == 0 {
			r.release(batch)
		} else {
			r.release(without(batch, kept))
		}
		select {
		case r.p.progress <- struct{}{}:
		default:
		}
	}
}

// deliver exports batch, retrying what failed retryably until it succeeds or the pipeline's
// context ends (shutdown deadline). It returns the events the deadline cut off.
//
// A retryable or credential error leaves the events queued and the sink down (herald_sink_up 0)
// until an attempt succeeds; only a permanent error is a verdict on the events themselves.
func (r *runner) deliver(batch []*Event) (kept []*Event) {
	m := r.p.cfg.Metrics
	clk := r.p.cfg.Clock
	b := r.p.cfg.Backoff
	attempt := 0
	for len(batch) > 0 {
		if r.ctx.Err() != nil {
			if r.p.ctx.Err() == nil {
				// Removed (its Receiver deleted) before this could be delivered.
				m.events.WithLabelValues(r.id, OutcomeDropped, DropRemoved).Add(float64(len(batch)))
				glog.Warningf("sink %s: removed with %d event(s) not delivered (counted as dropped, reason removed)", r.id, len(batch))
				return batch
			}
			m.events.WithLabelValues(r.id, OutcomeDropped, DropShutdown).Add(float64(len(batch)))
			glog.Errorf("sink %s: shutdown timeout reached: %d event(s) not delivered (counted as dropped, reason shutdown); with --checkpoint the next run delivers them to this sink", r.id, len(batch))
			return batch
		}
		// While the sink is down, wait for the retry to be due and for no other lane to be
		// trying; then this lane's attempt is the sink's probe.
		probe, ok := r.gate.acquire(r.ctx)
		if !ok {
			continue // the shutdown deadline passed: the loop's first check drops the batch
		}
		attempt++
		start := clk.Now()
		ctx, cancel := context.WithTimeout(r.ctx, r.p.cfg.ExportTimeout)
		r.exporting.Add(1)
		r.exportMu.RLock()
		err := safeExport(ctx, r.current(), batch)
		r.exportMu.RUnlock()
		r.exporting.Add(-1)
		timedOut := ctx.Err() == context.DeadlineExceeded && r.ctx.Err() == nil
		cancel()
		m.exportTime.WithLabelValues(r.id).Observe(clk.Since(start).Seconds())

		// Each event's fate: delivered, failed (retried), or rejected (never retried).
		failed, retryErr, rejected, rejectErr := Fates(err, batch)
		r.countDelivered(batch, append(append([]*Event(nil), failed...), rejected...))
		if len(failed)+len(rejected) < len(batch) {
			// Something got through: the sink works, whatever became of the rest.
			r.gate.succeeded(probe)
			r.health.succeeded(r.q.len() + len(failed))
		}
		if len(rejected) > 0 {
			m.errors.WithLabelValues(r.id, ErrorPermanent).Inc()
			m.events.WithLabelValues(r.id, OutcomeDropped, DropRejected).Add(float64(len(rejected)))
			glog.Errorf("sink %s: %d event(s) rejected, not retried: %v", r.id, len(rejected), rejectErr)
		}
		if len(failed) == 0 {
			if len(rejected) == len(batch) {
				// The receiver answered, so it is up; it refused these events only.
				r.gate.succeeded(probe)
				r.health.answered()
			}
			return nil
		}
		err = retryErr
		credential := IsCredential(err)
		kind, reason, limit := ErrorRetryable, ReasonError, b.Max
		switch {
		case credential:
			kind, reason, limit = ErrorCredential, ReasonCredential, b.CredentialMax
		case timedOut:
			reason = ReasonTimeout
		}
		m.errors.WithLabelValues(r.id, kind).Inc()
		m.retries.WithLabelValues(r.id).Inc()
		batch = failed
		var retryAfter time.Duration
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			retryAfter = ra.RetryAfter()
		}
		delay := r.gate.failed(probe, limit, retryAfter)
		r.health.failed(failure{err: err, reason: reason, attempt: attempt, delay: delay, batch: len(batch), queued: r.q.len()})
	}
	return nil
}

// without returns the events of batch not in drop.
func without(batch, drop []*Event) []*Event {
	skip := make(map[*Event]bool, len(drop))
	for _, e := range drop {
		skip[e] = true
	}
	out := make([]*Event, 0, len(batch)-len(drop))
	for _, e := range batch {
		if !skip[e] {
			out = append(out, e)
		}
	}
	return out
}

// countDelivered counts the events of batch not in failed as delivered, with their latency.
func (r *runner) countDelivered(batch, failed []*Event) {
	m := r.p.cfg.Metrics
	now := r.p.cfg.Clock.Now()
	notDelivered := make(map[*Event]bool, len(failed))
	for _, e := range failed {
		notDelivered[e] = true
	}
	n := 0
	for _, e := range batch {
		if notDelivered[e] {
			continue
		}
		n++
		if !e.Observed.IsZero() {
			m.latency.WithLabelValues(r.id).Observe(now.Sub(e.Observed).Seconds())
		}
	}
	if n > 0 {
		m.events.WithLabelValues(r.id, OutcomeDelivered, "").Add(float64(n))
	}
}

// safeExport calls Export, turning a panic in a sink into a permanent error so one bad event
// never stops the process.
func safeExport(ctx context.Context, s Sink, batch []*Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = Permanent(fmt.Errorf("sink panicked: %v", v))
		}
	}()
	return s.Export(ctx, batch)
}
