package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sink delivers events somewhere. Export makes one attempt: backoff, deadlines, batching and
// counting live in the Pipeline. An error marked with Permanent is not retried (the events can
// never be delivered as they are); an error marked with Credential makes the sink down until the
// credential works; any other error is retried with exponential backoff. Export must return
// when ctx ends.
type Sink interface {
	// Name is the sink's scheme ("webhook", "kafka", ...): stable, for metrics and logs.
	Name() string
	// Export delivers a batch. It must not mutate the events.
	Export(ctx context.Context, events []*Event) error
	// Close flushes and releases the sink; it is called once, at shutdown.
	Close() error
}

// permanentError marks an error that retrying cannot fix for these events (a 400 from a robot
// for this payload, a bad SQL value, an oversized record). A refused credential is not one: see
// Credential.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// PartialError reports a batch whose events did not all have one fate; the events in neither
// list were delivered. Failed events may succeed later: the pipeline retries them as Err says (a
// plain error is retried with backoff, a Credential one makes the sink down until it works).
// Rejected events never will (a 400 for that payload, an oversized record): the pipeline counts
// them as dropped with reason rejected, logs RejectErr, and never sends them again. A sink builds
// one with Outcomes. (A permanent Err makes Failed rejected too, as before Rejected existed.)
type PartialError struct {
	Failed []*Event
	Err    error

	Rejected  []*Event
	RejectErr error
}

func (p *PartialError) Error() string {
	switch {
	case p.Err == nil:
		return p.RejectErr.Error()
	case p.RejectErr == nil:
		return p.Err.Error()
	}
	return fmt.Sprintf("%v; %v", p.Err, p.RejectErr)
}

// Unwrap is Err, which decides how Failed is retried; RejectErr when nothing is retried.
func (p *PartialError) Unwrap() error {
	if p.Err == nil {
		return p.RejectErr
	}
	return p.Err
}

// SendEach is Export for a sink that sends one event at a time, in order: an event send refuses
// permanently is rejected alone and the others are still sent; at the first failure worth
// retrying it stops, and that event and the rest are retried.
func SendEach(ctx context.Context, events []*Event, send func(context.Context, *Event) error) error {
	var out Outcomes
	for i, e := range events {
		err := send(ctx, e)
		switch {
		case err == nil:
		case IsPermanent(err):
			out.Reject(err, e)
		default:
			out.Retry(err, events[i:]...)
			return out.Err(len(events))
		}
	}
	return out.Err(len(events))
}

// Fates reads Export's error for batch as the pipeline does: the events to retry (with the error
// that decides how) and the events rejected for good (with why); the rest were delivered.
func Fates(err error, batch []*Event) (retry []*Event, retryErr error, rejected []*Event, rejectErr error) {
	if err == nil {
		return nil, nil, nil, nil
	}
	retry, retryErr = batch, err
	var partial *PartialError
	if errors.As(err, &partial) {
		retry, retryErr = partial.Failed, partial.Err
		rejected, rejectErr = partial.Rejected, partial.RejectErr
	}
	if len(retry) > 0 && IsPermanent(retryErr) && !IsCredential(retryErr) {
		// A permanent error on the failed events is a verdict on them too.
		rejected = append(append([]*Event(nil), rejected...), retry...)
		if rejectErr == nil {
			rejectErr = retryErr
		} else {
			rejectErr = fmt.Errorf("%v; %w", rejectErr, retryErr)
		}
		retry, retryErr = nil, nil
	}
	return retry, retryErr, rejected, rejectErr
}

// Outcomes collects the fate of each event of a batch as a sink learns it, and gives Export's
// error: nil when every event was delivered, the error itself when all share one fate, else a
// *PartialError. The zero value is ready to use; events not marked were delivered.
//
//	var out core.Outcomes
//	for i, e := range events {
//		if err := send(e); core.IsPermanent(err) {
//			out.Reject(err, e) // this one never; go on with the others
//		} else if err != nil {
//			out.Retry(err, events[i:]...) // these may later; stop here
//			break
//		}
//	}
//	return out.Err(len(events))
type Outcomes struct {
	retry, rejected     []*Event
	retryErr, rejectErr error
	retries, rejections int // calls, to say "the first of N"
}

// Retry marks events as not delivered now but worth retrying, for err (the first err given is
// the one returned; a Credential one makes the sink down).
func (o *Outcomes) Retry(err error, events ...*Event) {
	if len(events) == 0 {
		return
	}
	o.retry = append(o.retry, events...)
	o.retries++
	if o.retryErr == nil {
		o.retryErr = err
	}
}

