package chat

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/golang/glog"
	"golang.org/x/time/rate"
	"k8s.io/utils/clock"
)

// Default pacing: chat robots accept about 20 messages a minute (Work WeChat and DingTalk
// document 20; DingTalk then mutes the robot for ten minutes).
const (
	DefaultPerMinute = 20
	DefaultBurst     = 3
)

// PacerOptions configure a Pacer.
type PacerOptions struct {
	// PerMinute is the most messages any 60-second window may hold (default DefaultPerMinute).
	PerMinute int
	// Burst is how many messages may go out back to back after a quiet spell (default
	// DefaultBurst); it must be below PerMinute. The bucket refills at PerMinute-Burst a
	// minute, so a burst followed by steady sending still keeps every window within PerMinute.
	Burst int
	// Clock is the time source (default the real clock); tests pass a fake one.
	Clock clock.Clock
}

func (o PacerOptions) withDefaults() PacerOptions {
	if o.PerMinute <= 0 {
		o.PerMinute = DefaultPerMinute
	}
	if o.Burst <= 0 {
		o.Burst = min(DefaultBurst, max(o.PerMinute-1, 1))
	}
	if o.Burst >= o.PerMinute && o.PerMinute > 1 {
		o.Burst = o.PerMinute - 1
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

// Pacer is a token bucket for one robot: a sink takes a token before each message, so the
// robot never sees more than PerMinute messages in any 60-second window. It is safe for
// concurrent use; sinks that post to the same robot share one (see SharedPacer).
type Pacer struct {
	lim  *rate.Limiter
	clk  clock.Clock
	opts PacerOptions

	// key and users are set for a pacer of SharedPacer (guarded by sharedMu).
	key   *sharedKey
	users int
}

// NewPacer returns a full bucket.
func NewPacer(o PacerOptions) *Pacer {
	o = o.withDefaults()
	refill := o.PerMinute - o.Burst
	if refill < 1 {
		refill = 1 // PerMinute 1: one message a minute, no burst
	}
	return &Pacer{
		lim:  rate.NewLimiter(rate.Every(time.Minute/time.Duration(refill)), o.Burst),
		clk:  o.Clock,
		opts: o,
	}
}

// Options returns the pacer's settings, defaults filled in.
func (p *Pacer) Options() PacerOptions { return p.opts }

// TryTake takes n tokens if they are all available now, and reports whether it did. A sink
// uses it to send a small batch as separate messages only when that costs no waiting.
func (p *Pacer) TryTake(n int) bool {
	return p.lim.AllowN(p.clk.Now(), n)
}

// Wait blocks until one message may be sent and takes its token. It returns a *WaitError,
// without waiting and without taking the token, when ctx ends (or its deadline falls) before
// the token is due; the pipeline then retries after WaitError.RetryAfter.
func (p *Pacer) Wait(ctx context.Context) error {
	now := p.clk.Now()
	r := p.lim.ReserveN(now, 1)
	if !r.OK() {
		return &WaitError{Err: fmt.Errorf("the pacer refuses a single message (burst %d)", p.opts.Burst)}
	}
	delay := r.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	// The deadline is on the real clock, the delay on the pacer's (a fake one in tests):
	// compare durations, not instants.
	if dl, ok := ctx.Deadline(); ok && delay > time.Until(dl) {
		r.CancelAt(now)
		return &WaitError{Delay: delay, Err: fmt.Errorf("the next message slot is %s away, beyond this attempt's deadline", delay.Round(time.Millisecond))}
	}
	left := r.DelayFrom(p.clk.Now())
	if left <= 0 {
		return nil
	}
	t := p.clk.NewTimer(left)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		r.CancelAt(p.clk.Now())
		return &WaitError{Delay: delay, Err: fmt.Errorf("stopped waiting for the next message slot: %w", ctx.Err())}
	}
}

// WaitError is a message that was not sent because its slot was not reached. It is
// retryable; RetryAfter says when the slot comes.
type WaitError struct {
	Delay time.Duration
	Err   error
}

func (e *WaitError) Error() string { return "pacing (max_per_minute): " + e.Err.Error() }

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Err }

// RetryAfter is how long until the next message slot.
func (e *WaitError) RetryAfter() time.Duration { return e.Delay }

// sharedKey identifies a shared pacer: the robot, and the clock it runs on (sinks on different
// clocks, which only tests have, never share one).
type sharedKey struct {
	robot [32]byte
	clock clock.Clock
}

var (
	sharedMu sync.Mutex
	shared   = map[sharedKey]*Pacer{}
)

// SharedPacer returns the pacer of the robot identified by robot (its webhook URL with key,
// or corp and agent IDs), creating it with o on first use. Several --sink flags that post to
// one robot (different filters or mentions, same group) then share its 20 messages a minute.
// The first sink's options win; robot is hashed, never kept.
//
// Each sink calls Release when it closes; the last one forgets the pacer, so a later sink for the
// same robot (a test server on a reused port) starts with a full bucket, not a stale one.
func SharedPacer(robot string, o PacerOptions) *Pacer {
	o = o.withDefaults()
	k := sharedKey{robot: sha256.Sum256([]byte(robot)), clock: o.Clock}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if p, ok := shared[k]; ok {
		if o.PerMinute != p.opts.PerMinute || o.Burst != p.opts.Burst {
			glog.Warningf("two chat sinks post to the same robot with different pacing: the robot keeps max_per_minute=%d burst=%d, the later sink's max_per_minute=%d burst=%d does not apply", p.opts.PerMinute, p.opts.Burst, o.PerMinute, o.Burst)
		}
		p.users++
		return p
	}
	p := NewPacer(o)
	p.key, p.users = &k, 1
	shared[k] = p
	return p
}

// Release is called by a sink that no longer uses a pacer of SharedPacer (on Close). It does
// nothing for a pacer of NewPacer.
func (p *Pacer) Release() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if p.key == nil || p.users == 0 {
		return
	}
	if p.users--; p.users == 0 {
		delete(shared, *p.key)
	}
}
