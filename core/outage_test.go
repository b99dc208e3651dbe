package core

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"
)

func gauge(g *prometheus.GaugeVec, labels ...string) float64 {
	return testutil.ToFloat64(g.WithLabelValues(labels...))
}

// A refused credential is an outage: nothing is dropped, the sink is down with the reason, the
// backoff grows past Max up to CredentialMax, and once the credential works every held event is
// delivered and the sink is up again.
func TestCredentialRefusalKeepsEverythingAndBacksOffLonger(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC))
	m := NewMetrics(prometheus.NewRegistry())
	p := NewPipeline(PipelineConfig{Clock: clk, Metrics: m,
		Backoff: Backoff{Initial: time.Second, Max: 4 * time.Second, CredentialMax: 64 * time.Second, Factor: 2}})
	s := newRecordingSink()
	refuse := true
	s.fail = func(int, []*Event) error {
		if refuse {
			// A sink may mark the same error permanent too (httpx did): credential wins.
			return Permanent(Credential(errors.New("HTTP 401 Unauthorized"), "check token="))
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 2, QueueSize: 10, CredentialHint: "the token comes from ${TOKEN}"})
	if gauge(m.up, "s") != 1 || gauge(m.lastSuccess, "s") != float64(clk.Now().Unix()) {
		t.Fatalf("at start: up %v, last success %v; want 1 and the start time", gauge(m.up, "s"), gauge(m.lastSuccess, "s"))
	}
	p.Start()
	for i := range 5 {
		p.Push(ev(clk, fmt.Sprint(i)))
	}
	s.next(t)
	waitForTimer(t, clk)
	if gauge(m.up, "s") != 0 || gauge(m.downReason, "s", ReasonCredential) != 1 {
		t.Fatalf("after a refused credential: up %v, down_reason{credential} %v; want 0 and 1", gauge(m.up, "s"), gauge(m.downReason, "s", ReasonCredential))
	}
	// 1, 2, 4, 8, 16, 32, then 64 s (CredentialMax), not 4 s (Max).
	var delays []time.Duration
	for _, d := range []time.Duration{1, 2, 4, 8, 16, 32, 64, 64} {
		d *= time.Second
		clk.Step(d - time.Millisecond)
		s.none(t)
		clk.Step(time.Millisecond)
		s.next(t)
		waitForTimer(t, clk)
		delays = append(delays, d)
	}
	if n := count(m, "s", OutcomeDropped, DropRejected); n != 0 {
		t.Fatalf("%d events rejected; a refused credential must drop nothing", n)
	}
	if got := int(testutil.ToFloat64(m.errors.WithLabelValues("s", ErrorCredential))); got != 9 {
		t.Errorf("credential errors = %d, want 9", got)
	}
	refuse = false
	clk.Step(64 * time.Second)
	var delivered []string
	for len(delivered) < 5 {
		delivered = append(delivered, names(s.next(t))...)
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 5)
	if fmt.Sprint(delivered) != "[0 1 2 3 4]" {
		t.Errorf("delivered %v after the credential was fixed, want [0 1 2 3 4]", delivered)
	}
	if gauge(m.up, "s") != 1 || testutil.CollectAndCount(m.downReason) != 0 {
		t.Errorf("after recovery: up %v, %d down_reason series; want 1 and none", gauge(m.up, "s"), testutil.CollectAndCount(m.downReason))
	}
	if gauge(m.lastSuccess, "s") != float64(clk.Now().Unix()) {
		t.Errorf("last success %v, want now %v", gauge(m.lastSuccess, "s"), clk.Now().Unix())
	}
	_ = p.Shutdown(context.Background())
}

// A payload refused for good is a verdict on the events, not an outage: the sink stays up.
func TestPermanentRefusalLeavesTheSinkUp(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(int, []*Event) error { return Permanent(errors.New("HTTP 400 Bad Request")) }
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(ev(clk, "a"))
	s.next(t)
	waitCount(t, m, "s", OutcomeDropped, DropRejected, 1)
	if gauge(m.up, "s") != 1 {
		t.Errorf("up = %v after a 400, want 1", gauge(m.up, "s"))
	}
	_ = p.Shutdown(context.Background())
}

