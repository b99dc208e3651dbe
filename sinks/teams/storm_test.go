package teams_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/teams"
)

// TestStormIsPacedAndAccounted sends 1,000 Warning events arriving over two simulated minutes
// through the sink as core's pipeline would (batches of up to 500 events or 200 ms, one export
// at a time, a retryable failure retried after its RetryAfter), on a fake clock. Teams must see
// at most 20 messages in any 60 seconds, each within its limits, and every event must be named
// or counted exactly once.
func TestStormIsPacedAndAccounted(t *testing.T) {
	for _, spacing := range []time.Duration{120 * time.Millisecond, 5 * time.Millisecond} {
		t.Run("one event every "+spacing.String(), func(t *testing.T) { testStorm(t, spacing) })
	}
}

func testStorm(t *testing.T, spacing time.Duration) {
	// The fake clock runs ahead of the real one: an export's deadline "now" on the fake clock
	// then lets the pacer refuse to wait (as it does when its slot is past a real deadline)
	// without the real context expiring.
	clk := clocktesting.NewFakeClock(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFakeWorkflow(t)
	f.now = clk.Now
	cfg, err := teams.ParseConfig(target(t, "teams:"+f.hookURL()), sinks.Env{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pacing.Clock = clk
	s, err := teams.NewFromConfig(sinks.Env{Ctx: context.Background(), Cluster: "prod", Location: time.UTC}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const n = 1000
	events := storm(n)
	start := clk.Now()
	arrival := func(i int) time.Time { return start.Add(time.Duration(i) * spacing) }
	runPipeline(t, clk, s, events, arrival)

	f.noProblems(t)
	msgs := f.messages()
	seen := map[string]int{}
	counted := 0
	for _, m := range msgs {
		named, more := account(t, m.Message)
		for _, name := range named {
			seen[name]++
		}
		counted += more
	}
	for name, c := range seen {
		if c > 1 {
			t.Errorf("%s is named in %d messages", name, c)
		}
	}
	if len(seen)+counted != n {
		t.Errorf("the messages name %d events and count %d more: %d, want %d", len(seen), counted, len(seen)+counted, n)
	}
	worst := 0
	for i, m := range msgs {
		inWindow := 0
		for _, o := range msgs[i:] {
			if o.At.Sub(m.At) < time.Minute {
				inWindow++
			}
		}
		worst = max(worst, inWindow)
	}
	if worst > 20 {
		t.Errorf("%d messages within 60 s, want at most 20", worst)
	}
	t.Logf("%d events over %s became %d messages (at most %d in any minute), %d named, %d counted",
		n, arrival(n-1).Sub(start), len(msgs), worst, len(seen), counted)
}

// runPipeline plays core's pipeline for one sink on a fake clock: events arrive at arrival(i);
// a batch is cut when 500 events wait or the oldest has waited 200 ms; one export runs at a
// time, with a deadline of "now" so the pacer never blocks; a retryable error is retried with
// the same batch after its RetryAfter. It returns when every event is delivered.
func runPipeline(t *testing.T, clk *clocktesting.FakeClock, s core.Sink, events []*core.Event, arrival func(int) time.Time) {
	t.Helper()
	const batchSize, flush, tick = 500, 200 * time.Millisecond, 10 * time.Millisecond
	var queue, inflight []*core.Event
	var oldest, retryAt time.Time
	next, delivered := 0, 0
	for delivered < len(events) {
		now := clk.Now()
		for next < len(events) && !arrival(next).After(now) {
			if len(queue) == 0 {
				oldest = arrival(next)
			}
			queue = append(queue, events[next])
			next++
		}
		if inflight == nil && len(queue) > 0 && (len(queue) >= batchSize || now.Sub(oldest) >= flush) {
			k := min(batchSize, len(queue))
			inflight, queue = queue[:k:k], queue[k:]
			if len(queue) > 0 {
				oldest = now
			}
		}
		if inflight != nil && !now.Before(retryAt) {
			ctx, cancel := context.WithDeadline(context.Background(), now)
			err := s.Export(ctx, inflight)
			cancel()
			var ra interface{ RetryAfter() time.Duration }
			switch {
			case err == nil:
				delivered += len(inflight)
				inflight = nil
			case !core.IsPermanent(err) && errors.As(err, &ra):
				retryAt = now.Add(ra.RetryAfter())
			default:
				t.Fatalf("export of %d events: %v", len(inflight), err)
			}
		}
		clk.Step(tick)
		if clk.Since(arrival(0)) > time.Hour {
			t.Fatalf("after an hour of simulated time %d of %d events are delivered", delivered, len(events))
		}
	}
}
