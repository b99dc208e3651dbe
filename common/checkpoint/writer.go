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

// Writer saves the delivered position: at most once per Interval and only when it moved (or the
// saved time is older than Refresh, so the time stays a true "alive until"), and once more by
// Final at shutdown.
type Writer struct {
	store    Store
	position func() uint64
	clock    clock.Clock
	metrics  *Metrics
	// Interval is the shortest time between saves; Refresh re-saves an unmoved position.
	Interval time.Duration
	Refresh  time.Duration

	mu      sync.Mutex // Run's ticks and Final may overlap at shutdown
	last    Checkpoint
	failing bool
}

// NewWriter returns a writer of store. position gives the current delivered position (0: not
// known yet, nothing is saved); loaded is the checkpoint this run started from (zero if none).
func NewWriter(store Store, position func() uint64, clk clock.Clock, m *Metrics, loaded Checkpoint) *Writer {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Writer{store: store, position: position, clock: clk, metrics: m,
		Interval: DefaultInterval, Refresh: DefaultRefresh, last: loaded}
}

// firstPoll is how often Run looks for the first position to save when none was loaded: a
// process killed soon after its first start must still find a checkpoint.
const firstPoll = 50 * time.Millisecond

// Run saves on every tick until ctx is done.
func (w *Writer) Run(ctx context.Context) {
	for {
		every := w.Interval
		if w.Last().ResourceVersion == 0 {
			every = min(firstPoll, every)
		}
		t := w.clock.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
			_ = w.tick(false)
		}
	}
}

// Final saves the position whether or not it moved: call it after the pipeline has flushed.
func (w *Writer) Final() error {
	return w.tick(true)
}

// Last is the checkpoint last saved (or loaded).
func (w *Writer) Last() Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *Writer) tick(force bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	pos := w.position()
	now := w.clock.Now()
	if pos == 0 {
		return nil
	}
	moved := pos != w.last.ResourceVersion
	if !force && !moved && now.Sub(w.last.Time) < w.Refresh {
		return nil
	}
	cp := Checkpoint{ResourceVersion: pos, Time: now}
	if err := w.store.Save(cp); err != nil {
		w.metrics.failures.Inc()
		if !w.failing || force {
			glog.Warningf("checkpoint: cannot save to %s: %v; retrying every %s (a restart now would resume from resourceVersion %d and repeat what was delivered since)", w.store, err, w.Interval, w.last.ResourceVersion)
		}
		w.failing = true
		return err
	}
	if w.failing {
		glog.Infof("checkpoint: saving to %s works again", w.store)
		w.failing = false
	}
	w.last = cp
	w.metrics.saves.Inc()
	w.metrics.position.Set(float64(pos))
	return nil
}