// Every sink's series exist from the start at 0, so rate() and increase() see the first change.
func TestSeriesExistFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := NewPipeline(PipelineConfig{Metrics: NewMetrics(reg)})
	p.Add("a", newRecordingSink(), nil, SinkOptions{})
	want := map[string]int{
		"herald_sink_events_total": 4, "herald_sink_export_errors_total": 3, "herald_sink_up": 1,
		"herald_sink_last_success_timestamp_seconds": 1, "herald_sink_queue_length": 1, "herald_sink_retries_total": 1,
	}
	for name, n := range want {
		if got, err := testutil.GatherAndCount(reg, name); err != nil || got != n {
			t.Errorf("%s: %d series (%v), want %d", name, got, err, n)
		}
	}
}

// A catch-up waits for room instead of dropping: with a queue of 2 and a slow sink, 20 events
// pushed with PushWait all arrive, in order, and none is counted as dropped.
func TestPushWaitNeverDrops(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	release := make(chan struct{})
	s.block = release
	p.Add("slow", s, nil, SinkOptions{BatchSize: 1, QueueSize: 2})
	p.Start()
	pushed := make(chan int)
	go func() {
		for i := range 20 {
			if !p.PushWait(context.Background(), ev(clk, fmt.Sprint(i))) {
				t.Errorf("PushWait(%d) gave up", i)
			}
		}
		close(pushed)
	}()
	var got []string
	for len(got) < 20 {
		release <- struct{}{}
		got = append(got, names(s.next(t))...)
	}
	<-pushed
	if want := fmt.Sprint([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}); fmt.Sprint(got) != want {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if n := count(m, "slow", OutcomeDropped, DropQueueFull); n != 0 {
		t.Errorf("%d dropped", n)
	}
	if w := testutil.ToFloat64(m.waits.WithLabelValues("slow")); w == 0 {
		t.Error("herald_sink_backpressure_waits_total is 0, yet the queue of 2 was full")
	}
	_ = p.Shutdown(context.Background())
}

// PushWait gives up when its context ends, and says so, so the source keeps its position.
func TestPushWaitGivesUpWithItsContext(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.block = make(chan struct{})
	p.Add("stuck", s, nil, SinkOptions{BatchSize: 1, QueueSize: 1})
	p.Start()
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; ; i++ {
		done := make(chan bool)
		go func() { done <- p.PushWait(ctx, ev(clk, fmt.Sprint(i))) }()
		select {
		case ok := <-done:
			if !ok {
				t.Fatal("PushWait gave up with room left")
			}
			continue
		case <-time.After(100 * time.Millisecond):
		}
		cancel()
		if <-done {
			t.Fatal("PushWait reported success after its context ended with the queue full")
		}
		break
	}
	if n := count(m, "stuck", OutcomeDropped, DropQueueFull); n != 0 {
		t.Errorf("%d counted as dropped; an abandoned catch-up is not a drop (the next run delivers it)", n)
	}
	sctx, scancel := context.WithCancel(context.Background())
	scancel()
	_ = p.Shutdown(sctx)
}

// ignoringSink never returns from Export, whatever its context says: a receiver that accepts
// and never answers, behind a client that ignores deadlines. Close hangs too.
type ignoringSink struct{ entered chan struct{} }

func (s *ignoringSink) Name() string { return "ignoring" }
func (s *ignoringSink) Export(context.Context, []*Event) error {
	s.entered <- struct{}{}
	select {}
}
func (s *ignoringSink) Close() error { select {} }

// Shutdown returns by its deadline even when a sink's Export and Close never return; the event
// in flight stays held, so the checkpoint stays below it.
func TestShutdownIsBoundedByItsDeadline(t *testing.T) {
	p, _, m := newTestPipeline(t)
	s := &ignoringSink{entered: make(chan struct{}, 1)}
	p.Add("hung", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(at(7))
	<-s.entered
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- p.Shutdown(ctx) }()
	select {
	case err := <-returned:
		if err == nil {
			t.Error("Shutdown reported no problem, yet a sink never closed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown never returned: a hung sink holds the process")
	}
	if got := p.SinkWatermarks()["hung"]; got != 6 {
		t.Errorf("watermark %d after shutdown, want 6: the event in flight stays held", got)
	}
	if n := count(m, "hung", OutcomeDelivered, ""); n != 0 {
		t.Errorf("%d counted as delivered", n)
	}
}