// Reject marks events as refused for good, for err.
func (o *Outcomes) Reject(err error, events ...*Event) {
	if len(events) == 0 {
		return
	}
	o.rejected = append(o.rejected, events...)
	o.rejections++
	if o.rejectErr == nil {
		o.rejectErr = err
	}
}

// Err is Export's error for a batch of total events.
func (o *Outcomes) Err(total int) error {
	retryErr, rejectErr := o.retryErr, o.rejectErr
	if n := len(o.retry); n > 0 && n < total {
		retryErr = wrapCount(retryErr, n, total, "not delivered", o.retries)
	}
	if n := len(o.rejected); n > 0 && (n < total || o.rejections > 1) {
		rejectErr = wrapCount(rejectErr, n, total, "refused for good", o.rejections)
	}
	return Partial(total, o.retry, retryErr, o.rejected, rejectErr)
}

// Partial is Export's error for a batch of total events of which retry may succeed later (for
// retryErr) and rejected never will (for rejectErr), the rest delivered: nil, retryErr itself
// when every event is to be retried, rejectErr (made permanent) when every event was rejected,
// else a *PartialError. Sinks that sort a bulk reply into the two use it; sinks that send event
// by event use Outcomes.
func Partial(total int, retry []*Event, retryErr error, rejected []*Event, rejectErr error) error {
	switch {
	case len(retry) == 0 && len(rejected) == 0:
		return nil
	case len(retry) == total:
		return retryErr
	case len(rejected) == total:
		if !IsPermanent(rejectErr) {
			rejectErr = Permanent(rejectErr)
		}
		return rejectErr
	}
	return &PartialError{Failed: retry, Err: retryErr, Rejected: rejected, RejectErr: rejectErr}
}

func wrapCount(err error, n, total int, what string, calls int) error {
	if err == nil {
		return nil
	}
	if calls > 1 {
		return fmt.Errorf("%d of %d events %s; the first: %w", n, total, what, err)
	}
	return fmt.Errorf("%d of %d events %s: %w", n, total, what, err)
}

// credentialError marks a refusal of herald's credential or authorisation (an HTTP 401 or 403,
// a chat robot's "invalid key" code, a failed SASL handshake, MySQL's access denied): every
// event would fail the same way until someone fixes the credential, and every event will
// succeed once they have. The pipeline treats it as an outage of the sink, never as a verdict on
// the events.
type credentialError struct {
	err error
	fix string
}

func (c *credentialError) Error() string { return c.err.Error() }
func (c *credentialError) Unwrap() error { return c.err }

// Credential marks err as the receiver refusing herald's credential or authorisation. fix says
// what to change ("check user and password"); it may be empty. The pipeline keeps the sink's
// queue, marks the sink down, logs once with the fix, and retries with backoff up to
// Backoff.CredentialMax until the credential works. Credential(nil, ...) is nil. A credential
// error wins over Permanent when both mark the same error.
func Credential(err error, fix string) error {
	if err == nil {
		return nil
	}
	return &credentialError{err: err, fix: fix}
}

// IsCredential reports whether err, or any error it wraps, was marked with Credential.
func IsCredential(err error) bool {
	var c *credentialError
	return errors.As(err, &c)
}

// CredentialFix is the fix given to Credential for err (the outermost one), "" when none.
func CredentialFix(err error) string {
	var c *credentialError
	if errors.As(err, &c) {
		return c.fix
	}
	return ""
}

// Reasons counts the distinct reasons a bulk reply gives for the events it did not take, in the
// order first seen, for one error line ("2× status 400: bad field; 1× status 503: busy"). The
// zero value is ready to use.
type Reasons struct {
	order []string
	n     map[string]int
}

// Add counts one event refused for reason.
func (r *Reasons) Add(reason string) {
	if r.n == nil {
		r.n = map[string]int{}
	}
	if r.n[reason] == 0 {
		r.order = append(r.order, reason)
	}
	r.n[reason]++
}

// String is each reason once, with its count, in the order first seen.
func (r *Reasons) String() string {
	var b strings.Builder
	for i, k := range r.order {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d× %s", r.n[k], k)
	}
	return b.String()
}

// RetryAfter marks err as retryable no sooner than after d (a receiver's Retry-After): the
// pipeline waits at least d before the next attempt.
func RetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &retryAfterError{err: err, d: d}
}

type retryAfterError struct {
	err error
	d   time.Duration
}

func (e *retryAfterError) Error() string             { return e.err.Error() }
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.d }
