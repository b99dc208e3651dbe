// Package webhook delivers each event to any HTTP receiver, one request per event, with the body
// rendered from a template: kube-eventer's webhook sink, with its flags and default body.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/filter"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "webhook",
		Summary: "one HTTP request per event to any receiver, the body rendered from a template (kube-eventer's webhook)",
		Example: "webhook:https://receiver.example/events?level=Warning&method=POST&header=Content-Type=application/json",
		Params:  Params,
		New:     New,
		// Export keeps no state between calls: several may run at once.
		Concurrency: 4,
		// A scheme kube-eventer has: read as its code reads it.
		KubeEventer: true,
		Filter:      filter.KubeEventerWebhook,
	})
}

// Sink is a webhook sink.
type Sink struct {
	cfg    *Config
	target string
	body   *template.Body
	client *httpx.Client
}

// New builds a webhook sink from its --sink value.
func New(t sinks.Target, env sinks.Env) (core.Sink, error) {
	cfg, err := ParseConfig(t, env)
	if err != nil {
		return nil, err
	}
	return NewSink(cfg, env)
}

// NewSink loads the body template, builds the client and says once what the sink will do.
func NewSink(cfg *Config, env sinks.Env) (*Sink, error) {
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	body, err := template.New(ctx, cfg.Template)
	if err != nil {
		client.Close()
		return nil, err
	}
	for _, n := range cfg.Notes {
		glog.Warning(n)
	}
	// Scheme and host only: the path and query may carry the receiver's token.
	glog.Infof("%s: one %s request per event to %s://%s (path and query not shown), JSON escaping %v", cfg.ID, cfg.Method, cfg.URL.Scheme, cfg.URL.Host, cfg.JSON)
	return &Sink{cfg: cfg, target: cfg.URL.String(), body: body, client: client}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "webhook" }

// Export sends one request per event, in order. An event whose body does not render, or that
// the receiver refuses with a permanent status, is rejected alone and the others are still sent;
// at the first failure worth retrying it stops, and that event and the rest are retried.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	return core.SendEach(ctx, events, s.deliver)
}

// deliver renders and sends one event.
func (s *Sink) deliver(ctx context.Context, e *core.Event) error {
	body, err := s.body.Render(e)
	if err != nil {
		return core.Permanent(fmt.Errorf("event %s (%s): the body template does not render: %v; fix the template", e.Key(), e.Reason, err))
	}
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, s.target, bytes.NewReader(body))
	if err != nil {
		// The URL and method were checked at start-up; do not quote the URL.
		return core.Permanent(errors.New("cannot build the request; check the webhook URL"))
	}
	req.Header = s.cfg.Header.Clone()
	if s.cfg.Host != "" {
		req.Host = s.cfg.Host
	}
	if _, err := s.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err)
	}
	return nil
}

// Close stops the template's ConfigMap watch and closes idle connections.
func (s *Sink) Close() error {
	s.body.Close()
	s.client.Close()
	return nil
}

// Preview renders the body the sink would send for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	body, err := s.body.Render(e)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s request, body from %s:\n%s", s.cfg.Method, s.body.Source(), body), nil
}
