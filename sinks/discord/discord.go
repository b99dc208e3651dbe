// Package discord posts events to a Discord channel webhook as embeds coloured by event type;
// storms are merged into digest messages and paced.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:          "discord",
		SecretPathAfter: []string{"webhooks"},
		Summary:         "Discord channel webhook messages with embeds coloured by event type; storms become paced digests",
		Example:         "discord:https://discord.com/api/webhooks/123456789012345678/XXXXXXXXXXXXXXXXXXXXXXXXXXXX?level=Warning&mentions=role:234567890123456789",
		Params:          Params,
		New:             New,
	})
}

// Sink is a discord sink.
type Sink struct {
	chat.Resources // Body nil: the embed layout
	cfg            *Config
	target         string
	layout         *layout
	loc            *time.Location
}

// New builds a discord sink from its --sink value.
func New(t sinks.Target, env sinks.Env) (core.Sink, error) {
	cfg, err := ParseConfig(t, env)
	if err != nil {
		return nil, err
	}
	return NewSink(cfg, env)
}

// NewSink builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func NewSink(cfg *Config, env sinks.Env) (*Sink, error) {
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	robot := *cfg.URL
	robot.RawQuery = ""
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, robot.String(), cfg.Pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		Resources: res,
		cfg:       cfg,
		target:    cfg.URL.String(),
		layout:    &layout{username: cfg.Username, avatarURL: cfg.AvatarURL, mentions: cfg.Mentions, allowed: cfg.Allowed},
		loc:       loc,
	}
	// Scheme and host only: the path holds the webhook's token.
	glog.Infof("%s: webhook at %s://%s, at most %d messages a minute", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, s.Pacer.Options().PerMinute)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "discord" }

// Export posts the batch as one message per event when the channel is quiet, and as one
// digest message per paced slot in a storm (sinks/chat.Export).
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	return chat.Export(ctx, s.Pacer, events, chat.Send(s))
}

// Preview returns the JSON body the sink would post for e alone.
func (s *Sink) Preview(e *core.Event) (string, error) {
	return chat.Preview(s, e)
}

// PreviewDigest returns the JSON body of the digest message the sink would post for events
// arriving faster than it may send.
func (s *Sink) PreviewDigest(events []*core.Event) (string, error) {
	return chat.PreviewDigest(s, events)
}

// EventBody renders one event: the user's template, or the default layout (chat.Messenger).
func (s *Sink) EventBody(e *core.Event) ([]byte, error) {
	if s.Body != nil {
		return s.Body.Render(e)
	}
	return chat.FitSingle(chat.FieldsOf(e, s.cfg.Cluster, s.loc), MaxEmbedTotal, func(f chat.Fields) ([]byte, int, error) {
		return encode(s.layout.event(f))
	})
}

// DigestBody renders the events merged into one message within the service's limits (chat.Messenger).
func (s *Sink) DigestBody(events []*core.Event) ([]byte, error) {
	d := chat.Summarize(events, s.cfg.Cluster, s.loc)
	body, _, err := chat.FitDigest(d, chat.FitOptions{Limit: MaxEmbedTotal}, func(v *chat.View) ([]byte, int, error) {
		return encode(s.layout.digest(v))
	})
	if err != nil {
		return nil, fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return body, nil
}

// encode marshals m and reports its size for chat's fitting: the characters of its embeds, or
// one past the limit when it breaks any of Discord's limits, so that the fit shows less.
func encode(m *Message) ([]byte, int, error) {
	problem, total := check(m)
	if problem != "" {
		total = max(total, MaxEmbedTotal+1)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, 0, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), total, nil
}

// Post sends one message. A 429 whose Retry-After header is missing is retried after the
// retry_after (seconds, fractional) of its JSON body.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		// Never quote the URL: its path holds the token.
		return core.Permanent(errors.New("cannot build the request; check the webhook URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	_, err = s.Client.Do(ctx, req, nil)
	var he *httpx.Error
	if errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests {
		he.Wait = max(he.Wait, bodyRetryAfter(he.Detail))
	}
	return err
}

// bodyRetryAfter reads Discord's rate-limit reply, {"message": "...", "retry_after": 0.9,
// "global": false}, rounding up to whole milliseconds.
func bodyRetryAfter(detail string) time.Duration {
	var r struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal([]byte(detail), &r) != nil || r.RetryAfter <= 0 || math.IsInf(r.RetryAfter, 0) {
		return 0
	}
	if r.RetryAfter >= httpx.MaxRetryAfter.Seconds() {
		return httpx.MaxRetryAfter
	}
	return time.Duration(math.Ceil(r.RetryAfter*1000)) * time.Millisecond
}
