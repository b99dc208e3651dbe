package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// recordingSink records every Export call; fail decides each attempt's error.
type recordingSink struct {
	mu      sync.Mutex
	batches [][]*Event
	fail    func(attempt int, batch []*Event) error
	calls   chan []*Event
	closed  bool
	block   chan struct{} // when non-nil, Export waits on it (or ctx)
}

func newRecordingSink() *recordingSink { return &recordingSink{calls: make(chan []*Event, 1000)} }

func (s *recordingSink) Name() string { return "recording" }
func (s *recordingSink) Export(ctx context.Context, events []*Event) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	attempt := len(s.batches) + 1
	s.batches = append(s.batches, append([]*Event(nil), events...))
	s.mu.Unlock()
	s.calls <- events
	if s.fail != nil {
		return s.fail(attempt, events)
	}
	return nil
}
func (s *recordingSink) Close() error { s.mu.Lock(); s.closed = true; s.mu.Unlock(); return nil }

func (s *recordingSink) next(t *testing.T) []*Event {
	t.Helper()
	select {
	case b := <-s.calls:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no Export call arrived")
		return nil
	}
}

func (s *recordingSink) none(t *testing.T) {
	t.Helper()
	select {
	case b := <-s.calls:
		t.Fatalf("unexpected Export of %d events", len(b))
	case <-time.After(50 * time.Millisecond):
	}
}

type matchFunc func(*Event) bool

func (f matchFunc) Match(e *Event) bool { return f(e) }

func ev(clk *clocktesting.FakeClock, name string) *Event {
	return &Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: name},
		Type:           "Warning", Reason: "BackOff",
	}, Observed: clk.Now()}
}

// waitForTimer waits until a worker blocks on the fake clock, so Step affects it.
func waitForTimer(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("worker never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}

func newTestPipeline(t *testing.T) (*Pipeline, *clocktesting.FakeClock, *Metrics) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC))
	m := NewMetrics(prometheus.NewRegistry())
	p := NewPipeline(PipelineConfig{Clock: clk, Metrics: m,
		Backoff: Backoff{Initial: time.Second, Max: 8 * time.Second, Factor: 2}})
	return p, clk, m
}

func count(m *Metrics, sink, outcome, reason string) int {
	return int(testutil.ToFloat64(m.events.WithLabelValues(sink, outcome, reason)))
}

func TestBatchBySize(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	p.Add("s", s, nil, SinkOptions{BatchSize: 3, FlushInterval: time.Hour, QueueSize: 10, Linger: true})
	p.Start()
	for i := range 3 {
		p.Push(ev(clk, fmt.Sprint(i)))
	}
	b := s.next(t)
	if len(b) != 3 {
		t.Fatalf("batch of %d, want 3", len(b))
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 3) // counted once Export has returned
	_ = p.Shutdown(context.Background())
}

func TestBatchByAge(t *testing.T) {
	p, clk, _ := newTestPipeline(t)
	s := newRecordingSink()
	p.Add("s", s, nil, SinkOptions{BatchSize: 100, FlushInterval: 200 * time.Millisecond, QueueSize: 10, Linger: true})
	p.Start()
	p.Push(ev(clk, "a"))
	waitForTimer(t, clk)
	s.none(t)
	clk.Step(100 * time.Millisecond)
	p.Push(ev(clk, "b"))
	s.none(t)
	waitForTimer(t, clk)
	clk.Step(100 * time.Millisecond) // "a" is now 200ms old
	b := s.next(t)
	if len(b) != 2 || b[0].Name != "a" || b[1].Name != "b" {
		t.Fatalf("got batch %v, want [a b] in order", names(b))
	}
	_ = p.Shutdown(context.Background())
}

func names(b []*Event) []string {
	var out []string
	for _, e := range b {
		out = append(out, e.Name)
	}
	return out
}

