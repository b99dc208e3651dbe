package chattest

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

// PipelineResult is what PipelineStorm observed, counted from the pipeline's own metrics.
type PipelineResult struct {
	// Delivered and Dropped are herald_sink_events_total for the sink.
	Delivered, Dropped int
	// Exports is how many times the pipeline called Export; Errors what they returned.
	Exports int
	Errors  []error
	// End is the fake time when every event was accounted for.
	End time.Time
}

// PipelineStorm pushes events through a real core.Pipeline (the sink's own queue, batching by
// size or age, retries) on clk, each at its Observed time, and returns once every event is
// counted delivered or dropped. It moves the clock only while nothing is on the wire: when
// the pipeline or the sink waits on the clock, or no Export is running; so a receiver that
// reads clk sees the times the sink meant. It fails the test after limit of fake time.
func PipelineStorm(t testing.TB, clk *clocktesting.FakeClock, sink core.Sink, events []*core.Event, opts core.SinkOptions, limit time.Duration) PipelineResult {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := core.NewPipeline(core.PipelineConfig{Clock: clk, Metrics: core.NewMetrics(reg)})
	w := &watched{Sink: sink}
	if err := p.Add("storm", w, nil, opts); err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}()
	deadline := clk.Now().Add(limit)
	next := 0
	for {
		for next < len(events) && !events[next].Observed.After(clk.Now()) {
			p.Push(events[next])
			next++
		}
		delivered, dropped := counts(t, reg)
		if next == len(events) && delivered+dropped == len(events) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return PipelineResult{Delivered: delivered, Dropped: dropped, Exports: w.exports, Errors: w.errs, End: clk.Now()}
		}
		if clk.Now().After(deadline) {
			t.Fatalf("pipeline storm: %d delivered, %d dropped of %d after %s of fake time", delivered, dropped, len(events), limit)
		}
		if clk.HasWaiters() || !w.busy.Load() {
			clk.Step(10 * time.Millisecond)
		} else {
			runtime.Gosched()
		}
	}
}

// watched wraps a sink to tell whether an Export is running, and records what it returns.
type watched struct {
	core.Sink
	busy    atomic.Bool
	mu      sync.Mutex
	exports int
	errs    []error
}

func (w *watched) Export(ctx context.Context, events []*core.Event) error {
	w.busy.Store(true)
	defer w.busy.Store(false)
	err := w.Sink.Export(ctx, events)
	w.mu.Lock()
	w.exports++
	if err != nil {
		w.errs = append(w.errs, err)
	}
	w.mu.Unlock()
	return err
}

// counts reads herald_sink_events_total for the storm sink: delivered, and dropped for any
// reason.
func counts(t testing.TB, reg *prometheus.Registry) (delivered, dropped int) {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "herald_sink_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			outcome := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					outcome = l.GetValue()
				}
			}
			switch outcome {
			case core.OutcomeDelivered:
				delivered += int(m.GetCounter().GetValue())
			case core.OutcomeDropped:
				dropped += int(m.GetCounter().GetValue())
			}
		}
	}
	return delivered, dropped
}
