// Package loki pushes events to Grafana Loki through its push API (POST /loki/api/v1/push):
// one entry per event, in streams labelled by a few chosen event fields, the line the event as
// JSON or a template's render, as snappy-compressed protobuf or as JSON.
//
// Order. Loki before unordered_writes (2.4) refuses an entry older than the newest of its
// stream, and a newer Loki one older than the newest by half of max_chunk_age. So within a push
// each stream's entries are sorted by timestamp, a batch too large for one push is cut in
// timestamp order, and a stream is never sent an entry older than the last one herald sent it:
// such an entry (an event that happened earlier but was delivered later) gets that last
// timestamp instead; its line keeps the event's own times. An entry's stream, timestamp and
// line are fixed at its first push, so a retry sends the same entry and Loki, which keeps one
// copy of an entry with the same stream, timestamp and line, stores it once.
//
// A 400. Loki answers a push with 400 when it refuses some entries (too old, too new, a line
// too long, out of order) and stores the others; its reply names the refused ones in text that
// differs between versions and is cut at 1 KB here, so herald does not parse it. It bisects
// instead: it sends each half of the refused push again, and the halves of a half Loki refuses
// again, until an entry Loki refuses alone is rejected with Loki's reason; an entry or half Loki
// takes is delivered. Re-sending an entry Loki stored from the first push does no harm (the
// same entry is stored once). A push of n entries with k refused costs about 2k·log2(n) more
// requests, never more than 2n-1; no entry is sent again once decided, and the undecided rest
// of a bisection cut short (a timeout, a 5xx) is retried by the pipeline as usual. A 413 (a
// gateway's body limit) is bisected the same way.
//
// The one ambiguity is order: re-sent alone, an entry Loki already stored from the first push
// may be refused as out of order (its stream now holds the entries after it). When Loki's reply
// to the first push named no ordering refusal, such an entry was stored then, and herald counts
// it delivered; so it does for an entry an earlier export sent (a 5xx, a timeout: Loki may have
// stored it then). When the first reply did name one for a new entry (the stream had newer
// entries before herald's push: another writer, or a herald restarted and no longer knows its
// streams' last timestamps), herald cannot tell a stored entry from a refused one and rejects
// every entry refused alone, so some rejected entries may be in Loki.
package loki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "loki",
		Summary: "Grafana Loki push API: one entry per event in streams labelled by chosen event fields, the line the event as JSON or a template, snappy protobuf or JSON, per-stream order kept, a 400 bisected so only the refused entries are rejected",
		Example: "loki:http://loki-gateway.loki:3100?tenant=team-a&label=job=herald&labels=namespace,kind,reason",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
	})
}

// Tuning of the per-stream state.
const (
	// streamIdle is how long a stream's last timestamp is kept after its last push. Loki keeps
	// a stream in memory for chunk_idle_period (30 minutes by default); past that, it takes an
	// older entry again.
	streamIdle = time.Hour
	// sweepEvery is how often idle streams are forgotten.
	sweepEvery = 10 * time.Minute
	// fallbackLabel names the stream of an event none of whose labels has a value (labels=
	// namespace for a Node event): Loki refuses a stream without labels.
	fallbackLabel = "job"
	fallbackValue = "herald"
)

// Sink pushes events to one Loki.
type Sink struct {
	cfg    *Config
	target string
	client *httpx.Client
	body   *template.Body // nil: the line is the event as JSON
	now    func() time.Time

	mu sync.Mutex
	// streams holds, per stream, the last timestamp herald sent it.
	streams   map[string]*streamState
	lastSweep time.Time
	// pending holds the entries of the events the last Export returned for retry.
	pending map[*core.Event]*entry
	raw     []byte // scratch buffer of the protobuf encoder
}

type streamState struct {
	last time.Time // the newest timestamp sent
	used time.Time // when it was last pushed, by the sink's clock
}

// New builds the sink from a parsed Config: it loads the line template and builds the
// client. It connects to nothing.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, target: cfg.URL.String(), client: client, now: env.Clock(),
		streams: map[string]*streamState{}, pending: map[*core.Event]*entry{}}
	if cfg.Template != nil {
		ctx := env.Ctx
		if ctx == nil {
			ctx = context.Background()
		}
		if s.body, err = template.New(ctx, *cfg.Template); err != nil {
			client.Close()
			return nil, err
		}
	}
	for _, n := range cfg.Notes {
		glog.Warning(n)
	}
	line := "the event as JSON"
	if s.body != nil {
		line = "from " + s.body.Source()
	}
	// Scheme, host and path: the userinfo is a credential.
	glog.Infof("%s: %s pushes to Loki at %s://%s%s, streams labelled by %s, line %s", cfg.ID, cfg.Format, cfg.URL.Scheme, cfg.URL.Host, cfg.URL.Path, cfg.labelNames(), line)
	return s, nil
}

