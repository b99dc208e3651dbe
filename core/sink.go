package core

import (
	"context"
	"errors"
)

// Sink delivers events somewhere. Export makes one attempt: backoff, deadlines, batching and
// counting live in the Pipeline. An error marked with Permanent is not retried; any other error
// is retried with exponential backoff.
type Sink interface {
	// Name is the sink's scheme ("webhook", "kafka", ...): stable, for metrics and logs.
	Name() string
	// Export delivers a batch. It must not mutate the events.
	Export(ctx context.Context, events []*Event) error
	// Close flushes and releases the sink; it is called once, at shutdown.
	Close() error
}

// permanentError marks an error that retrying cannot fix (a 400 from a robot, a bad SQL type).
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
