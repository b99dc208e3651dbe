// Package grafana posts events as Grafana annotations (HTTP API /api/annotations), so deploys,
// crashes and evictions line up with the graphs they explain.
package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "grafana",
		Summary: "each event becomes a Grafana annotation with tags, on a dashboard or organization-wide",
		Example: "grafana:https://grafana.example?token=${GRAFANA_TOKEN}&tags=k8s,herald&dashboard_uid=k8s-overview",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// Export keeps no state between calls: several may run at once.
		Concurrency: 4,
	})
}

// Annotation is the body of POST /api/annotations. Grafana requires text; time is epoch
// milliseconds; dashboardUID and panelId are left out for an organization-wide annotation.
type Annotation struct {
	DashboardUID string   `json:"dashboardUID,omitempty"`
	PanelID      int      `json:"panelId,omitempty"`
	Time         int64    `json:"time"`
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
}

// Sink posts one annotation per event.
type Sink struct {
	cfg    *Config
	target string
	client *httpx.Client
	now    func() time.Time
}

// New builds the sink from a parsed Config; env.Clock() dates events without a time.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	now := env.Clock()
	if cfg.Token != "" {
		cfg.HTTP.Secrets = append(cfg.HTTP.Secrets, cfg.Token.Reveal())
	}
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	where := "organization-wide"
	if cfg.DashboardUID != "" {
		where = "on dashboard " + cfg.DashboardUID
	}
	glog.Infof("%s: one annotation per event to %s://%s%s, %s, tags %v", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, cfg.URL.Path, where, cfg.Tags)
	return &Sink{cfg: cfg, target: cfg.URL.String(), client: client, now: now}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "grafana" }

// Annotation returns the annotation for e: at the time the event was last seen, tagged with the
// sink's tags and the event's type, reason, kind, namespace and cluster (as "key:value", the
// way Flux's Grafana provider tags its annotations, so a dashboard's annotation query can pick
// them by tag), its text the event in one line and its message.
func (s *Sink) Annotation(e *core.Event) Annotation {
	tags := append([]string(nil), s.cfg.Tags...)
	add := func(k, v string) {
		if v != "" {
			tags = append(tags, k+":"+v)
		}
	}
	o := e.InvolvedObject
	add("type", e.Type)
	add("reason", e.Reason)
	add("kind", o.Kind)
	add("namespace", o.Namespace)
	add("cluster", s.cfg.Cluster)

	var text strings.Builder
	fmt.Fprintf(&text, "%s %s: %s", e.Type, e.Reason, objectName(o.Namespace, o.Kind, o.Name))
	if e.Count > 1 {
		fmt.Fprintf(&text, " (×%d)", e.Count)
	}
	if e.Message != "" {
		text.WriteString("\n")
		text.WriteString(e.Message)
	}
	return Annotation{
		DashboardUID: s.cfg.DashboardUID,
		PanelID:      s.cfg.PanelID,
		Time:         e.LastSeen(s.now()).UnixMilli(),
		Tags:         tags,
		Text:         text.String(),
	}
}

func objectName(ns, kind, name string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return ns + "/" + kind + "/" + name
}

// Export posts one annotation per event, in order. An annotation Grafana refuses (400) is
// rejected alone and the others are still posted; at the first failure worth retrying (a refused
// credential, 401 or 403, among them) it stops, and that event and the rest are retried. Grafana
// has no idempotency key: an event posted again (a retry after a timeout whose request did land)
// becomes a second annotation at the same time.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	return core.SendEach(ctx, events, s.post)
}

func (s *Sink) post(ctx context.Context, e *core.Event) error {
	body, err := json.Marshal(s.Annotation(e))
	if err != nil {
		return core.Permanent(fmt.Errorf("event %s (%s): encoding the annotation: %v", e.Key(), e.Reason, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return core.Permanent(errors.New("cannot build the request; check the Grafana URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token.Reveal())
	}
	if s.cfg.OrgID != "" {
		req.Header.Set("X-Grafana-Org-Id", s.cfg.OrgID)
	}
	if _, err := s.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("event %s (%s): %w", e.Key(), e.Reason, err)
	}
	return nil
}

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}

// Preview shows the annotation the sink would post for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	b, err := json.MarshalIndent(s.Annotation(e), "", "  ")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("POST %s://%s%s, body:\n%s", s.cfg.URL.Scheme, s.cfg.URL.Host, s.cfg.URL.Path, b), nil
}
