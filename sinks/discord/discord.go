// Package discord posts events to a Discord channel webhook as embeds coloured by event type;
// storms are merged into digest messages and paced.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
		New:             sinks.Constructor(ParseConfig, New),
	})
}

// Sink is a discord sink: a chat.Robot in the embed layout.
type Sink struct {
	chat.Robot
	cfg    *Config
	target string
	layout *layout
}

// New builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	robot := *cfg.URL
	robot.RawQuery = ""
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, robot.String(), cfg.Pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:    cfg,
		target: cfg.URL.String(),
		layout: &layout{username: cfg.Username, avatarURL: cfg.AvatarURL, mentions: cfg.Mentions, allowed: cfg.Allowed},
	}
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: env.Location, Limit: MaxEmbedTotal,
		Event:  func(f chat.Fields) ([]byte, int, error) { return encode(s.layout.event(f)) },
		Digest: func(v *chat.View) ([]byte, int, error) { return encode(s.layout.digest(v)) },
		Post:   s.Post})
	// Scheme and host only: the path holds the webhook's token.
	glog.Infof("%s: webhook at %s://%s, at most %d messages a minute", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, s.Pacer.Options().PerMinute)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "discord" }

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
