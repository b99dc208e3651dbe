package core

import (
	"sync"
	"time"

	"github.com/golang/glog"
	"k8s.io/utils/clock"
)

// Reasons a sink is down, the "reason" label of herald_sink_down_reason.
const (
	// ReasonCredential: the receiver refuses herald's credential or authorisation (Credential).
	ReasonCredential = "credential"
	// ReasonTimeout: an export got no answer within the export timeout.
	ReasonTimeout = "timeout"
	// ReasonError: any other retryable failure (unreachable, 5xx, rate limited).
	ReasonError = "error"
)

// Kinds of failed export attempts, the "kind" label of herald_sink_export_errors_total.
const (
	ErrorRetryable  = "retryable"
	ErrorCredential = "credential"
	ErrorPermanent  = "permanent"
)

// failure is one failed export attempt as health sees it.
type failure struct {
	err     error
	reason  string
	attempt int           // of this batch, from 1
	delay   time.Duration // until the next attempt
	batch   int           // events in the failed attempt
	queued  int           // events waiting behind it
}

// health is whether one sink works, as the pipeline sees it: up until an export fails with
// nothing delivered, down (with a reason) until one succeeds again. It owns the sink's
// herald_sink_up, herald_sink_down_reason and herald_sink_last_success_timestamp_seconds, and the
// log lines of an outage: one when it starts (with the fix), one when the reason changes, a
// reminder every remindEvery while it lasts, and one when the sink is back.
type health struct {
	id      string
	metrics *Metrics
	clock   clock.PassiveClock
	hint    string        // SinkOptions.CredentialHint
	credCap time.Duration // Backoff.CredentialMax

	mu         sync.Mutex
	down       bool
	reason     string
	since      time.Time
	attempts   int // failed attempts in this outage
	lastRemind time.Time
}

// remindEvery is how often a lasting outage is logged again.
const remindEvery = 10 * time.Minute

func newHealth(id string, m *Metrics, clk clock.PassiveClock, hint string, credCap time.Duration) *health {
	h := &health{id: id, metrics: m, clock: clk, hint: hint, credCap: credCap}
	m.up.WithLabelValues(id).Set(1)
	// Known good at start: a sink that never succeeds is caught by herald_sink_up, and a
	// quiet one must not look stale.
	m.lastSuccess.WithLabelValues(id).Set(float64(clk.Now().UnixNano()) / 1e9)
	return h
}

// succeeded records a delivery; queued events are still waiting.
func (h *health) succeeded(queued int) {
	now := h.clock.Now()
	h.metrics.lastSuccess.WithLabelValues(h.id).Set(float64(now.UnixNano()) / 1e9)
	h.mu.Lock()
	was, reason, since, attempts := h.down, h.reason, h.since, h.attempts
	h.down, h.reason, h.attempts = false, "", 0
	h.mu.Unlock()
	if !was {
		return
	}
	h.metrics.up.WithLabelValues(h.id).Set(1)
	h.metrics.downReason.DeleteLabelValues(h.id, reason)
	what := "failed"
	if reason == ReasonCredential {
		what = "refused the credential"
	}
	glog.Infof("sink %s: up again after %s (the receiver %s on %d attempt(s)); delivering the %d event(s) still queued", h.id, now.Sub(since).Round(time.Second), what, attempts, queued)
}

// answered records a reply that refused the events but shows the receiver works (a permanent
// error for this payload).
func (h *health) answered() {
	h.mu.Lock()
	was := h.down
	h.mu.Unlock()
	if was {
		h.succeeded(0)
	}
}

// failed records a failed attempt and logs what an operator needs.
func (h *health) failed(f failure) {
	now := h.clock.Now()
	h.mu.Lock()
	started := !h.down
	changed := h.down && h.reason != f.reason
	old := h.reason
	if started {
		h.since = now
		h.lastRemind = now
		h.attempts = 0
	}
	h.down, h.reason = true, f.reason
	h.attempts++
	remind := !started && !changed && now.Sub(h.lastRemind) >= remindEvery
	if remind || changed {
		h.lastRemind = now
	}
	since, attempts := h.since, h.attempts
	h.mu.Unlock()

	if started || changed {
		h.metrics.up.WithLabelValues(h.id).Set(0)
		if changed {
			h.metrics.downReason.DeleteLabelValues(h.id, old)
		}
		h.metrics.downReason.WithLabelValues(h.id, f.reason).Set(1)
	}
	held := f.batch + f.queued
	switch {
	case f.reason == ReasonCredential && (started || changed):
		glog.Errorf("sink %s is down: the receiver refused the credential: %v; %s. herald keeps the %d event(s) held for this sink and every new one (up to queue_size), retries with backoff up to %s, and delivers them once the credential works; herald_sink_up{sink=%q} is 0 until then", h.id, f.err, h.credentialFix(f.err), held, h.credCap, h.id)
	case started || changed:
		glog.Warningf("sink %s is down: export of %d event(s) failed (attempt %d), retrying in %s: %v; %d more event(s) wait in its queue; herald_sink_up{sink=%q} is 0 until an export succeeds", h.id, f.batch, f.attempt, f.delay.Round(time.Millisecond), f.err, f.queued, h.id)
	case remind:
		glog.Warningf("sink %s is still down (%s) since %s: %d failed attempt(s), next in %s; %d event(s) held; last error: %v", h.id, f.reason, since.Format(time.RFC3339), attempts, f.delay.Round(time.Second), held, f.err)
	default:
		glog.V(1).Infof("sink %s: export failed (attempt %d of this outage), retrying in %s: %v", h.id, attempts, f.delay.Round(time.Millisecond), f.err)
	}
}

// credentialFix is what to do about a refused credential: the sink's own fix, then where the
// credential comes from.
func (h *health) credentialFix(err error) string {
	fix := CredentialFix(err)
	if fix == "" {
		fix = "fix the credential the sink sends"
	}
	if h.hint != "" {
		fix += "; " + h.hint
	}
	return fix
}
