// Package otlp sends events as OpenTelemetry log records over OTLP/HTTP (binary protobuf,
// optionally gzip-compressed), one request per batch, to an OpenTelemetry Collector or any
// backend that takes OTLP logs. Each event is one LogRecord with the semantic conventions'
// Kubernetes attributes.
package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	collogspb "go.opentelemetry.io/proto/slim/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/slim/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "otlp",
		Summary: "OpenTelemetry logs over OTLP/HTTP (protobuf, gzip): one LogRecord per event with the Kubernetes semantic conventions, one request per batch, partial success honoured",
		Example: "otlp:http://otel-collector.observability:4318?level=Normal&resource=deployment.environment.name=prod&header=Authorization=Bearer%20${OTLP_TOKEN}",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
	})
}

// MaxRequestBytes bounds the protobuf of one request before compression. The specification
// recommends that receivers accept 20 MiB; herald stays at 4 MiB, within what hosted OTLP
// endpoints take, and a batch of 500 ordinary events is about half a megabyte. A larger batch
// is sent as several requests.
const MaxRequestBytes = 4 << 20

// ContentType is the OTLP/HTTP binary protobuf encoding's.
const ContentType = "application/x-protobuf"

// Sink sends log records to one OTLP/HTTP receiver.
type Sink struct {
	cfg    *Config
	target string
	client *httpx.Client
	body   *template.Body
	now    func() time.Time
	// resource and scope head every request; they are read-only once built.
	resource *resourcepb.Resource
	scope    *commonpb.InstrumentationScope
	// secrets are scrubbed from every error, besides what redact.Text finds.
	secrets []string
	gzip    sync.Pool

	mu          sync.Mutex
	lastWarning string
}

// New builds the sink from a parsed Config: its transport and, when the body comes from a
// template, the template. It connects to nothing.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	opts := cfg.HTTP
	opts.Now = env.Clock()
	client, err := httpx.NewClient(opts)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:     cfg,
		target:  cfg.URL.String(),
		client:  client,
		now:     env.Clock(),
		scope:   &commonpb.InstrumentationScope{Name: ScopeName},
		secrets: cfg.HTTP.Secrets,
	}
	s.resource = &resourcepb.Resource{}
	for _, kv := range cfg.Resource {
		s.resource.Attributes = append(s.resource.Attributes, &commonpb.KeyValue{Key: kv.Key,
			Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: kv.Value}}})
	}
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
	// Scheme, host and path only: the userinfo may hold a password.
	glog.Infof("%s: OTLP/HTTP log records to %s://%s%s, gzip %v", cfg.ID, cfg.URL.Scheme, cfg.URL.Host, cfg.URL.EscapedPath(), cfg.Gzip)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "otlp" }

// Close stops the template's ConfigMap watch and closes idle connections.
func (s *Sink) Close() error {
	if s.body != nil {
		s.body.Close()
	}
	s.client.Close()
	return nil
}

// Records returns the log records of a batch, in order; an event whose body template fails is
// left out and reported in rejected.
func (s *Sink) Records(events []*core.Event) (records []*logspb.LogRecord, sent []*core.Event, rejected []*core.Event, rejectErr error) {
	now := s.now()
	b := newRecordBuilder(len(events))
	records = make([]*logspb.LogRecord, 0, len(events))
	sent = make([]*core.Event, 0, len(events))
	for _, e := range events {
		body := e.Message
		if s.body != nil {
			out, err := s.body.Render(e)
			if err != nil {
				if rejectErr == nil {
					rejectErr = fmt.Errorf("event %s (%s): the body template does not render: %v; fix the template", e.Key(), e.Reason, err)
				}
				rejected = append(rejected, e)
				continue
			}
			body = string(out)
		}
		records = append(records, b.Record(e, body, now))
		sent = append(sent, e)
	}
	return records, sent, rejected, rejectErr
}

