package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldproject/herald/core"
)

// Messenger is what each chat sink provides: the body of a single-event message, the body of a
// digest, and how to post a body. Send turns it into the Sender that Export drives.
type Messenger interface {
	// EventBody renders one event's message: the user's template or the sink's layout.
	EventBody(e *core.Event) ([]byte, error)
	// DigestBody renders the events merged into one message within the service's limit; its
	// errors say which digest ("digest of N events: ...").
	DigestBody(events []*core.Event) ([]byte, error)
	// Post sends one body and reads the service's answer.
	Post(ctx context.Context, body []byte) error
}

// Send adapts m to Sender. A body that cannot be rendered is a permanent failure (rendering
// again gives the same result); a failed post keeps its own classification. Errors name the
// event or the digest.
func Send(m Messenger) Sender { return messengerSender{m} }

type messengerSender struct{ m Messenger }

func (s messengerSender) SendEvent(ctx context.Context, e *core.Event) error {
	body, err := s.m.EventBody(e)
	if err != nil {
		return core.Permanent(fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err))
	}
	if err := s.m.Post(ctx, body); err != nil {
		return fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err)
	}
	return nil
}

func (s messengerSender) SendDigest(ctx context.Context, events []*core.Event) error {
	body, err := s.m.DigestBody(events)
	if err != nil {
		return core.Permanent(err)
	}
	if err := s.m.Post(ctx, body); err != nil {
		return fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return nil
}

// Preview is sinks.Previewer's Preview for a chat sink: the body m would post for e alone, laid
// out for people (herald check).
func Preview(m Messenger, e *core.Event) (string, error) {
	body, err := m.EventBody(e)
	if err != nil {
		return "", err
	}
	return Indent(body), nil
}

// PreviewDigest is the body of the digest message m would post for events arriving faster than
// it may send, laid out for people.
func PreviewDigest(m Messenger, events []*core.Event) (string, error) {
	body, err := m.DigestBody(events)
	if err != nil {
		return "", err
	}
	return Indent(body), nil
}

// Indent lays out a JSON body for people (herald check); a body that is not JSON is returned
// as it is.
func Indent(body []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return string(body)
	}
	return out.String()
}