func TestRetryWithBackoffThenDeliver(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(attempt int, _ []*Event) error {
		if attempt <= 2 {
			return errors.New("503 Service Unavailable")
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(ev(clk, "a"))
	s.next(t) // attempt 1 fails
	waitForTimer(t, clk)
	s.none(t) // no retry before the backoff elapses
	clk.Step(time.Second)
	s.next(t) // attempt 2 fails
	waitForTimer(t, clk)
	clk.Step(999 * time.Millisecond) // second delay is 2s: not yet
	s.none(t)
	clk.Step(time.Second + time.Millisecond)
	s.next(t) // attempt 3 succeeds
	if got := int(testutil.ToFloat64(m.retries.WithLabelValues("s"))); got != 2 {
		t.Fatalf("retries = %d, want 2", got)
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 1)
	_ = p.Shutdown(context.Background())
}

func waitCount(t *testing.T, m *Metrics, sink, outcome, reason string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for count(m, sink, outcome, reason) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s/%s = %d, want %d", sink, outcome, reason, count(m, sink, outcome, reason), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(int, []*Event) error { return Permanent(errors.New("400 bad payload")) }
	p.Add("s", s, nil, SinkOptions{BatchSize: 2, QueueSize: 10, Linger: true, FlushInterval: time.Hour}) // one batch of all, not the first alone
	p.Start()
	p.Push(ev(clk, "a"))
	p.Push(ev(clk, "b"))
	s.next(t)
	waitCount(t, m, "s", OutcomeDropped, DropRejected, 2)
	s.none(t)
	if clk.HasWaiters() {
		t.Fatal("worker is waiting on a backoff timer after a permanent error")
	}
	_ = p.Shutdown(context.Background())
}

func TestPartialErrorRetriesOnlyTheFailed(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(attempt int, b []*Event) error {
		if attempt == 1 {
			return &PartialError{Failed: b[1:], Err: errors.New("503 on second")}
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 3, QueueSize: 10, Linger: true, FlushInterval: time.Hour}) // one batch of all, not the first alone
	p.Start()
	for _, n := range []string{"a", "b", "c"} {
		p.Push(ev(clk, n))
	}
	if got := names(s.next(t)); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("first attempt %v", got)
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 1)
	waitForTimer(t, clk)
	clk.Step(2 * time.Second)
	if got := names(s.next(t)); fmt.Sprint(got) != "[b c]" {
		t.Fatalf("retry sent %v, want [b c]", got)
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 3)
	_ = p.Shutdown(context.Background())
}

// A batch with every fate: a delivered, b refused for good, c not taken now. Only c is sent
// again; b is counted as rejected once and never retried, and the watermark passes all three.
func TestMixedOutcomesRetryOnlyWhatMaySucceed(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(attempt int, b []*Event) error {
		if attempt == 1 {
			var out Outcomes
			out.Reject(errors.New("400 bad payload"), b[1])
			out.Retry(errors.New("503 busy"), b[2])
			return out.Err(len(b))
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 3, QueueSize: 10, Linger: true, FlushInterval: time.Hour}) // one batch of all, not the first alone
	p.Start()
	for _, n := range []string{"a", "b", "c"} {
		p.Push(ev(clk, n))
	}
	if got := names(s.next(t)); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("first attempt %v", got)
	}
	waitCount(t, m, "s", OutcomeDropped, DropRejected, 1)
	waitCount(t, m, "s", OutcomeDelivered, "", 1)
	waitForTimer(t, clk)
	clk.Step(2 * time.Second)
	if got := names(s.next(t)); fmt.Sprint(got) != "[c]" {
		t.Fatalf("retry sent %v, want [c]", got)
	}
	waitCount(t, m, "s", OutcomeDelivered, "", 2)
	if got := testutil.ToFloat64(m.events.WithLabelValues("s", OutcomeDropped, DropRejected)); got != 1 {
		t.Fatalf("rejected %v, want 1", got)
	}
	_ = p.Shutdown(context.Background())
}

func TestOutcomesErr(t *testing.T) {
	evs := []*Event{{}, {}, {}}
	busy, bad := errors.New("503 busy"), errors.New("400 bad")
	var none Outcomes
	if err := none.Err(3); err != nil {
		t.Fatalf("all delivered: %v", err)
	}
	var allRetry Outcomes
	allRetry.Retry(busy, evs...)
	if err := allRetry.Err(3); err != busy {
		t.Fatalf("all retried: %v, want the error itself", err)
	}
	var allRejected Outcomes
	allRejected.Reject(bad, evs[0])
	allRejected.Reject(errors.New("413"), evs[1], evs[2])
	err := allRejected.Err(3)
	if !IsPermanent(err) || !errors.Is(err, bad) || !strings.Contains(err.Error(), "3 of 3 events refused for good; the first: 400 bad") {
		t.Fatalf("all rejected: %v", err)
	}
	var mixed Outcomes
	mixed.Reject(bad, evs[0])
	mixed.Retry(Credential(errors.New("401"), "check the token"), evs[2])
	err = mixed.Err(3)
	var partial *PartialError
	if !errors.As(err, &partial) || len(partial.Failed) != 1 || len(partial.Rejected) != 1 {
		t.Fatalf("mixed: %#v", err)
	}
	if !IsCredential(err) || IsPermanent(err) {
		t.Fatalf("mixed: the retried part decides the kind: %v", err)
	}
	if want := "1 of 3 events not delivered: 401; 1 of 3 events refused for good: 400 bad"; err.Error() != want {
		t.Fatalf("mixed: %q, want %q", err, want)
	}
}