// Export sends the batch as one ExportLogsServiceRequest, or several when it is larger than
// MaxRequestBytes, in order. A request the receiver refuses for good (400, 413, any status the
// specification does not retry) has its events rejected and the next request is still sent; at
// the first request worth retrying (429, 502, 503, 504, no reply) or refused for its credential
// (401, 403) it stops, and that request's events and the rest are retried. A partial success
// counts rejected_log_records of the request's events as rejected (see refusal).
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	records, sent, rejected, rejectErr := s.Records(events)
	var out core.Outcomes
	out.Reject(core.Permanent(rejectErr), rejected...)
	for _, chunk := range split(records, sent) {
		if len(chunk.events) == 1 && chunk.size > maxRecords {
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): its log record is %d bytes, more than the %d a request may hold", chunk.events[0].Key(), chunk.events[0].Reason, chunk.size, maxRecords)), chunk.events...)
			continue
		}
		refused, err := s.send(ctx, chunk.records)
		switch {
		case err == nil && refused.count > 0:
			out.Reject(core.Permanent(refused.err(len(chunk.events))), chunk.events[len(chunk.events)-refused.count:]...)
		case err == nil:
		case core.IsPermanent(err) && !core.IsCredential(err):
			out.Reject(err, chunk.events...)
		default:
			out.Retry(err, remaining(sent, chunk.events[0])...)
			return out.Err(len(events))
		}
	}
	return out.Err(len(events))
}

// chunk is the records of one request.
type chunk struct {
	records []*logspb.LogRecord
	events  []*core.Event
	size    int
}

// split groups records into requests of at most MaxRequestBytes, in order. A record too large
// for a request is a chunk of its own, which Export refuses.
func split(records []*logspb.LogRecord, events []*core.Event) []chunk {
	var out []chunk
	cur := chunk{}
	for i, r := range records {
		n := proto.Size(r)
		n += protowireSizeOverhead(n)
		if len(cur.records) > 0 && cur.size+n > maxRecords {
			out = append(out, cur)
			cur = chunk{}
		}
		cur.records = append(cur.records, r)
		cur.events = append(cur.events, events[i])
		cur.size += n
	}
	if len(cur.records) > 0 {
		out = append(out, cur)
	}
	return out
}

// maxRecords is the most the records of one request may take, leaving room for the resource,
// the scope and the framing around them.
const maxRecords = MaxRequestBytes - 64<<10

// protowireSizeOverhead is the tag and length prefix of an embedded message of n bytes.
func protowireSizeOverhead(n int) int {
	l := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		l++
	}
	return 1 + l
}

// remaining returns the events of sent from first on.
func remaining(sent []*core.Event, first *core.Event) []*core.Event {
	if i := slices.Index(sent, first); i >= 0 {
		return sent[i:]
	}
	return sent
}

// refusal is a partial success: the receiver took the request but refused count of its records.
type refusal struct {
	count   int
	message string
}

func (r refusal) err(total int) error {
	msg := r.message
	if msg == "" {
		msg = "the receiver gave no reason"
	}
	return fmt.Errorf("the receiver took the request but rejected %d of its %d log records (partial success; OTLP does not say which, so herald counts the last %d as rejected): %s", r.count, total, r.count, msg)
}

// Request builds the ExportLogsServiceRequest for records.
func (s *Sink) Request(records []*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  s.resource,
		ScopeLogs: []*logspb.ScopeLogs{{Scope: s.scope, LogRecords: records}},
	}}}
}

