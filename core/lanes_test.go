package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleSinkSendsAtOnce: without Linger an event reaches an idle sink with no wait for the
// flush interval (the fake clock never moves), and what queues while a delivery is in flight
// leaves together in the next one.
func TestIdleSinkSendsAtOnce(t *testing.T) {
	p, clk, _ := newTestPipeline(t)
	s := newRecordingSink()
	s.block = make(chan struct{})
	p.Add("s", s, nil, SinkOptions{BatchSize: 100, FlushInterval: time.Hour, QueueSize: 10})
	p.Start()
	p.Push(ev(clk, "a"))
	r := p.list()[0]
	waitFor(t, "the first export to start", func() bool { return r.exporting.Load() == 1 })
	for _, n := range []string{"b", "c", "d"} {
		p.Push(ev(clk, n))
	}
	close(s.block)
	if b := s.next(t); !slices.Equal(names(b), []string{"a"}) {
		t.Fatalf("first batch %v, want [a] sent at once", names(b))
	}
	if b := s.next(t); !slices.Equal(names(b), []string{"b", "c", "d"}) {
		t.Fatalf("second batch %v, want [b c d]: what queued behind the export in flight", names(b))
	}
	_ = p.Shutdown(context.Background())
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// laneGate holds every export of a batch about object "slow" until open is closed, and records
// the order in which each object's events were delivered.
type laneGate struct {
	open chan struct{}
	mu   sync.Mutex
	seen map[string][]string // object name -> event names, in delivery order
	n    int
}

func (s *laneGate) Name() string { return "gate" }
func (s *laneGate) Close() error { return nil }
func (s *laneGate) Export(ctx context.Context, events []*Event) error {
	for _, e := range events {
		if e.InvolvedObject.Name == "slow" {
			select {
			case <-s.open:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.seen[e.InvolvedObject.Name] = append(s.seen[e.InvolvedObject.Name], e.Name)
		s.n++
	}
	return nil
}

func (s *laneGate) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// TestLanesKeepPerObjectOrderAndTheWatermark: with Concurrency 4 a delivery that hangs holds up
// only its own lane; events about other objects in other lanes go on, events about one object
// keep their order, and the watermark stays below the held event until it is delivered.
func TestLanesKeepPerObjectOrderAndTheWatermark(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := &laneGate{open: make(chan struct{}), seen: map[string][]string{}}
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 1000, Concurrency: 4})
	p.Start()
	q := p.list()[0].q
	push := func(object, name string, pos uint64) *Event {
		e := ev(clk, name)
		e.InvolvedObject.Name = object
		e.Position = pos
		p.Push(e)
		return e
	}
	slow := push("slow", "slow-1", 1)
	free, held := 0, 0
	pos := uint64(2)
	for i := range 40 {
		for j := range 3 { // three events about each object, in order
			e := push(fmt.Sprintf("obj-%d", i), fmt.Sprintf("obj-%d/%d", i, j), pos)
			pos++
			if q.laneOf(e) == q.laneOf(slow) {
				held++
			} else {
				free++
			}
		}
	}
	push("slow", "slow-2", pos)
	if free == 0 || held == 0 {
		t.Fatalf("the objects fell %d into other lanes and %d into the held one; the test needs both", free, held)
	}
	waitFor(t, fmt.Sprintf("%d events in the other lanes to be delivered", free), func() bool { return s.delivered() == free })
	time.Sleep(50 * time.Millisecond)
	if got := s.delivered(); got != free {
		t.Fatalf("%d delivered while slow-1 was held, want %d (the held lane's %d must wait behind it)", got, free, held)
	}
	if wm := p.Watermark(); wm != 0 {
		t.Fatalf("watermark %d while the event at position 1 is held, want 0", wm)
	}
	close(s.open)
	total := free + held + 2
	waitCount(t, m, "s", OutcomeDelivered, "", total)
	for obj, got := range s.seen {
		want := slices.Clone(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("object %s: delivered %v, want its events in order", obj, got)
		}
	}
	waitFor(t, "the watermark to pass every event", func() bool { return p.Watermark() == math.MaxUint64 })
	_ = p.Shutdown(context.Background())
}

func TestReasonsCountsEachOnceInOrder(t *testing.T) {
	var r Reasons
	for _, k := range []string{"status 400: bad field", "status 503: busy", "status 400: bad field"} {
		r.Add(k)
	}
	if got, want := r.String(), "2× status 400: bad field; 1× status 503: busy"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestRetryAfterReachesThePipeline(t *testing.T) {
	base := fmt.Errorf("HTTP 429")
	err := RetryAfter(base, 7*time.Second)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 7*time.Second || !errors.Is(err, base) || err.Error() != "HTTP 429" {
		t.Fatalf("RetryAfter(err, 7s) = %v: not found by the pipeline's errors.As, or not wrapping err", err)
	}
	if RetryAfter(base, 0) != base {
		t.Fatal("RetryAfter with no delay must return err itself")
	}
}

// TestLanesShareOneRetrySchedule: a sink with four lanes that is down gets one attempt per
// backoff step (the probe), not one per lane; when the probe gets through every lane delivers.
func TestLanesShareOneRetrySchedule(t *testing.T) {
	p, clk, m := newTestPipeline(t) // backoff 1 s, 2 s, 4 s, ... (no jitter)
	var down atomic.Bool
	down.Store(true)
	s := newRecordingSink()
	s.fail = func(int, []*Event) error {
		if down.Load() {
			return errors.New("503 Service Unavailable")
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 10, QueueSize: 100, Concurrency: 4})
	p.Start()
	q := p.list()[0].q
	// One event in each lane.
	seen := map[int]bool{}
	for i := 0; len(seen) < 4; i++ {
		e := ev(clk, fmt.Sprintf("pod-%d", i))
		if l := q.laneOf(e); !seen[l] {
			seen[l] = true
			p.Push(e)
		}
	}
	calls := func() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.batches) }
	// The first failure closes the gate; lanes that had not started yet wait behind it.
	waitFor(t, "a first attempt", func() bool { return calls() >= 1 })
	waitForTimer(t, clk)
	time.Sleep(20 * time.Millisecond)
	base := calls()
	for step, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		waitForTimer(t, clk)
		clk.Step(wait)
		want := base + step + 1
		waitFor(t, fmt.Sprintf("probe %d", step+1), func() bool { return calls() >= want })
		time.Sleep(20 * time.Millisecond)
		if got := calls(); got != want {
			t.Fatalf("after backoff step %d: %d attempts, want %d (one probe per step, not one per lane)", step+1, got, want)
		}
	}
	down.Store(false)
	waitForTimer(t, clk)
	clk.Step(8 * time.Second)
	waitCount(t, m, "s", OutcomeDelivered, "", 4)
	_ = p.Shutdown(context.Background())
}
