package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldproject/herald/core"
)

// Robot is the base every chat sink embeds. The sink formats: it gives NewRobot a Format, which
// lays out one event or a digest view and posts a body. The robot does the rest, and is what
// the pipeline and herald check call: it paces a batch into single messages or one digest
// (Export), renders the user's body template or fits the sink's layout to the service's limit,
// posts, and shows what it would post (Preview, PreviewDigest). It calls nothing of the sink's
// but the Format it was given.
type Robot struct {
	Resources
	format Format
}

// Format is a chat sink's part of a Robot.
type Format struct {
	// Cluster names the cluster of events that carry none; Location is --timezone (nil: UTC).
	Cluster  string
	Location *time.Location
	// Limit is the largest size Event and Digest may report for a message that can be posted.
	Limit int
	// Event lays out one event; Digest one view of a digest (View.Digest is the whole batch).
	// Each returns the body and its size in the service's measure (bytes, characters of text).
	Event  RenderSingle
	Digest RenderView
	// Template makes a body template's output ready to post: cut to the service's limit,
	// completed with what the service needs. nil: posted as rendered.
	Template func(e *core.Event, body []byte) ([]byte, error)
	// DigestFix is added to the error of a digest too large to post at all ("shorten label=").
	DigestFix string
	// Post sends one body and reads the service's answer.
	Post func(ctx context.Context, body []byte) error
}

// NewRobot is the base of a chat sink that posts through res in format f.
func NewRobot(res Resources, f Format) Robot {
	if f.Location == nil {
		f.Location = time.UTC
	}
	return Robot{Resources: res, format: f}
}

// Export implements core.Sink's Export (see the function Export): separate messages when the
// robot has a free slot for each event, otherwise one digest of the batch in the next slot.
func (r *Robot) Export(ctx context.Context, events []*core.Event) error {
	return Export(ctx, r.Pacer, events, r)
}

// SendEvent implements Sender. A body that cannot be rendered is a permanent failure (rendering
// again gives the same result); a failed post keeps its own classification. Errors name the
// event.
func (r *Robot) SendEvent(ctx context.Context, e *core.Event) error {
	body, err := r.EventBody(e)
	if err != nil {
		return core.Permanent(fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err))
	}
	if err := r.format.Post(ctx, body); err != nil {
		return fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err)
	}
	return nil
}

// SendDigest implements Sender, with SendEvent's classification; errors name the digest.
func (r *Robot) SendDigest(ctx context.Context, events []*core.Event) error {
	body, err := r.DigestBody(events)
	if err != nil {
		return core.Permanent(err)
	}
	if err := r.format.Post(ctx, body); err != nil {
		return fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return nil
}

// EventBody is the body of e's own message: the user's body template (through
// Format.Template), or the sink's layout fitted to Format.Limit.
func (r *Robot) EventBody(e *core.Event) ([]byte, error) {
	if r.Body != nil {
		body, err := r.Body.Render(e)
		if err != nil || r.format.Template == nil {
			return body, err
		}
		return r.format.Template(e, body)
	}
	return FitSingle(FieldsOf(e, r.format.Cluster, r.format.Location), r.format.Limit, r.format.Event)
}

// DigestBody is the body of the one message that merges events: the largest view of them whose
// layout fits Format.Limit (FitDigest). Its errors say which digest.
func (r *Robot) DigestBody(events []*core.Event) ([]byte, error) {
	d := Summarize(events, r.format.Cluster, r.format.Location)
	body, _, err := FitDigest(d, FitOptions{Limit: r.format.Limit}, r.format.Digest)
	switch {
	case err != nil && r.format.DigestFix != "":
		return nil, fmt.Errorf("digest of %d events: %w; %s", len(events), err, r.format.DigestFix)
	case err != nil:
		return nil, fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return body, nil
}

// Preview implements sinks.Previewer: the body the robot would post for e alone, laid out for
// people (herald check).
func (r *Robot) Preview(e *core.Event) (string, error) {
	body, err := r.EventBody(e)
	if err != nil {
		return "", err
	}
	return Indent(body), nil
}

// PreviewDigest is the body of the digest message the robot would post for events arriving
// faster than it may send, laid out for people.
func (r *Robot) PreviewDigest(events []*core.Event) (string, error) {
	body, err := r.DigestBody(events)
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
