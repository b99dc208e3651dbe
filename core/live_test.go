package core

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A sink added while events flow gets the events pushed from then on, not before.
func TestAddAfterStart(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	first := newRecordingSink()
	if err := p.Add("first", first, nil, SinkOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Start()
	p.Push(ev(clk, "before"))
	first.next(t)

	late := newRecordingSink()
	if err := p.Add("late", late, nil, SinkOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Add("late", newRecordingSink(), nil, SinkOptions{}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second sink under one id: %v, want an error", err)
	}
	p.Push(ev(clk, "after"))
	b := late.next(t)
	if len(b) != 1 || b[0].Name != "after" {
		t.Fatalf("late sink got %v, want only the event pushed after it was added", names(b))
	}
	first.next(t)
	waitCount(t, m, "late", OutcomeDelivered, "", 1)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !late.closed {
		t.Error("Shutdown did not close the sink added after Start")
	}
}

// Replace keeps what is queued: the events waiting for a failing sink (a credential that
// stopped working) go to its replacement (the rotated Secret), and the old sink is closed.
func TestReplaceKeepsTheQueue(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	old := newRecordingSink()
	old.fail = func(int, []*Event) error { return Credential(errors.New("401"), "") }
	only := matchFunc(func(e *Event) bool { return e.Name != "filtered" })
	if err := p.Add("r", old, only, SinkOptions{BatchSize: 10}); err != nil {
		t.Fatal(err)
	}
	p.Start()
	for _, n := range []string{"a", "b", "c"} {
		p.Push(ev(clk, n))
	}
	old.next(t) // refused; the sink is down, the events stay queued
	waitForTimer(t, clk)

	fixed := newRecordingSink()
	if err := p.Replace("r", fixed, matchFunc(func(e *Event) bool { return true })); err != nil {
		t.Fatal(err)
	}
	p.Push(ev(clk, "filtered")) // the new matcher applies from now on
	// No clock step: the replacement is tried at once, not after the old sink's backoff.
	got := map[string]bool{}
	for len(got) < 4 {
		for _, e := range fixed.next(t) {
			got[e.Name] = true
		}
	}
	for _, n := range []string{"a", "b", "c", "filtered"} {
		if !got[n] {
			t.Errorf("%s not delivered by the replacement (got %v)", n, got)
		}
	}
	waitCount(t, m, "r", OutcomeDelivered, "", 4)
	deadline := time.Now().Add(5 * time.Second)
	for {
		old.mu.Lock()
		closed := old.closed
		old.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replaced sink was never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Replace("nope", fixed, nil); err == nil {
		t.Error("Replace of an unknown id succeeded")
	}
	_ = p.Shutdown(context.Background())
}

// Remove delivers what is queued when it can, counts what it cannot as dropped (removed),
// stops offering events to the sink, forgets its positions and deletes its series.
func TestRemove(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	keep := newRecordingSink()
	gone := newRecordingSink()
	gone.block = make(chan struct{}) // never answers
	_ = p.Add("keep", keep, nil, SinkOptions{})
	_ = p.Add("gone", gone, nil, SinkOptions{BatchSize: 1})
	p.Start()
	a, b := ev(clk, "a"), ev(clk, "b")
	a.Position, b.Position = 10, 11
	p.Push(a)
	p.Push(b)
	keep.next(t)
	if w := p.SinkWatermarks()["gone"]; w != 9 {
		t.Fatalf("watermark of the stuck sink %d, want 9", w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if !gone.closed {
		t.Error("the removed sink was not closed")
	}
	if _, ok := p.SinkWatermarks()["gone"]; ok {
		t.Error("the removed sink still has a position")
	}
	if w := p.Watermark(); w != math.MaxUint64 && w < 11 {
		t.Errorf("the pipeline's watermark %d is still held by the removed sink", w)
	}
	if n := testutil.CollectAndCount(m.up); n != 1 {
		t.Errorf("herald_sink_up has %d series after the removal, want 1 (keep's)", n)
	}
	if n := testutil.CollectAndCount(m.queueCap); n != 1 {
		t.Errorf("herald_sink_queue_capacity has %d series after the removal, want 1", n)
	}
	p.Push(ev(clk, "c"))
	keep.next(t)
	gone.none(t)
	if err := p.Remove(context.Background(), "gone"); err == nil {
		t.Error("removing twice succeeded")
	}
	_ = p.Shutdown(context.Background())
}

// Remove counts what the removed sink could not deliver before its deadline.
func TestRemoveCountsWhatItDrops(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	gone := newRecordingSink()
	gone.block = make(chan struct{})
	_ = p.Add("gone", gone, nil, SinkOptions{BatchSize: 2})
	p.Start()
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		p.Push(ev(clk, n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if n := count(m, "gone", OutcomeDropped, DropRemoved); n != 5 {
		t.Fatalf("dropped (removed) %d, want 5", n)
	}
	if n := count(m, "gone", OutcomeDelivered, ""); n != 0 {
		t.Fatalf("delivered %d, want 0", n)
	}
	_ = p.Shutdown(context.Background())
}
