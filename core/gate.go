package core

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
)

// gate paces the attempts of one sink's lanes while the sink is failing: one backoff schedule
// for the sink, not one per lane, so a sink with four lanes that is down sees one attempt per
// backoff step, not four. While the sink works every lane exports freely. Once an export fails
// the gate closes until the retry is due; then one lane (the probe) tries, and the others wait
// for its outcome: a success opens the gate for all, a failure sets the next retry.
type gate struct {
	clk  clock.Clock
	conf Backoff

	mu      sync.Mutex
	down    bool
	probing bool
	next    time.Time
	backoff wait.Backoff
	changed chan struct{} // closed and replaced each time the state changes
}

func newGate(clk clock.Clock, b Backoff) *gate {
	g := &gate{clk: clk, conf: b, changed: make(chan struct{})}
	g.reset()
	return g
}

func (g *gate) reset() {
	b := g.conf
	g.backoff = wait.Backoff{Duration: b.Initial, Factor: b.Factor, Jitter: b.Jitter, Cap: b.Max, Steps: 1 << 30}
}

// broadcast wakes every waiter (called with mu held).
func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// acquire waits until this lane may export: at once while the sink works; while it is down, until
// the retry is due and no other lane is probing. probe is true when this lane is the one trying.
// It returns ok false when ctx ends first.
func (g *gate) acquire(ctx context.Context) (probe, ok bool) {
	for {
		g.mu.Lock()
		if !g.down {
			g.mu.Unlock()
			return false, true
		}
		now := g.clk.Now()
		if !g.probing && !now.Before(g.next) {
			g.probing = true
			g.mu.Unlock()
			return true, true
		}
		changed := g.changed
		var timer clock.Timer
		var due <-chan time.Time
		if !g.probing {
			timer = g.clk.NewTimer(g.next.Sub(now))
			due = timer.C()
		}
		g.mu.Unlock()
		select {
		case <-changed:
		case <-due:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return false, false
		}
	}
}

// retryNow makes the next retry due at once, keeping the gate closed for one probe (a new
// sink replaced a failing one: its first attempt should not wait out the old one's backoff).
func (g *gate) retryNow() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		g.next = g.clk.Now()
		g.reset()
		g.broadcast()
	}
}

// succeeded records that an export got through (or the receiver answered): the gate opens for
// every lane and the schedule starts again from Initial.
func (g *gate) succeeded(probe bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if probe {
		g.probing = false
	}
	if g.down || probe {
		g.down = false
		g.reset()
		g.broadcast()
	}
}

// failed records a failed export and returns the wait until the next attempt. The schedule
// steps once per probe (and once when the sink goes down); a lane whose export was already in
// flight when another failed does not step it again. limit caps the step (Backoff.Max, or
// CredentialMax while the credential is refused); retryAfter, when longer, is honoured up to
// ten times Backoff.Max.
func (g *gate) failed(probe bool, limit, retryAfter time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clk.Now()
	if probe {
		g.probing = false
	}
	if probe || !g.down {
		if g.backoff.Cap != limit {
			// wait.Backoff stops growing once it reaches its cap: start growing again under a
			// higher one, or come down to a lower one.
			g.backoff.Cap, g.backoff.Steps = limit, 1<<30
			g.backoff.Duration = min(g.backoff.Duration, limit)
		}
		delay := g.backoff.Step()
		if retryAfter > delay {
			delay = min(retryAfter, 10*g.conf.Max)
		}
		g.down = true
		g.next = now.Add(delay)
		g.broadcast()
		return delay
	}
	return max(g.next.Sub(now), 0)
}
