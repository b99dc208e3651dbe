// Package honeycomb sends events to Honeycomb through its batch events API (POST
// /1/batch/DATASET with X-Honeycomb-Team), one request per batch, with kube-eventer's fields, and
// reads Honeycomb's per-event status so only the events it did not take are retried.
package honeycomb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "honeycomb",
		Summary: "Honeycomb dataset: one batch events API request per batch, kube-eventer's fields, the event's time, per-event status honoured",
		Example: "honeycomb:?dataset=k8s-events&writekey=${HONEYCOMB_WRITEKEY}",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// Export keeps no state between calls: several may run at once.
		Concurrency: 4,
		// kube-eventer has this sink: its parameters are read as its code reads them.
		KubeEventer: true,
	})
}

// MaxRequestBytes bounds one request body. Honeycomb documents 1 MB for an event (and for the
// body of its single-event endpoint); herald keeps every batch request within it as well.
const MaxRequestBytes = 1 << 20

// Event is one element of the batch body, in Honeycomb's documented form: the fields under data,
// the event's time in RFC 3339 with sub-second precision.
type Event struct {
	Data Fields    `json:"data"`
	Time time.Time `json:"time"`
}

// Fields are the columns of one event: kube-eventer's (its sinks/honeycomb exportedData), plus
// cluster when --cluster-name is set and the restart details of a ContainerRestarted event.
type Fields struct {
	Namespace       string `json:"namespace"`
	Kind            string `json:"kind"`
	Name            string `json:"name"`
	SubObject       string `json:"subobject"`
	SourceComponent string `json:"source.component"`
	SourceHost      string `json:"source.host"`
	Count           int32  `json:"count"`
	Type            string `json:"type"`
	Reason          string `json:"reason"`
	Message         string `json:"message"`

	Cluster          string `json:"cluster,omitempty"`
	Container        string `json:"restart.container,omitempty"`
	RestartCount     *int32 `json:"restart.count,omitempty"`
	ExitCode         *int32 `json:"restart.exit_code,omitempty"`
	TerminationState string `json:"restart.reason,omitempty"`
}

// result is one element of Honeycomb's reply: the event's status (202 queued) and, when it was
// not taken, why.
type result struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// Sink sends events to one Honeycomb dataset.
type Sink struct {
	cfg    *Config
	target string
	client *httpx.Client
	now    func() time.Time
}

// New builds the sink from a parsed Config; env.Clock() dates events without a time.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	now := env.Clock()
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	glog.Infof("%s: batches to Honeycomb dataset %q at %s://%s", cfg.ID, cfg.Dataset, cfg.URL.Scheme, cfg.URL.Host)
	return &Sink{cfg: cfg, target: cfg.URL.String(), client: client, now: now}, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "honeycomb" }

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}

// Event returns the Honeycomb event for e, stamped with when e was last seen.
func (s *Sink) Event(e *core.Event, now time.Time) Event {
	o := e.InvolvedObject
	f := Fields{
		Namespace:       o.Namespace,
		Kind:            o.Kind,
		Name:            o.Name,
		SubObject:       o.FieldPath,
		SourceComponent: e.Source.Component,
		SourceHost:      e.Source.Host,
		Count:           e.Count,
		Type:            e.Type,
		Reason:          e.Reason,
		Message:         e.Message,
		Cluster:         s.cfg.Cluster,
	}
	if e.Series != nil && e.Series.Count > f.Count {
		f.Count = e.Series.Count
	}
	if r := e.Restart; r != nil {
		f.Container = r.Container
		n := r.RestartCount
		f.RestartCount = &n
		if ls := r.LastState; ls != nil {
			code := ls.ExitCode
			f.ExitCode = &code
			f.TerminationState = ls.Reason
		}
	}
	return Event{Data: f, Time: e.LastSeen(now).UTC()}
}

// Export sends the batch, split into requests of at most MaxRequestBytes, and reads each
// event's status: 202 is delivered; 429, 403 (Honeycomb's throttling) and 5xx are retried;
// anything else (400: too many columns, malformed) is refused permanently. A failed request
// returns its events and every later one for retry.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	now := s.now()
	var failures []failure
	bodies := make([][]byte, len(events))
	for i, e := range events {
		b, err := json.Marshal(s.Event(e, now))
		if err != nil || len(b)+2 > MaxRequestBytes {
			reason := fmt.Sprintf("the event is %d bytes of JSON, more than Honeycomb's 1 MB", len(b))
			if err != nil {
				reason = "cannot encode the event: " + err.Error()
			}
			failures = append(failures, failure{event: e, reason: reason})
			continue
		}
		bodies[i] = b
	}
	for start := 0; start < len(events); {
		var body bytes.Buffer
		var sent []*core.Event
		body.WriteByte('[')
		end := start
		for ; end < len(events); end++ {
			b := bodies[end]
			if b == nil {
				continue
			}
			if len(sent) > 0 && body.Len()+len(b)+2 > MaxRequestBytes {
				break
			}
			if len(sent) > 0 {
				body.WriteByte(',')
			}
			body.Write(b)
			sent = append(sent, events[end])
		}
		body.WriteByte(']')
		if len(sent) > 0 {
			fs, err := s.send(ctx, body.Bytes(), sent)
			if err != nil {
				// This request and every later one share its fate.
				var rest []*core.Event
				for i := start; i < len(events); i++ {
					if bodies[i] != nil {
						rest = append(rest, events[i])
					}
				}
				return s.result(events, failures, rest, err)
			}
			failures = append(failures, fs...)
		}
		start = end
	}
	return s.result(events, failures, nil, nil)
}

