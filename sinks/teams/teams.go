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
		New:     sinks.Constructor(ParseConfig, New),
	})
}

// Sink is a teams sink: a chat.Robot in the Adaptive Card layout.
type Sink struct {
	chat.Robot
	cfg    *Config
	target string
}

// New builds a sink from a parsed configuration (tests set cfg.Pacing.Clock).
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, cfg.URL.String(), cfg.Pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, target: cfg.URL.String()}
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: env.Location, Limit: MaxBody,
		Event:    func(f chat.Fields) ([]byte, int, error) { return encode(event(f)) },
		Digest:   func(v *chat.View) ([]byte, int, error) { return encode(digest(v)) },
		Template: templateBody,
		Post:     s.Post})
	for _, n := range cfg.Notes {
		glog.Warning(n)
	}
	// Scheme and host only: the query holds the signature.
	glog.Infof("%s: Workflows webhook at %s://%s, at most %d messages a minute", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, s.Pacer.Options().PerMinute)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "teams" }

// templateBody refuses a body template's output over Teams' limit.
func templateBody(e *core.Event, body []byte) ([]byte, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("the body template renders %d bytes for event %s, over Teams' %d; shorten long values with truncate, e.g. {{ .Message | truncate 4000 }}", len(body), e.Key(), MaxBody)
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