// labelNames says which labels streams get, for logs.
func (c *Config) labelNames() string {
	var names []string
	for _, f := range c.Labels {
		names = append(names, string(f))
	}
	for n, v := range c.Constant {
		names = append(names, n+"="+v)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "loki" }

// Close stops the template's ConfigMap watch and closes idle connections.
func (s *Sink) Close() error {
	if s.body != nil {
		s.body.Close()
	}
	s.client.Close()
	return nil
}

// Export pushes the batch: one push, or several of at most MaxPushBytes in timestamp order.
// An event whose line does not render is rejected alone. A push Loki refuses with 400 (or a
// gateway with 413) is bisected, so only the entries Loki refuses are rejected (see the package
// doc). A push that fails otherwise stops the export: 401 and 403 are a credential outage, 429,
// 5xx and network errors are retried (Retry-After honoured), with every entry not yet delivered;
// any other status rejects them (a wrong URL, a redirect).
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out core.Outcomes
	entries := s.entries(events, &out)
	var stop error
	for _, push := range split(entries, MaxPushBytes) {
		if stop = s.deliver(ctx, push); stop != nil {
			break
		}
	}
	var rest []*core.Event
	for _, e := range entries {
		switch e.fate {
		case delivered:
			delete(s.pending, e.event)
		case rejected:
			delete(s.pending, e.event)
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): Loki refused its entry: %w", e.event.Key(), e.event.Reason, e.err)), e.event)
		default:
			rest = append(rest, e.event)
		}
	}
	if core.IsPermanent(stop) && !core.IsCredential(stop) {
		// A wrong URL, a redirect: every push would get the same answer.
		for _, ev := range rest {
			delete(s.pending, ev)
		}
		out.Reject(stop, rest...)
	} else {
		out.Retry(stop, rest...)
	}
	return out.Err(len(events))
}

// entries turns events into entries: those of events being retried as they were first sent,
// the others new, each given its stream's last timestamp when it is older. An event whose line
// cannot be rendered is rejected in out. The result is sorted by timestamp.
func (s *Sink) entries(events []*core.Event, out *core.Outcomes) []*entry {
	now := s.now()
	s.sweep(now)
	inBatch := make(map[*core.Event]bool, len(events))
	for _, e := range events {
		inBatch[e] = true
	}
	for e := range s.pending {
		if !inBatch[e] {
			delete(s.pending, e) // the pipeline gave it up (shutdown): nothing to keep
		}
	}
	list := make([]*entry, 0, len(events))
	clamped := 0
	assigned := map[string]time.Time{} // the newest timestamp given in this batch, per stream
	for _, ev := range events {
		if e, ok := s.pending[ev]; ok {
			e.fate, e.err, e.retried = undecided, nil, true
			if e.ts.After(assigned[e.stream]) {
				assigned[e.stream] = e.ts // keeps its stream from being forgotten
			}
			list = append(list, e)
			continue
		}
		line, err := s.line(ev)
		if err != nil {
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): the line does not render: %v; fix the template", ev.Key(), ev.Reason, err)), ev)
			continue
		}
		e := &entry{event: ev, line: line, labels: s.labels(ev), meta: s.metadata(ev)}
		e.stream = labelSet(e.labels)
		e.ts = ev.LastSeen(now)
		if st := s.streams[e.stream]; st != nil && e.ts.Before(st.last) {
			// The floor is what earlier pushes sent; within this batch, sorting orders them.
			e.ts = st.last
			clamped++
		}
		if e.ts.After(assigned[e.stream]) {
			assigned[e.stream] = e.ts
		}
		s.pending[ev] = e
		list = append(list, e)
	}
	for stream, ts := range assigned {
		st := s.streams[stream]
		if st == nil {
			st = &streamState{}
			s.streams[stream] = st
		}
		if ts.After(st.last) {
			st.last = ts
		}
		st.used = now
	}
	if clamped > 0 && glog.V(1) {
		glog.Infof("%s: %d of %d entries took their stream's last timestamp: their events happened before the last entry herald sent those streams", s.cfg.ID, clamped, len(events))
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ts.Before(list[j].ts) })
	return list
}

// sweep forgets the streams not pushed for streamIdle, at most once every sweepEvery.
func (s *Sink) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, st := range s.streams {
		if now.Sub(st.used) > streamIdle {
			delete(s.streams, k)
		}
	}
}

