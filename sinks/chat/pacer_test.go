package chat

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

// waitDriven runs p.Wait while stepping clk in small steps until it returns, as the passing
// of time would, and returns Wait's result.
func waitDriven(t *testing.T, ctx context.Context, p *Pacer, clk *clocktesting.FakeClock) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if clk.HasWaiters() {
			clk.Step(50 * time.Millisecond)
		} else {
			runtime.Gosched()
		}
	}
}

func TestPacerBurstThenRefill(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 20, Burst: 3, Clock: clk})
	for i := range 3 {
		if !p.TryTake(1) {
			t.Fatalf("token %d of the burst refused", i+1)
		}
	}
	if p.TryTake(1) {
		t.Fatal("a fourth message right away: the burst is 3")
	}
	// Refill is 17 a minute: one token every 60/17 s = 3.529 s.
	clk.Step(3500 * time.Millisecond)
	if p.TryTake(1) {
		t.Fatal("token available after 3.5 s, want after 3.53 s")
	}
	clk.Step(30 * time.Millisecond)
	if !p.TryTake(1) {
		t.Fatal("no token after 3.53 s")
	}
	if p.TryTake(2) {
		t.Fatal("TryTake(2) with no token took them")
	}
}

func TestPacerWaitBlocksUntilTheSlot(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 2, Burst: 1, Clock: clk})
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	if err := waitDriven(t, context.Background(), p, clk); err != nil {
		t.Fatal(err)
	}
	// PerMinute 2, burst 1: one token a minute.
	if got := clk.Since(start); got < time.Minute || got > time.Minute+100*time.Millisecond {
		t.Fatalf("second message after %s of simulated time, want 1m", got)
	}
}

func TestPacerWaitBeyondDeadlineReturnsRetryAfter(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 2, Burst: 1, Clock: clk})
	if !p.TryTake(1) {
		t.Fatal("first token refused")
	}
	// The fake clock stands still, so a real deadline of 1 s is "sooner" than the slot.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.Wait(ctx)
	var we *WaitError
	if !errors.As(err, &we) || we.RetryAfter() != time.Minute {
		t.Fatalf("got %v, want a WaitError with RetryAfter 1m", err)
	}
	// The slot was not taken: a minute later exactly one message may go.
	clk.Step(time.Minute)
	if !p.TryTake(1) || p.TryTake(1) {
		t.Fatal("the cancelled reservation was kept or the bucket holds more than one token")
	}
}

func TestPacerWaitHonoursCancel(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 2, Burst: 1, Clock: clk})
	p.TryTake(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	for !clk.HasWaiters() {
		runtime.Gosched()
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// No 60-second window ever holds more than PerMinute messages, however hard a sender pushes.
func TestPacerWindowNeverExceedsPerMinute(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 20, Burst: 5, Clock: clk})
	var sent []time.Time
	for range 120 {
		if err := waitDriven(t, context.Background(), p, clk); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, clk.Now())
	}
	if worst := maxInWindow(sent, time.Minute); worst > 20 {
		t.Fatalf("%d messages in one minute, want at most 20", worst)
	}
	// And the pacer is not needlessly slow: 120 messages take about (120-5)/15 minutes.
	if took := sent[len(sent)-1].Sub(t0); took > 8*time.Minute {
		t.Fatalf("120 messages took %s, want under 8m (15 a minute after a burst of 5)", took)
	}
}

// maxInWindow is the largest number of times within any half-open window [t, t+w).
func maxInWindow(times []time.Time, w time.Duration) int {
	worst := 0
	for i, start := range times {
		n := 0
		for _, x := range times[i:] {
			if x.Sub(start) < w {
				n++
			}
		}
		worst = max(worst, n)
	}
	return worst
}

func TestSharedPacerPerRobot(t *testing.T) {
	a := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-a", PacerOptions{})
	b := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-a", PacerOptions{PerMinute: 5})
	c := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-c", PacerOptions{})
	if a != b || a == c {
		t.Fatalf("one robot must have one pacer and two robots two: %p %p %p", a, b, c)
	}
	if a.Options().PerMinute != DefaultPerMinute {
		t.Fatalf("first options should win, got %+v", a.Options())
	}
	// Sinks on another clock (tests) never share it.
	fake := clocktesting.NewFakeClock(time.Now())
	if d := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-a", PacerOptions{Clock: fake}); d == a {
		t.Fatal("a sink on a fake clock got the real clock's pacer")
	}
	// Once every sink has released it, the robot's next sink gets a new pacer, not the old
	// bucket (a test's server on a reused port, a sink rebuilt on reload).
	a.Release()
	if e := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-a", PacerOptions{}); e != a {
		t.Fatal("released by one of two sinks, the pacer must still be shared")
	}
	a.Release()
	a.Release()
	if f := SharedPacer("https://robot.example/send?key=TestSharedPacerPerRobot-a", PacerOptions{}); f == a {
		t.Fatal("released by every sink, the pacer must be forgotten")
	}
	c.Release()
}
