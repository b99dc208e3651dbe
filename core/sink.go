package core

import (
	"context"
	"errors"
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

// PartialError reports that some events of a batch were delivered and others were not. The
// pipeline retries only Failed (and only if Err is not permanent).
type PartialError struct {
	Failed []*Event
	Err    error
}

func (p *PartialError) Error() string { return p.Err.Error() }
func (p *PartialError) Unwrap() error { return p.Err }

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