// send posts one request and reads the reply: a refusal for a partial success, an error when
// the request failed (classified as the specification says).
func (s *Sink) send(ctx context.Context, records []*logspb.LogRecord) (refusal, error) {
	raw, err := proto.Marshal(s.Request(records))
	if err != nil {
		return refusal{}, core.Permanent(fmt.Errorf("encoding %d log records: %v", len(records), err))
	}
	body := raw
	if s.cfg.Gzip {
		if body, err = s.compress(raw); err != nil {
			return refusal{}, core.Permanent(fmt.Errorf("compressing %d log records: %v", len(records), err))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		// The URL was checked at start-up; do not quote it.
		return refusal{}, core.Permanent(errors.New("cannot build the request; check the receiver URL"))
	}
	for name, vs := range s.cfg.Header {
		req.Header[name] = vs
	}
	req.Header.Set("Content-Type", ContentType)
	if s.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	reply, err := s.client.DoWith(ctx, req, httpx.Replies{Refused: refused})
	if err != nil {
		return refusal{}, fmt.Errorf("sending %d log records: %w", len(records), err)
	}
	return s.success(reply, len(records)), nil
}

// success reads an ExportLogsServiceResponse. A reply that is not one (a proxy's empty 200)
// counts as full success: the receiver took the request.
func (s *Sink) success(reply []byte, sent int) refusal {
	var r collogspb.ExportLogsServiceResponse
	if len(reply) == 0 || proto.Unmarshal(reply, &r) != nil || r.PartialSuccess == nil {
		return refusal{}
	}
	ps := r.PartialSuccess
	msg := s.scrub(oneLine(ps.ErrorMessage))
	if ps.RejectedLogRecords <= 0 {
		if msg != "" {
			// The specification lets a receiver warn with rejected 0 and a message.
			s.warnOnce(msg)
		}
		return refusal{}
	}
	// A count above what was sent is the receiver's mistake: no more than all were refused.
	return refusal{count: int(min(ps.RejectedLogRecords, int64(sent))), message: msg}
}

// warnOnce logs a receiver's warning when it differs from the last one.
func (s *Sink) warnOnce(msg string) {
	s.mu.Lock()
	same := msg == s.lastWarning
	s.lastWarning = msg
	s.mu.Unlock()
	if !same {
		glog.Warningf("%s: the receiver took every log record and warns: %s", s.cfg.ID, msg)
	}
}

// refused reads a non-2xx reply as the OTLP/HTTP specification says: its Status message, which
// codes may be retried (429, 502, 503 and 504 only), and the Status's retry delay when there is
// no Retry-After.
func refused(resp *http.Response, reply []byte, e *httpx.Error) {
	var st Status
	if strings.HasPrefix(resp.Header.Get("Content-Type"), ContentType) {
		var ok bool
		if st, ok = DecodeStatus(reply); ok {
			e.Detail = oneLine(st.Message)
		}
	}
	switch {
	case e.Credential:
		e.Fix += " (header=Authorization=..., or the header your receiver reads)"
	case Retryable(resp.StatusCode):
		e.Retryable = true
		if e.Wait == 0 {
			e.Wait = st.RetryDelay
		}
	default:
		e.Retryable, e.Wait = false, 0
		switch resp.StatusCode {
		case http.StatusRequestEntityTooLarge:
			e.Detail = join(e.Detail, "the receiver takes smaller requests: lower batch_size")
		case http.StatusNotFound:
			e.Detail = join(e.Detail, "check the receiver URL (herald sends to its path + "+LogsPath+")")
		}
	}
}

// join appends a hint to a detail.
func join(detail, hint string) string {
	if detail == "" {
		return hint
	}
	return detail + "; " + hint
}

// compress gzips raw with a pooled writer.
func (s *Sink) compress(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw)/4 + 64)
	zw, _ := s.gzip.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(&buf)
	} else {
		zw.Reset(&buf)
	}
	defer s.gzip.Put(zw)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// scrub removes the sink's secrets (header values, the URL's password) and secret-looking
// parameters from text a receiver wrote.
func (s *Sink) scrub(text string) string {
	return redact.Text(redact.Scrub(text, s.secrets...))
}

// oneLine turns a receiver's message into one line, at most httpx.ErrorBodyLimit bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if len(s) > httpx.ErrorBodyLimit {
		s = strings.ToValidUTF8(s[:httpx.ErrorBodyLimit], "") + " …"
	}
	return s
}

// Preview shows the request the sink would send for e (herald check): the URL, the headers
// (values redacted but the sink's own) and the request in OTLP/JSON form.
func (s *Sink) Preview(e *core.Event) (string, error) {
	records, _, _, err := s.Records([]*core.Event{e})
	if err != nil {
		return "", err
	}
	raw, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(s.Request(records))
	if err != nil {
		return "", err
	}
	// protojson varies its spacing on purpose; json.Indent makes the preview the same each run.
	var js bytes.Buffer
	if err := json.Indent(&js, raw, "", "  "); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s://%s%s\nContent-Type: %s\n", s.cfg.URL.Scheme, s.cfg.URL.Host, s.cfg.URL.EscapedPath(), ContentType)
	if s.cfg.Gzip {
		b.WriteString("Content-Encoding: gzip\n")
	}
	names := make([]string, 0, len(s.cfg.Header))
	for name := range s.cfg.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range s.cfg.Header[name] {
			if !slices.Contains(redact.PublicHeaders, name) {
				v = redact.Placeholder
			}
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	fmt.Fprintf(&b, "\n(protobuf; as OTLP/JSON:)\n%s\n", js.Bytes())
	return b.String(), nil
}
