package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// at is an event at position pos; its zero Observed time makes the pipeline flush it at once.
func at(pos uint64) *Event {
	return &Event{Event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}}, Position: pos}
}

// Sinks finish events in any order; the watermark stays below the lowest one still held.
func TestWatermarkOutOfOrderCompletion(t *testing.T) {
	w := newWatermark()
	if got := w.low(); got != math.MaxUint64 {
		t.Fatalf("empty watermark = %d, want MaxUint64 (the source bounds it)", got)
	}
	a, b, c := at(10), at(11), at(12)
	w.hold(a, 2) // two sinks
	w.hold(b, 1)
	w.hold(c, 1)
	steps := []struct {
		release *Event
		want    uint64
	}{
		{b, 9},              // 11 done, 10 still held twice
		{a, 9},              // one sink of 10 done
		{c, 9},              // 12 done; 10 still held
		{a, math.MaxUint64}, // 10 done: nothing held
	}
	for i, s := range steps {
		w.release(s.release)
		if got := w.low(); got != s.want {
			t.Errorf("step %d: release %d: low = %d, want %d", i, s.release.Position, got, s.want)
		}
	}
	if w.held() != 0 {
		t.Errorf("held = %d after every release", w.held())
	}
	// Untracked events (position 0) and extra releases change nothing.
	w.hold(at(0), 1)
	w.release(at(0), a)
	w.hold(at(20), 1)
	if got := w.low(); got != 19 {
		t.Errorf("low = %d, want 19", got)
	}
}

// gateSink announces each Export on entered and returns only when gate lets it; err decides the
// result.
type gateSink struct {
	entered chan []*Event
	gate    chan struct{}
	err     func([]*Event) error
}

func newGateSink() *gateSink {
	return &gateSink{entered: make(chan []*Event, 100), gate: make(chan struct{})}
}
func (s *gateSink) Name() string { return "gate" }
func (s *gateSink) Export(ctx context.Context, events []*Event) error {
	s.entered <- events
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.err != nil {
		return s.err(events)
	}
	return nil
}
func (s *gateSink) Close() error { return nil }

