// Package alertmanager turns Warning events into Prometheus Alertmanager alerts (API v2), one
// POST per batch, so Alertmanager's grouping, inhibition, silences and routing apply to them.
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "alertmanager",
		Summary: "each Warning event becomes an Alertmanager alert (API v2); repeats refresh the same alert, which resolves resolve_timeout after the event was last seen",
		Example: "alertmanager:http://alertmanager.monitoring:9093?severity=BackOff:critical,OOMKilling:critical,*:warning&resolve_timeout=10m",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// Export keeps no state between calls: several may run at once.
		Concurrency: 4,
	})
}

// Sink posts alerts to one Alertmanager.
type Sink struct {
	cfg    *Config
	target string
	client *httpx.Client
	// now is the clock for events without any timestamp.
	now func() time.Time
}

// New builds the sink from a parsed Config; env.Clock() is its clock.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	now := env.Clock()
	if cfg.Token != "" {
		cfg.HTTP.Secrets = append(cfg.HTTP.Secrets, cfg.Token.Reveal())
	}
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	for _, n := range cfg.Notes {
		glog.Warning(n)
	}
	glog.Infof("%s: Warning events as alerts to %s://%s%s, resolving %s after last seen", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, cfg.URL.Path, cfg.ResolveTimeout)
	return &Sink{cfg: cfg, target: cfg.URL.String(), client: client, now: now}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "alertmanager" }

// Alerts returns the alerts for a batch: one per Warning event, in order. Normal events are not
// alerts and are left out.
func (s *Sink) Alerts(events []*core.Event) []Alert {
	now := s.now()
	out := make([]Alert, 0, len(events))
	for _, e := range events {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		out = append(out, s.cfg.alert(e, now))
	}
	return out
}

// Export posts every Warning event of the batch as an alert, in one request. Alertmanager
// takes or refuses the request whole, so there is no partial success: a 400 (an alert it
// finds invalid) is permanent for the batch, anything retryable retries the batch, and a retry
// is harmless: the same label sets refresh the same alerts.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	alerts := s.Alerts(events)
	if len(alerts) == 0 {
		return nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return core.Permanent(fmt.Errorf("encoding %d alerts: %v", len(alerts), err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return core.Permanent(errors.New("cannot build the request; check the Alertmanager URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token.Reveal())
	}
	if _, err := s.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("posting %d alerts: %w", len(alerts), err)
	}
	return nil
}

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}

// Preview shows the alert the sink would post for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	alerts := s.Alerts([]*core.Event{e})
	if len(alerts) == 0 {
		return fmt.Sprintf("nothing: a %s event is not an alert (only Warning events are sent)", e.Type), nil
	}
	b, err := json.MarshalIndent(alerts, "", "  ")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("POST %s://%s%s, body:\n%s", s.cfg.URL.Scheme, s.cfg.URL.Host, s.cfg.URL.Path, b), nil
}
