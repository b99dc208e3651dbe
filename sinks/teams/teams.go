// Package teams posts events to a Microsoft Teams channel through a Workflows (Power Automate)
// webhook, as Adaptive Cards; storms are merged into digest cards and paced.
package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "teams",
		Summary: "Microsoft Teams Adaptive Cards through a Workflows (Power Automate) webhook; storms become paced digest cards",
		Example: "teams:https://prod-00.westeurope.logic.azure.com:443/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=XXXXXXXXXXXXXXXXXXXX&level=Warning",
		Params:  Params,
		New:     New,
	})
}

// Sink is a teams sink.
type Sink struct {
	chat.Resources // Body nil: the Adaptive Card layout
	cfg            *Config
	target         string
	loc            *time.Location
}

// New builds a teams sink from its --sink value.
func New(t sinks.Target, env sinks.Env) (core.Sink, error) {
	cfg, err := ParseConfig(t, env)
	if err != nil {
		return nil, err
	}
	return NewSink(cfg, env)
}

// NewSink builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func NewSink(cfg *Config, env sinks.Env) (*Sink, error) {
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, cfg.URL.String(), cfg.Pacing)
	if err != nil {
		return nil, err
	}
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	s := &Sink{
		Resources: res,
		cfg:       cfg,
		target:    cfg.URL.String(),
		loc:       loc,
	}
	for _, n := range cfg.Notes {
		glog.Warning(n)
	}
	// Scheme and host only: the query holds the signature.
	glog.Infof("%s: Workflows webhook at %s://%s, at most %d messages a minute", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, s.Pacer.Options().PerMinute)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "teams" }

// Export posts the batch as one card per event when the channel is quiet, and as one digest
// card per paced slot in a storm (sinks/chat.Export).
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	return chat.Export(ctx, s.Pacer, events, chat.Send(s))
}

// Preview returns the JSON body the sink would post for e alone.
func (s *Sink) Preview(e *core.Event) (string, error) {
	return chat.Preview(s, e)
}

// PreviewDigest returns the JSON body of the digest card the sink would post for events
// arriving faster than it may send.
func (s *Sink) PreviewDigest(events []*core.Event) (string, error) {
	return chat.PreviewDigest(s, events)
}

// EventBody renders one event: the user's template, or the default layout (chat.Messenger).
func (s *Sink) EventBody(e *core.Event) ([]byte, error) {
	if s.Body != nil {
		body, err := s.Body.Render(e)
		if err == nil && len(body) > MaxBody {
			err = fmt.Errorf("the body template renders %d bytes for event %s, over Teams' %d; shorten long values with truncate, e.g. {{ .Message | truncate 4000 }}", len(body), e.Key(), MaxBody)
		}
		return body, err
	}
	return chat.FitSingle(chat.FieldsOf(e, s.cfg.Cluster, s.loc), MaxBody, func(f chat.Fields) ([]byte, int, error) {
		return encode(event(f))
	})
}

// DigestBody renders the events merged into one message within the service's limits (chat.Messenger).
func (s *Sink) DigestBody(events []*core.Event) ([]byte, error) {
	d := chat.Summarize(events, s.cfg.Cluster, s.loc)
	body, _, err := chat.FitDigest(d, chat.FitOptions{Limit: MaxBody}, func(v *chat.View) ([]byte, int, error) {
		return encode(digest(v))
	})
	if err != nil {
		return nil, fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return body, nil
}

// encode marshals m and reports its size in bytes, the measure Teams limits.
func encode(m *Message) ([]byte, int, error) {
	b, err := marshal(m)
	return b, len(b), err
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Post sends one card. Workflows answers 202 Accepted once the flow is queued: a flow that
// fails later (a card Teams refuses) is reported in the flow's run history, not here.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		// Never quote the URL: its sig= authorizes posting.
		return core.Permanent(errors.New("cannot build the request; check the Workflows URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	_, err = s.Client.Do(ctx, req, nil)
	return err
}
