// Package webhook delivers each event to any HTTP receiver, one request per event, with the body
// rendered from a template: kube-eventer's webhook sink, with its flags and default body.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
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
		New:     sinks.Constructor(ParseConfig, New),
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

// New loads the body template, builds the client and says once what the sink will do.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
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
	per := "per event"
	if cfg.Batch {
		per = "per batch (" + cfg.Header.Get("Content-Type") + ")"
	}
	glog.Infof("%s: one %s request %s to %s://%s (path and query not shown), JSON escaping %v", cfg.ID, cfg.Method, per, cfg.URL.Scheme, cfg.URL.Host, cfg.JSON)
	return &Sink{cfg: cfg, target: cfg.URL.String(), body: body, client: client}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "webhook" }

// Export sends one request per event, in order. An event whose body does not render, or that
// the receiver refuses with a permanent status, is rejected alone and the others are still sent;
// at the first failure worth retrying it stops, and that event and the rest are retried.
//
// With batch=true the batch is one request instead (see exportBatch).
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if s.cfg.Batch {
		return s.exportBatch(ctx, events)
	}
	return core.SendEach(ctx, events, s.deliver)
}

// exportBatch renders every event, compacts each body to one JSON value (an event whose body
// does not render or is not JSON is rejected alone), and posts the rest as one request.
func (s *Sink) exportBatch(ctx context.Context, events []*core.Event) error {
	var out core.Outcomes
	ok := make([]*core.Event, 0, len(events))
	bodies := make([][]byte, 0, len(events))
	for _, e := range events {
		body, err := s.body.Render(e)
		if err != nil {
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): the body template does not render: %v; fix the template", e.Key(), e.Reason, err)), e)
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, body); err != nil {
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): batch=true needs each body to render as one JSON value, and this one is not JSON (%v); fix the template or drop batch=true", e.Key(), e.Reason, err)), e)
			continue
		}
		ok = append(ok, e)
		bodies = append(bodies, buf.Bytes())
	}
	s.sendBatch(ctx, ok, bodies, &out)
	return out.Err(len(events))
}

// sendBatch posts events (their bodies given) as one request and records their fate in out. A
// batch the receiver refuses for good is split in halves, each sent on its own, down to the
// single events it refuses; a failure worth retrying marks that part and every later one for
// retry without sending them, so a retry keeps the order. It reports false once it has stopped.
func (s *Sink) sendBatch(ctx context.Context, events []*core.Event, bodies [][]byte, out *core.Outcomes) bool {
	if len(events) == 0 {
		return true
	}
	err := s.post(ctx, s.join(bodies))
	switch {
	case err == nil:
		return true
	case core.IsPermanent(err) && len(events) > 1:
		mid := len(events) / 2
		if !s.sendBatch(ctx, events[:mid], bodies[:mid], out) {
			out.Retry(errStopped, events[mid:]...)
			return false
		}
		return s.sendBatch(ctx, events[mid:], bodies[mid:], out)
	case core.IsPermanent(err):
		out.Reject(fmt.Errorf("event %s (%s): %w", events[0].Key(), events[0].Reason, err), events...)
		return true
	}
	out.Retry(fmt.Errorf("batch of %d event(s): %w", len(events), err), events...)
	return false
}

// errStopped marks the events after a failed part of a split batch: not sent, retried in order.
var errStopped = errors.New("not sent: an earlier part of the batch is retried first")

// join makes one request body of bodies: a JSON array, or one body per line (NDJSON).
func (s *Sink) join(bodies [][]byte) []byte {
	if s.cfg.NDJSON {
		return append(bytes.Join(bodies, []byte("\n")), '\n')
	}
	return append(append([]byte("["), bytes.Join(bodies, []byte(","))...), ']')
}

// post sends one request with body.
func (s *Sink) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, s.target, bytes.NewReader(body))
	if err != nil {
		return core.Permanent(errors.New("cannot build the request; check the webhook URL"))
	}
	req.Header = s.cfg.Header // read only: the client's Do sends a copy
	if s.cfg.Host != "" {
		req.Host = s.cfg.Host
	}
	_, err = s.client.Do(ctx, req, nil)
	return err
}

// deliver renders and sends one event.
func (s *Sink) deliver(ctx context.Context, e *core.Event) error {
	body, err := s.body.Render(e)
	if err != nil {
		return core.Permanent(fmt.Errorf("event %s (%s): the body template does not render: %v; fix the template", e.Key(), e.Reason, err))
	}
	if err := s.post(ctx, body); err != nil {
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
