package chat

import (
	"context"

	"github.com/heraldproject/herald/core"
)

// Sender is the part of a chat sink that formats and posts messages; Export decides how many
// messages a batch becomes.
type Sender interface {
	// SendEvent posts one event as its own message (the single-event layout, or the user's
	// template).
	SendEvent(ctx context.Context, e *core.Event) error
	// SendDigest posts the events merged into one message that names or counts each of them.
	SendDigest(ctx context.Context, events []*core.Event) error
}

// Export delivers a batch through s, paced by p. When the robot has a free slot for every
// event right now (a quiet moment, a batch of at most Burst events), each event is its own
// message. Otherwise the whole batch becomes one digest, sent in the next slot: in a storm
// every send carries everything that queued up since the last one, so the robot sees at most
// PerMinute messages a minute and every event is in one of them.
//
// Errors follow core.Sink: a digest that fails is retried whole; of separate messages, one the
// service refuses is rejected alone and the others are still sent, and at the first failure
// worth retrying that event and the rest are retried.
func Export(ctx context.Context, p *Pacer, events []*core.Event, s Sender) error {
	switch {
	case len(events) == 0:
		return nil
	case len(events) == 1 || (len(events) <= p.opts.Burst && p.TryTake(len(events))):
		if len(events) == 1 {
			if err := p.Wait(ctx); err != nil {
				return err
			}
		}
		return sendEach(ctx, events, s)
	}
	if err := p.Wait(ctx); err != nil {
		return err
	}
	return s.SendDigest(ctx, events)
}

// sendEach posts one message per event, tokens already taken. It stops at the first failure
// worth retrying; an event refused permanently fails alone.
func sendEach(ctx context.Context, events []*core.Event, s Sender) error {
	return core.SendEach(ctx, events, s.SendEvent)
}
