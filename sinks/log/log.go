// Package log is herald's default sink: it writes each event as one readable glog line, or as
// one JSON object per line on stdout for a log collector to pick up.
package log

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/eventrecord"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "log",
		Summary: "write events to herald's own log, one line each, as text or JSON (the default sink)",
		Example: "log:?format=json&level=Normal",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// Sink writes events to the log.
type Sink struct {
	json     bool
	location *time.Location
	now      func() time.Time
	// line receives each text line; out receives JSON lines.
	line func(string)
	mu   sync.Mutex
	out  io.Writer
}

// New builds a log sink from a parsed Config; env.Clock() dates events without a time.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	return &Sink{
		json:     cfg.JSON,
		location: env.Location,
		now:      env.Clock(),
		line:     func(s string) { glog.InfoDepth(1, s) },
		out:      os.Stdout,
	}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "log" }

// Export writes one line per event, in order.
func (s *Sink) Export(_ context.Context, events []*core.Event) error {
	if !s.json {
		for _, e := range events {
			s.line(s.Line(e))
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out core.Outcomes
	for i, e := range events {
		b, err := s.JSON(e)
		if err != nil {
			out.Reject(core.Permanent(fmt.Errorf("event %s: %v", e.Key(), err)), e)
			continue
		}
		if _, err := s.out.Write(b); err != nil {
			out.Retry(fmt.Errorf("writing to stdout: %w", err), events[i:]...)
			break
		}
	}
	return out.Err(len(events))
}

// Close implements core.Sink; a log has nothing to flush that glog does not.
func (s *Sink) Close() error { return nil }

// Line is the text form of an event, as kube-eventer's log sink ended its lines
// ("TIME (cnt:N): MESSAGE") but with what the event is about in front:
//
//	2026-11-23 18:53:15 +0000 UTC Warning shop/Pod/web-1 BackOff (cnt:3): Back-off restarting failed container
//
// Line breaks in the message are written as \n so one event stays one line.
func (s *Sink) Line(e *core.Event) string {
	var b strings.Builder
	if e.Cluster != "" {
		fmt.Fprintf(&b, "[%s] ", e.Cluster)
	}
	o := e.InvolvedObject
	object := o.Kind + "/" + o.Name
	if o.Namespace != "" {
		object = o.Namespace + "/" + object
	}
	fmt.Fprintf(&b, "%s %s %s %s (cnt:%d): %s", s.when(e), e.Type, object, e.Reason, count(e), oneLine.Replace(e.Message))
	return b.String()
}

var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

// JSON is the JSON form of an event, newline-terminated: eventrecord.Line.
func (s *Sink) JSON(e *core.Event) ([]byte, error) {
	b, err := eventrecord.Line(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// when is the time an event last happened: lastTimestamp, else eventTime (events.k8s.io
// events), else when herald saw it, as kube-eventer's GetLastEventTimestamp.
func (s *Sink) when(e *core.Event) string {
	var t time.Time
	switch {
	case !e.LastTimestamp.IsZero():
		t = e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		t = e.EventTime.Time
	case !e.Observed.IsZero():
		t = e.Observed
	default:
		t = s.now()
	}
	if s.location != nil {
		t = t.In(s.location)
	}
	return t.Round(0).String() // Round(0): no monotonic clock reading in the text
}

// count is how many times the event happened: count, or the series count for events.k8s.io
// events, at least 1.
func count(e *core.Event) int32 {
	n := e.Count
	if e.Series != nil && e.Series.Count > n {
		n = e.Series.Count
	}
	return max(n, 1)
}

// Preview returns the line the sink would write for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	if s.json {
		b, err := s.JSON(e)
		return strings.TrimSuffix(string(b), "\n"), err
	}
	return s.Line(e), nil
}