func waitWatermark(t *testing.T, p *Pipeline, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Watermark() != want {
		if time.Now().After(deadline) {
			t.Fatalf("watermark = %d, want %d", p.Watermark(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// The pipeline's watermark counts an event as gone once every sink is done with it: delivered
// by one, filtered by another, dropped (queue full) or rejected by a third.
func TestPipelineWatermark(t *testing.T) {
	p, _, m := newTestPipeline(t)
	slow, fast := newGateSink(), newGateSink()
	fast.err = func(b []*Event) error {
		if b[0].Position == 103 {
			return Permanent(errors.New("bad event"))
		}
		return nil
	}
	notTwo := matchFunc(func(e *Event) bool { return e.Position != 102 })
	p.Add("slow", slow, nil, SinkOptions{BatchSize: 1, QueueSize: 1})
	p.Add("fast", fast, notTwo, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	e := []*Event{at(101), at(102), at(103)}

	p.Push(e[0])
	<-slow.entered // 101 in flight at slow
	<-fast.entered
	p.Push(e[1]) // queued at slow, filtered at fast
	p.Push(e[2]) // slow's queue is full: dropped there
	if got := count(m, "slow", OutcomeDropped, DropQueueFull); got != 1 {
		t.Fatalf("slow dropped %d, want 1", got)
	}
	waitWatermark(t, p, 100)

	fast.gate <- struct{}{} // fast delivers 101; slow still holds it
	<-fast.entered
	fast.gate <- struct{}{} // fast rejects 103
	waitCount(t, m, "fast", OutcomeDropped, DropRejected, 1)
	if got := p.Watermark(); got != 100 {
		t.Fatalf("watermark = %d while slow still holds 101, want 100", got)
	}
	slow.gate <- struct{}{} // slow delivers 101 and takes 102
	<-slow.entered
	waitWatermark(t, p, 101)
	slow.gate <- struct{}{}
	waitWatermark(t, p, math.MaxUint64)
	_ = p.Shutdown(context.Background())
}

// Events still held when the shutdown deadline passes are dropped and counted, and stay held:
// the sink's checkpoint stays below them, so the next run delivers them to it.
func TestWatermarkKeepsEventsCutOffAtShutdown(t *testing.T) {
	p, _, m := newTestPipeline(t)
	s, other := newGateSink(), newGateSink()
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Add("other", other, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(at(7))
	p.Push(at(8))
	<-other.entered
	other.gate <- struct{}{}
	<-other.entered
	other.gate <- struct{}{}
	<-s.entered // s is stuck on 7
	deadline := time.Now().Add(10 * time.Second)
	for p.SinkWatermarks()["other"] != math.MaxUint64 {
		if time.Now().After(deadline) {
			t.Fatal("other never finished")
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.Shutdown(ctx)
	if got := count(m, "s", OutcomeDropped, DropShutdown); got != 2 {
		t.Errorf("dropped at shutdown = %d, want 2", got)
	}
	if got := p.SinkWatermarks(); got["s"] != 6 || got["other"] != math.MaxUint64 {
		t.Errorf("sink watermarks after shutdown = %v, want s at 6 (below what it never had) and other done", got)
	}
}

// Each sink has its own watermark: a sink that is stuck holds back only its own, so a restart
// replays to it alone.
func TestSinkWatermarks(t *testing.T) {
	p, _, _ := newTestPipeline(t)
	stuck, fine := newGateSink(), newGateSink()
	p.Add("stuck", stuck, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Add("fine", fine, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(at(201))
	p.Push(at(202))
	<-stuck.entered
	<-fine.entered
	fine.gate <- struct{}{}
	<-fine.entered
	fine.gate <- struct{}{}
	deadline := time.Now().Add(10 * time.Second)
	for p.SinkWatermarks()["fine"] != math.MaxUint64 {
		if time.Now().After(deadline) {
			t.Fatalf("fine's watermark = %d after it delivered both, want MaxUint64", p.SinkWatermarks()["fine"])
		}
		time.Sleep(time.Millisecond)
	}
	if got := p.SinkWatermarks()["stuck"]; got != 200 {
		t.Errorf("stuck's watermark = %d while 201 is in flight, want 200", got)
	}
	if got := p.Watermark(); got != 200 {
		t.Errorf("pipeline watermark = %d, want the lowest sink's, 200", got)
	}
	select {
	case <-p.Progress():
	default:
		t.Error("no progress signal after fine delivered two batches")
	}
	stuck.gate <- struct{}{}
	<-stuck.entered
	stuck.gate <- struct{}{}
	waitWatermark(t, p, math.MaxUint64)
	_ = p.Shutdown(context.Background())
}

// After a restart, the source replays from the lowest sink's checkpoint; a sink whose own
// checkpoint is further on skips what it had, counted, and gets the rest.
func TestSetSkipSkipsWhatASinkHad(t *testing.T) {
	p, _, m := newTestPipeline(t)
	behind, ahead := newGateSink(), newGateSink()
	p.Add("behind", behind, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Add("ahead", ahead, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	had := map[string]uint64{"behind": 300, "ahead": 302}
	p.SetSkip(func(id string, e *Event) bool { return e.Position <= had[id] })
	p.Start()
	for pos := uint64(301); pos <= 303; pos++ {
		p.Push(at(pos))
	}
	var gotBehind, gotAhead []uint64
	for range 3 {
		b := <-behind.entered
		gotBehind = append(gotBehind, b[0].Position)
		behind.gate <- struct{}{}
	}
	b := <-ahead.entered
	gotAhead = append(gotAhead, b[0].Position)
	ahead.gate <- struct{}{}
	if fmt.Sprint(gotBehind) != "[301 302 303]" || fmt.Sprint(gotAhead) != "[303]" {
		t.Errorf("behind got %v, want [301 302 303]; ahead got %v, want [303]", gotBehind, gotAhead)
	}
	if got := count(m, "ahead", OutcomeSkipped, SkipDeliveredBefore); got != 2 {
		t.Errorf("ahead skipped %v, want 2", got)
	}
	if got := count(m, "behind", OutcomeSkipped, SkipDeliveredBefore); got != 0 {
		t.Errorf("behind skipped %v, want 0", got)
	}
	waitWatermark(t, p, math.MaxUint64)
	// Forgetting the checkpoint (it belonged to another store) delivers everything again.
	p.SetSkip(nil)
	p.Push(at(5))
	if b := <-ahead.entered; b[0].Position != 5 {
		t.Errorf("after SetSkip(nil) ahead got %d, want 5", b[0].Position)
	}
	ahead.gate <- struct{}{}
	if b := <-behind.entered; b[0].Position != 5 {
		t.Errorf("after SetSkip(nil) behind got %d, want 5", b[0].Position)
	}
	behind.gate <- struct{}{}
	_ = p.Shutdown(context.Background())
}