func TestFullQueueDropsAndCountsWithoutBlockingOtherSinks(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	dead := newRecordingSink()
	dead.block = make(chan struct{}) // never answers
	live := newRecordingSink()
	p.Add("dead", dead, nil, SinkOptions{BatchSize: 1, QueueSize: 2})
	p.Add("live", live, nil, SinkOptions{BatchSize: 1, QueueSize: 100})
	p.Start()
	for i := range 10 {
		p.Push(ev(clk, fmt.Sprint(i)))
	}
	for range 10 {
		live.next(t)
	}
	// One event is inside the blocked Export, two wait in the queue, the rest are dropped.
	deadline := time.Now().Add(10 * time.Second)
	for count(m, "dead", OutcomeDropped, DropQueueFull) < 7 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	drops := count(m, "dead", OutcomeDropped, DropQueueFull)
	if drops != 7 && drops != 8 {
		t.Fatalf("dropped = %d, want 7 (or 8 if the worker had not taken the first event yet)", drops)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time left: what is queued is counted as dropped at shutdown
	_ = p.Shutdown(ctx)
	total := drops + count(m, "dead", OutcomeDropped, DropShutdown) + count(m, "dead", OutcomeDelivered, "")
	if total != 10 {
		t.Fatalf("dead sink accounted for %d events, want all 10", total)
	}
}

func TestFilterCountsFiltered(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	p.Add("s", s, matchFunc(func(e *Event) bool { return e.Name != "skip" }), SinkOptions{BatchSize: 1})
	p.Start()
	p.Push(ev(clk, "skip"))
	p.Push(ev(clk, "keep"))
	if b := s.next(t); b[0].Name != "keep" {
		t.Fatalf("got %s", b[0].Name)
	}
	if got := count(m, "s", OutcomeFiltered, ""); got != 1 {
		t.Fatalf("filtered = %d", got)
	}
	_ = p.Shutdown(context.Background())
}

func TestShutdownFlushesWithoutWaitingForTheBatch(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	p.Add("s", s, nil, SinkOptions{BatchSize: 100, FlushInterval: time.Hour, QueueSize: 100})
	p.Start()
	for i := range 5 {
		p.Push(ev(clk, fmt.Sprint(i)))
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := count(m, "s", OutcomeDelivered, ""); got != 5 {
		t.Fatalf("delivered at shutdown = %d, want 5", got)
	}
	if !s.closed {
		t.Fatal("sink not closed")
	}
	p.Push(ev(clk, "late"))
	if got := count(m, "s", OutcomeDropped, DropShutdown); got != 1 {
		t.Fatalf("push after shutdown: dropped = %d, want 1", got)
	}
}

func TestPanickingSinkIsAPermanentFailure(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(attempt int, b []*Event) error {
		if b[0].Name == "bad" {
			panic("nil map")
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(ev(clk, "bad"))
	p.Push(ev(clk, "good"))
	s.next(t)
	s.next(t)
	waitCount(t, m, "s", OutcomeDropped, DropRejected, 1)
	waitCount(t, m, "s", OutcomeDelivered, "", 1)
	_ = p.Shutdown(context.Background())
}

func TestRetryAfterIsHonoured(t *testing.T) {
	p, clk, _ := newTestPipeline(t)
	s := newRecordingSink()
	s.fail = func(attempt int, _ []*Event) error {
		if attempt == 1 {
			return retryAfterErr{5 * time.Second}
		}
		return nil
	}
	p.Add("s", s, nil, SinkOptions{BatchSize: 1, QueueSize: 10})
	p.Start()
	p.Push(ev(clk, "a"))
	s.next(t)
	waitForTimer(t, clk)
	clk.Step(4 * time.Second) // past the 1s backoff, but Retry-After asked for 5s
	s.none(t)
	clk.Step(time.Second)
	s.next(t)
	_ = p.Shutdown(context.Background())
}

type retryAfterErr struct{ d time.Duration }

func (e retryAfterErr) Error() string             { return "429 Too Many Requests" }
func (e retryAfterErr) RetryAfter() time.Duration { return e.d }
