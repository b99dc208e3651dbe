// Package slack posts events to Slack in Block Kit layout, through an incoming webhook or
// chat.postMessage with a bot token; storms are merged into digest messages and paced.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

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
		New:             sinks.Constructor(ParseConfig, New),
	})
}

// Sink is a slack sink: a chat.Robot in Block Kit layout.
type Sink struct {
	chat.Robot
	cfg      *Config
	target   string
	layout   *layout
	validate httpx.Validator
}

// New builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	// The robot is the webhook, or the API token and channel: what one rate limit covers.
	robot := cfg.URL.String()
	if cfg.Mode == API {
		robot += "#" + cfg.Channel + "#" + cfg.Token.Reveal()
	}
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, robot, cfg.Pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:    cfg,
		target: cfg.URL.String(),
		layout: &layout{mentions: cfg.Mentions, username: cfg.Username, iconEmoji: cfg.IconEmoji, channel: cfg.Channel},
	}
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: env.Location, Limit: MaxBlocksTotal,
		Event: s.renderSingle, Digest: s.renderDigest, Template: s.templateBody, Post: s.Post})
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

// templateBody adds the channel to a body template's output for chat.postMessage.
func (s *Sink) templateBody(_ *core.Event, body []byte) ([]byte, error) {
	if s.cfg.Mode == API {
		return withChannel(body, s.cfg.Channel)
	}
	return body, nil
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