// failure is one event Honeycomb did not take.
type failure struct {
	event  *core.Event
	retry  bool
	status int
	reason string
}

// send posts one batch body and returns the events whose status is not 202.
func (s *Sink) send(ctx context.Context, body []byte, sent []*core.Event) ([]failure, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return nil, core.Permanent(errors.New("cannot build the request; check apihost="))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Honeycomb-Team", s.cfg.WriteKey.Reveal())
	reply, err := s.client.Do(ctx, req, nil)
	if err != nil {
		return nil, s.requestError(err)
	}
	trimmed := bytes.TrimSpace(reply)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		// Not Honeycomb's per-event reply (a proxy that answers 202 with no body): the request
		// as a whole was accepted.
		return nil, nil
	}
	var results []result
	if err := json.Unmarshal(trimmed, &results); err != nil || len(results) != len(sent) {
		// Honeycomb answers one status per event, in order. A list that does not match cannot
		// say what was taken: send the batch again (a repeat may duplicate what was taken).
		return nil, fmt.Errorf("%s: the batch reply holds no %d per-event statuses (got %q); retrying the batch",
			s.cfg.ID, len(sent), oneLine(reply, 200))
	}
	var out []failure
	for i, r := range results {
		if r.Status == http.StatusAccepted || (r.Status >= 200 && r.Status < 300) {
			continue
		}
		f := failure{event: sent[i], status: r.Status, reason: r.Error}
		switch {
		case r.Status == http.StatusTooManyRequests, r.Status == http.StatusForbidden, r.Status >= 500, r.Status == 0:
			f.retry = true
		}
		out = append(out, f)
	}
	return out, nil
}

// requestError classifies a failed request: httpx's table, except that Honeycomb answers 403
// for administrative throttling, which a later retry gets through.
func (s *Sink) requestError(err error) error {
	var he *httpx.Error
	if errors.As(err, &he) {
		e := *he
		switch he.StatusCode {
		case http.StatusForbidden:
			e.Retryable = true
			e.Detail += "; Honeycomb throttles this key or dataset; herald retries later"
			return fmt.Errorf("%s: %w", s.cfg.ID, &e)
		case http.StatusUnauthorized:
			// A refused key is an outage until it is fixed: retried, never dropped.
			e.Credential, e.Fix = true, "check writekey (an ingest key, or a configuration key with Send Events)"
			return core.Credential(fmt.Errorf("%s: %w", s.cfg.ID, &e), e.Fix)
		case http.StatusNotFound:
			e.Detail += "; check apihost and dataset"
			return core.Permanent(fmt.Errorf("%s: %w", s.cfg.ID, &e))
		}
	}
	if core.IsPermanent(err) {
		return core.Permanent(fmt.Errorf("%s: %w", s.cfg.ID, err))
	}
	return fmt.Errorf("%s: %w", s.cfg.ID, err)
}

// result turns the per-event failures, and the events rest of a request that failed as a whole
// with restErr, into Export's error: what Honeycomb refused for good is rejected, the rest
// retried.
func (s *Sink) result(events []*core.Event, failures []failure, rest []*core.Event, restErr error) error {
	var retryF, rejectF []failure
	for _, f := range failures {
		if f.retry {
			retryF = append(retryF, f)
		} else {
			rejectF = append(rejectF, f)
		}
	}
	var retry, rejected []*core.Event
	var retryErr, rejectErr error
	if len(retryF) > 0 {
		retry, retryErr = eventsOf(retryF), s.summary(retryF, len(events))
	}
	if len(rejectF) > 0 {
		rejected, rejectErr = eventsOf(rejectF), core.Permanent(s.summary(rejectF, len(events)))
	}
	switch {
	case len(rest) == 0:
	case core.IsPermanent(restErr) && !core.IsCredential(restErr):
		rejected = append(rejected, rest...)
		if rejectErr == nil {
			rejectErr = restErr
		} else {
			rejectErr = fmt.Errorf("%w; %v", restErr, rejectErr)
		}
	default:
		retry = append(retry, rest...)
		if retryErr != nil {
			// The failed request decides how the retry goes (a refused credential, a timeout).
			restErr = fmt.Errorf("%w; %v", restErr, retryErr)
		}
		retryErr = restErr
	}
	return core.Partial(len(events), retry, retryErr, rejected, rejectErr)
}

func eventsOf(fs []failure) []*core.Event {
	out := make([]*core.Event, len(fs))
	for i, f := range fs {
		out[i] = f.event
	}
	return out
}

// summary says what became of failures, each distinct reason once with its count.
func (s *Sink) summary(failures []failure, total int) error {
	var reasons core.Reasons
	for _, f := range failures {
		k := f.reason
		if f.status != 0 {
			k = "status " + strconv.Itoa(f.status) + ": " + f.reason
		}
		reasons.Add(k)
	}
	return fmt.Errorf("%s: Honeycomb did not take %d of %d events: %s", s.cfg.ID, len(failures), total, reasons.String())
}

// Preview shows the request the sink would send for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	b, err := json.MarshalIndent([]Event{s.Event(e, s.now())}, "", "  ")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("POST %s://%s%s\nX-Honeycomb-Team: <redacted>\n\n%s\n", s.cfg.URL.Scheme, s.cfg.URL.Host, s.cfg.URL.EscapedPath(), b), nil
}

func oneLine(b []byte, max int) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