// labels are the stream labels of e: the chosen fields with a value and the constant labels.
func (s *Sink) labels(e *core.Event) []pair {
	out := make([]pair, 0, len(s.cfg.Labels)+len(s.cfg.Constant))
	for _, f := range s.cfg.Labels {
		if v := f.value(e, s.cfg.Cluster); v != "" {
			out = append(out, pair{string(f), v})
		}
	}
	for n, v := range s.cfg.Constant {
		out = append(out, pair{n, v})
	}
	if len(out) == 0 {
		out = append(out, pair{fallbackLabel, fallbackValue})
	}
	return out
}

// metadata are the structured metadata pairs of e's entry.
func (s *Sink) metadata(e *core.Event) []pair {
	if len(s.cfg.Metadata) == 0 {
		return nil
	}
	out := make([]pair, 0, len(s.cfg.Metadata))
	for _, f := range s.cfg.Metadata {
		if v := f.value(e, s.cfg.Cluster); v != "" {
			out = append(out, pair{string(f), v})
		}
	}
	return out
}

// deliver pushes entries and sets the fate of each it can decide. It returns the error that
// stops the export: the entries left undecided are retried, or rejected when it is permanent.
func (s *Sink) deliver(ctx context.Context, push []*entry) error {
	err := s.post(ctx, push)
	switch {
	case err == nil:
		decide(push, delivered, nil)
		return nil
	case splittable(err):
		return s.settle(ctx, push, err, namesOrdering(err))
	}
	return err
}

// settle decides the entries of a push Loki refused with err (400 or 413) by re-sending halves;
// ordering says whether the reply to the first push named an ordering refusal.
func (s *Sink) settle(ctx context.Context, push []*entry, err error, ordering bool) error {
	if len(push) == 1 {
		if namesOrdering(err) && (!ordering || push[0].retried) {
			// Refused for order alone, though the first push was not, or sent by an earlier
			// attempt whose answer was lost: Loki stored it then.
			decide(push, delivered, nil)
		} else {
			decide(push, rejected, err)
		}
		return nil
	}
	mid := len(push) / 2
	for _, half := range [][]*entry{push[:mid], push[mid:]} {
		herr := s.post(ctx, half)
		switch {
		case herr == nil:
			decide(half, delivered, nil)
		case splittable(herr):
			if stop := s.settle(ctx, half, herr, ordering); stop != nil {
				return stop
			}
		default:
			return herr
		}
	}
	return nil
}

func decide(es []*entry, f fate, err error) {
	for _, e := range es {
		e.fate, e.err = f, err
	}
}

// splittable reports a reply that refuses part of a push: 400 (Loki's validation and order
// checks) or 413 (a gateway's body limit).
func splittable(err error) bool {
	var he *httpx.Error
	return errors.As(err, &he) && (he.StatusCode == http.StatusBadRequest || he.StatusCode == http.StatusRequestEntityTooLarge)
}

// namesOrdering reports a reply that refuses entries for their order: "entry out of order"
// (Loki without unordered writes) or "entry too far behind" (with them).
func namesOrdering(err error) bool {
	var he *httpx.Error
	if !errors.As(err, &he) {
		return false
	}
	d := strings.ToLower(he.Detail)
	return strings.Contains(d, "out of order") || strings.Contains(d, "too far behind")
}

// post sends one push.
func (s *Sink) post(ctx context.Context, push []*entry) error {
	groups := streams(push)
	var body []byte
	contentType := "application/x-protobuf"
	if s.cfg.Format == FormatJSON {
		var err error
		if body, err = encodeJSON(groups); err != nil {
			return core.Permanent(fmt.Errorf("encoding %s as JSON: %v", count(len(push), "entry", "entries"), err))
		}
		contentType = "application/json"
	} else {
		body, s.raw = encodeProtobuf(s.raw, groups)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return core.Permanent(errors.New("cannot build the request; check the Loki URL"))
	}
	for k, vs := range s.cfg.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	if s.cfg.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", s.cfg.Tenant)
	}
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token.Reveal())
	}
	if _, err := s.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("pushing %s in %s: %w", count(len(push), "entry", "entries"), count(len(groups), "stream", "streams"), err)
	}
	return nil
}

// count says "1 entry", "3 entries".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Preview shows the entry the sink would push for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	line, err := s.line(e)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s://%s%s (%s)\n", s.cfg.URL.Scheme, s.cfg.URL.Host, s.cfg.URL.Path, s.cfg.Format)
	if s.cfg.Tenant != "" {
		fmt.Fprintf(&b, "X-Scope-OrgID: %s\n", s.cfg.Tenant)
	}
	fmt.Fprintf(&b, "stream %s\n", labelSet(s.labels(e)))
	if meta := s.metadata(e); len(meta) > 0 {
		fmt.Fprintf(&b, "structured metadata %s\n", labelSet(meta))
	}
	fmt.Fprintf(&b, "entry at %s:\n%s\n", e.LastSeen(s.now()).UTC().Format(time.RFC3339Nano), line)
	return b.String(), nil
}
