package checkpoint

import (
	"context"
	"sync"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
)

// Defaults for Writer.
const (
	// DefaultInterval is the shortest time between two saves to a ConfigMap, and how often the
	// writer looks for a position that moved without a delivery.
	DefaultInterval = time.Second
	DefaultRefresh  = 10 * time.Minute
)

// Metrics are the checkpoint writer's Prometheus metrics.
type Metrics struct {
	saves    prometheus.Counter
	failures prometheus.Counter
	position prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg (nil: not registered):
//
//	herald_checkpoint_saves_total
//	herald_checkpoint_save_errors_total
//	herald_checkpoint_resource_version
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		saves: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_checkpoint_saves_total", Help: "Checkpoints saved.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_checkpoint_save_errors_total", Help: "Checkpoint saves that failed (retried on the next tick).",
		}),
		position: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_checkpoint_resource_version", Help: "The resourceVersion last saved: every event at or below it has left every sink.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.saves, m.failures, m.position)
	}
	return m
}

// Target is one store a Writer saves to, and the shortest time between its saves: 0 saves
// after every delivered batch (a local file), a second spares the API server (a ConfigMap).
type Target struct {
	Store    Store
	Interval time.Duration
}

// Writer saves the delivered position to each of its targets: soon after a batch is delivered
// (at most once per target's Interval) and only when the position moved, on a poll for moves
// that come without deliveries (the source read past events no sink wanted), again when the
// saved time is older than Refresh (so the time stays a true "alive until"), and once more by
// Final at shutdown.
type Writer struct {
	targets  []*target
	position func() Checkpoint
	clock    clock.Clock
	metrics  *Metrics
	// Poll is how often the position is checked without a delivery; Refresh re-saves an
	// unmoved position.
	Poll    time.Duration
	Refresh time.Duration

	mu sync.Mutex // Run's saves and Final may overlap at shutdown
}

type target struct {
	Target
	last    Checkpoint // saved or loaded
	tried   time.Time  // last save attempt
	failing bool
}

// NewWriter returns a writer to targets. position gives the current delivered positions (a zero
// ResourceVersion: not known yet, nothing is saved; its Time is ignored); loaded is the
// checkpoint this run started from (zero if none).
func NewWriter(targets []Target, position func() Checkpoint, clk clock.Clock, m *Metrics, loaded Checkpoint) *Writer {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	w := &Writer{position: position, clock: clk, metrics: m, Poll: DefaultInterval, Refresh: DefaultRefresh}
	for _, t := range targets {
		w.targets = append(w.targets, &target{Target: t, last: loaded})
	}
	return w
}

// firstPoll is how often Run looks for the first position to save when none was loaded: a
// process killed soon after its first start must still find a checkpoint.
const firstPoll = 50 * time.Millisecond

// Run saves until ctx is done. progress signals deliveries (core.Pipeline.Progress); nil polls
// only.
func (w *Writer) Run(ctx context.Context, progress <-chan struct{}) {
	for {
		t := w.clock.NewTimer(w.nextWake())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case <-progress:
			t.Stop()
		}
		w.save(false)
	}
}

// nextWake is how long Run sleeps: until the earliest target that has an unsaved position may
// save again, and at most Poll (firstPoll while nothing was ever saved).
func (w *Writer) nextWake() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	wake := w.Poll
	pos := w.position()
	now := w.clock.Now()
	for _, t := range w.targets {
		if t.last.ResourceVersion == 0 {
			wake = min(wake, firstPoll)
		}
		if pos.ResourceVersion != 0 && !samePosition(pos, t.last) {
			wake = min(wake, max(0, w.wait(t)-now.Sub(t.tried)))
		}
	}
	return wake
}

// Final saves the position to every target whether or not it moved: call it after the pipeline
// has flushed. It returns the first target's error.
func (w *Writer) Final() error {
	errs := w.save(true)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Last is the checkpoint last saved (or loaded) by the first target.
func (w *Writer) Last() Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.targets) == 0 {
		return Checkpoint{}
	}
	return w.targets[0].last
}

// wait is the shortest time between two saves to t. A failing store is retried once per Poll at
// most, not after every batch.
func (w *Writer) wait(t *target) time.Duration {
	if t.failing {
		return max(t.Interval, w.Poll)
	}
	return t.Interval
}

// save saves the position to each target that is due; force saves to every target.
func (w *Writer) save(force bool) []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	pos := w.position()
	if pos.ResourceVersion == 0 {
		return nil
	}
	now := w.clock.Now()
	cp := pos
	cp.Time = now
	errs := make([]error, len(w.targets))
	for i, t := range w.targets {
		if !force {
			moved := !samePosition(pos, t.last)
			if !moved && now.Sub(t.last.Time) < w.Refresh {
				continue
			}
			if now.Sub(t.tried) < w.wait(t) {
				continue
			}
		}
		t.tried = now
		if err := t.Store.Save(cp); err != nil {
			w.metrics.failures.Inc()
			if !t.failing || force {
				glog.Warningf("checkpoint: cannot save to %s: %v; retrying every %s (a restart now would resume from resourceVersion %d and repeat what was delivered since)", t.Store, err, max(t.Interval, w.Poll), t.last.ResourceVersion)
			}
			t.failing = true
			errs[i] = err
			continue
		}
		if t.failing {
			glog.Infof("checkpoint: saving to %s works again", t.Store)
			t.failing = false
		}
		t.last = cp
		w.metrics.saves.Inc()
		w.metrics.position.Set(float64(cp.ResourceVersion))
	}
	return errs
}
