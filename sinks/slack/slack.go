// Package slack posts events to Slack in Block Kit layout, through an incoming webhook or
// chat.postMessage with a bot token; storms are merged into digest messages and paced.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		Scheme:          "slack",
		SecretPathAfter: []string{"services", "workflows", "triggers"},
		Summary:         "Slack messages in Block Kit layout, through an incoming webhook or chat.postMessage (token=); storms become paced digests",
		Example:         "slack:https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX?level=Warning&mentions=S0123ABCD",
		Params:          Params,
		New:             New,
	})
}

// Sink is a slack sink.
type Sink struct {
	chat.Resources // Body nil: the Block Kit layout
	cfg            *Config
	target         string
	layout         *layout
	loc            *time.Location
	validate       httpx.Validator
}

// New builds a slack sink from its --sink value.
func New(t sinks.Target, env sinks.Env) (core.Sink, error) {
	cfg, err := ParseConfig(t, env)
	if err != nil {
		return nil, err
	}
	return NewSink(cfg, env)
}

// NewSink builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func NewSink(cfg *Config, env sinks.Env) (*Sink, error) {
	// The robot is the webhook, or the API token and channel: what one rate limit covers.
	robot := cfg.URL.String()
	if cfg.Mode == API {
		robot += "#" + cfg.Channel + "#" + cfg.Token.Reveal()
	}
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, robot, cfg.Pacing)
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
		layout:    &layout{mentions: cfg.Mentions, username: cfg.Username, iconEmoji: cfg.IconEmoji, channel: cfg.Channel},
		loc:       loc,
	}
	how := "incoming webhook"
	if cfg.Mode == API {
		s.validate = apiReply
		how = "chat.postMessage to " + cfg.Channel
	}
	// Scheme and host only: a webhook's path is its secret.
	glog.Infof("%s: %s at %s://%s, at most %d messages a minute", cfg.ID, how, cfg.URL.Scheme, cfg.URL.Host, s.Pacer.Options().PerMinute)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "slack" }

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

// DigestBody renders the events merged into one message within the service's limits (chat.Messenger).
func (s *Sink) DigestBody(events []*core.Event) ([]byte, error) {
	d := chat.Summarize(events, s.cfg.Cluster, s.loc)
	body, _, err := chat.FitDigest(d, chat.FitOptions{Limit: MaxBlocksTotal}, s.renderDigest)
	if err != nil {
		return nil, fmt.Errorf("digest of %d events: %w", len(events), err)
	}
	return body, nil
}

// EventBody renders one event: the user's template, or the Block Kit layout.
func (s *Sink) EventBody(e *core.Event) ([]byte, error) {
	if s.Body != nil {
		body, err := s.Body.Render(e)
		if err != nil {
			return nil, err
		}
		if s.cfg.Mode == API {
			return withChannel(body, s.cfg.Channel)
		}
		return body, nil
	}
	return chat.FitSingle(chat.FieldsOf(e, s.cfg.Cluster, s.loc), MaxBlocksTotal, s.renderSingle)
}

func (s *Sink) renderSingle(f chat.Fields) ([]byte, int, error) {
	return encode(s.layout.event(f))
}

func (s *Sink) renderDigest(v *chat.View) ([]byte, int, error) {
	return encode(s.layout.digest(v))
}

// encode marshals m and reports its size for chat's fitting: the width of its block text, or
// one past the budget when it breaks any of Slack's limits (too many blocks, a long section),
// so that the fit shows fewer events.
func encode(m *Message) ([]byte, int, error) {
	problem, total := check(m)
	if problem != "" {
		total = max(total, MaxBlocksTotal+1)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, 0, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), total, nil
}

// withChannel adds the channel to a template's body for chat.postMessage, unless the template
// names one.
func withChannel(body []byte, channel string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, errors.New("the body template must render a JSON object for chat.postMessage")
	}
	if _, ok := obj["channel"]; ok {
		return body, nil
	}
	c, _ := json.Marshal(channel)
	obj["channel"] = c
	return json.Marshal(obj)
}

// Post sends one message.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		// Never quote the URL: a webhook's path is its secret.
		return core.Permanent(errors.New("cannot build the request; check the Slack URL"))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if s.cfg.Mode == API {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token.Reveal())
	}
	_, err = s.Client.Do(ctx, req, s.validate)
	return err
}
