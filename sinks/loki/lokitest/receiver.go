// Package lokitest is a stand-in for Loki's push API (POST /loki/api/v1/push) on 127.0.0.1, for
// the loki sink's tests and the end-to-end test. It decodes a push as Loki does, and shares no
// code with herald's encoder: the snappy block format with the reference snappy package, the
// protobuf PushRequest with the protobuf runtime's descriptor-driven decoder (from a descriptor
// of Loki's push.proto written here), the JSON form with encoding/json. It then checks what
// Loki's distributor checks (label syntax and limits, line size, too old, too new) and what its
// ingester checks (order within a stream, with or without unordered writes), stores what Loki
// would store (one copy of an entry with the same stream, timestamp and line) and answers as
// Loki does: 204, or 400 with Loki's messages for the refused entries while storing the rest;
// 401 without the tenant header or the credential it wants.
//
// Loki is AGPL and cannot be built here; this package is written from Loki's documentation
// and the behaviour its code shows, not from its code.
package lokitest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang/snappy"
)

// Options configure the receiver as a Loki's limits_config would.
type Options struct {
	// Unordered accepts entries out of order within a stream (unordered_writes, Loki 2.4 and
	// later), refusing only those older than the stream's newest by more than MaxChunkAge/2.
	// false is Loki before 2.4: any entry older than the stream's newest is refused.
	Unordered bool
	// MaxChunkAge is the ingester's max_chunk_age (default 2h).
	MaxChunkAge time.Duration
	// MaxLineSize is max_line_size in bytes (default 256 KiB).
	MaxLineSize int
	// MaxLabelNames is max_label_names_per_series (default 15).
	MaxLabelNames int
	// RejectOldSamplesMaxAge is reject_old_samples_max_age (default 168h; negative: off).
	RejectOldSamplesMaxAge time.Duration
	// CreationGracePeriod is creation_grace_period (default 10m).
	CreationGracePeriod time.Duration
	// RequireTenant makes the receiver multi-tenant (auth_enabled): a push without
	// X-Scope-OrgID is refused with 401 "no org id".
	RequireTenant bool
	// User and Password, or Token, are what the gateway in front of Loki demands: basic or
	// bearer authorization; 401 without it.
	User, Password, Token string
	// Now is the receiver's clock (default time.Now).
	Now func() time.Time
	// Discard decodes and validates every push but keeps neither the push nor its entries
	// (benchmarks); Received counts the entries.
	Discard bool
}

// Entry is one log entry.
type Entry struct {
	Time     time.Time
	Line     string
	Metadata map[string]string
}

// Stream is one stream of a push as decoded: Raw is the labels string of a protobuf push (for
// JSON, the labels in Prometheus' text form).
type Stream struct {
	Raw     string
	Labels  map[string]string
	Entries []Entry
}

// Push is one request the receiver answered.
type Push struct {
	Header http.Header
	// ContentType and ContentEncoding as sent; Tenant is X-Scope-OrgID.
	ContentType, ContentEncoding, Tenant string
	// Streams as decoded (nil when the body could not be decoded).
	Streams []Stream
	// Status and Reply are the answer.
	Status int
	Reply  string
}

// Stored is one entry Loki holds, with its stream's labels.
type Stored struct {
	Tenant string
	Labels map[string]string
	Entry
}

// Receiver is a Loki push API on 127.0.0.1.
type Receiver struct {
	*httptest.Server
	o Options

	mu      sync.Mutex
	pushes  []Push
	streams map[string]*stream // by tenant and canonical labels
	order   []string
	fail    map[int]failure // by push number, from 1
	n       int             // pushes decoded so far
	entries int             // entries decoded so far
}

type stream struct {
	tenant  string
	labels  map[string]string
	entries []Entry
	// last is the last entry appended; newest the highest timestamp.
	last   Entry
	newest time.Time
	seen   map[string]bool // timestamp and line of every entry, for unordered dedup
}

type failure struct {
	status     int
	retryAfter string
	reply      string
	store      bool // store the push first, as if the answer were lost on the way
}

// New starts a receiver; it stops at the end of the test.
func New(t testing.TB, o Options) *Receiver {
	t.Helper()
	if o.MaxChunkAge == 0 {
		o.MaxChunkAge = 2 * time.Hour
	}
	if o.MaxLineSize == 0 {
		o.MaxLineSize = 256 << 10
	}
	if o.MaxLabelNames == 0 {
		o.MaxLabelNames = 15
	}
	if o.RejectOldSamplesMaxAge == 0 {
		o.RejectOldSamplesMaxAge = 168 * time.Hour
	}
	if o.CreationGracePeriod == 0 {
		o.CreationGracePeriod = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, err := pushRequestDescriptor(); err != nil {
		t.Fatalf("lokitest: push.proto descriptor: %v", err)
	}
	r := &Receiver{o: o, streams: map[string]*stream{}, fail: map[int]failure{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// Fail makes the next n pushes fail with status (and Retry-After when not empty), after they
// are decoded, storing nothing: a rate limit, an ingester down.
func (r *Receiver) Fail(n, status int, retryAfter, reply string) {
	r.mu.Lock()
	from := r.n + 1
	r.mu.Unlock()
	r.FailFrom(from, n, status, retryAfter, reply)
}

// StoreThenFail makes the next n pushes be stored as usual and then answered with status: the
// push reached Loki, but its answer was lost (a proxy's timeout, a 5xx from one replica).
func (r *Receiver) StoreThenFail(n, status int, reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range n {
		r.fail[r.n+1+i] = failure{status: status, reply: reply, store: true}
	}
}

// FailFrom makes pushes number from to from+n-1 (counting from 1, every push the receiver
// decoded) fail as Fail does.
func (r *Receiver) FailFrom(from, n, status int, retryAfter, reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range n {
		r.fail[from+i] = failure{status: status, retryAfter: retryAfter, reply: reply}
	}
}

// Seed stores an entry as if another writer had pushed it (for order tests).
func (r *Receiver) Seed(tenant string, labels map[string]string, e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.append(r.stream(tenant, labels), e)
}

// Pushes returns every request answered so far.
func (r *Receiver) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Push(nil), r.pushes...)
}

// Stored returns every entry Loki holds, stream by stream in the order the streams were
// created, each stream's entries in the order stored.
func (r *Receiver) Stored() []Stored {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Stored
	for _, k := range r.order {
		s := r.streams[k]
		for _, e := range s.entries {
			out = append(out, Stored{Tenant: s.tenant, Labels: s.labels, Entry: e})
		}
	}
	return out
}

// WaitFor waits until Loki holds at least n entries, or timeout passes, and returns them.
func (r *Receiver) WaitFor(n int, timeout time.Duration) []Stored {
	deadline := time.Now().Add(timeout)
	for {
		got := r.Stored()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	p, retryAfter := r.handle(req)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	if p.Status == http.StatusNoContent {
		w.WriteHeader(p.Status)
	} else {
		http.Error(w, p.Reply, p.Status)
	}
	r.mu.Lock()
	if !r.o.Discard {
		r.pushes = append(r.pushes, p)
	}
	r.mu.Unlock()
}

// Received is the number of entries in every push decoded so far.
func (r *Receiver) Received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries
}

// handle decodes and applies one push, and returns it with its answer (and a Retry-After).
func (r *Receiver) handle(req *http.Request) (Push, string) {
	p := Push{Header: req.Header.Clone(), ContentType: req.Header.Get("Content-Type"),
		ContentEncoding: req.Header.Get("Content-Encoding"), Tenant: req.Header.Get("X-Scope-OrgID")}
	refuse := func(status int, reply string) (Push, string) {
		p.Status, p.Reply = status, reply
		return p, ""
	}
	if req.URL.Path != "/loki/api/v1/push" {
		return refuse(http.StatusNotFound, "404 page not found")
	}
	if req.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "405 method not allowed")
	}
	if r.o.User != "" {
		if u, pw, ok := req.BasicAuth(); !ok || u != r.o.User || pw != r.o.Password {
			return refuse(http.StatusUnauthorized, "401 Unauthorized")
		}
	}
	if r.o.Token != "" && req.Header.Get("Authorization") != "Bearer "+r.o.Token {
		return refuse(http.StatusUnauthorized, "401 Unauthorized")
	}
	if r.o.RequireTenant {
		if p.Tenant == "" {
			return refuse(http.StatusUnauthorized, "no org id")
		}
		if len(p.Tenant) > 150 || strings.ContainsFunc(p.Tenant, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!-_.*'()", c))
		}) {
			return refuse(http.StatusUnauthorized, "tenant ID holds an unsupported character or is too long")
		}
	}
	var body io.Reader = req.Body
	switch p.ContentEncoding {
	case "", "snappy": // snappy: the protobuf decoder unsnappies below
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return refuse(http.StatusBadRequest, err.Error())
		}
		body = zr
	default:
		return refuse(http.StatusBadRequest, fmt.Sprintf("Content-Encoding %q not supported", p.ContentEncoding))
	}
	plain, err := io.ReadAll(body)
	if err != nil {
		return refuse(http.StatusBadRequest, err.Error())
	}
	streams, err := DecodePush(p.ContentType, plain)
	if err != nil {
		return refuse(http.StatusBadRequest, err.Error())
	}
	p.Streams = streams
	if len(streams) == 0 {
		return refuse(http.StatusBadRequest, errNoStreams.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	for _, st := range streams {
		r.entries += len(st.Entries)
	}
	if f, ok := r.fail[r.n]; ok {
		if f.store {
			r.apply(p.Tenant, p.Streams)
		}
		p.Status, p.Reply = f.status, f.reply
		return p, f.retryAfter
	}
	p.Status, p.Reply = r.apply(p.Tenant, p.Streams)
	return p, ""
}

// DecodePush decodes a push body (after any Content-Encoding) as Loki does for its Content-Type:
// application/json as JSON, anything else as protobuf in snappy's block format.
func DecodePush(contentType string, body []byte) ([]Stream, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if mt == "application/json" {
		return decodeJSON(body)
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %v (Loki wants the block format, not the framed one)", err)
	}
	return decodeProtobuf(pb)
}

// apply validates and stores a decoded push as Loki's distributor and ingester do: refused
// entries are named in a 400, the others stored. An ingester's refusal (order) is what the
// reply says when there is one; the distributor's validation errors otherwise.
func (r *Receiver) apply(tenant string, streams []Stream) (int, string) {
	now := r.o.Now()
	var validation, ingester []string
	for i := range streams {
		st := &streams[i]
		labels, err := r.parseStream(st)
		if err != nil {
			validation = append(validation, err.Error())
			continue
		}
		st.Labels = labels
		key := canonical(labels)
		var valid []Entry
		for _, e := range st.Entries {
			switch {
			case r.o.RejectOldSamplesMaxAge > 0 && e.Time.Before(now.Add(-r.o.RejectOldSamplesMaxAge)):
				validation = append(validation, fmt.Sprintf("entry for stream '%s' has timestamp too old: %v, oldest acceptable timestamp is: %v",
					key, e.Time.Format(time.RFC3339), now.Add(-r.o.RejectOldSamplesMaxAge).Format(time.RFC3339)))
			case e.Time.After(now.Add(r.o.CreationGracePeriod)):
				validation = append(validation, fmt.Sprintf("entry for stream '%s' has timestamp too new: %v", key, e.Time.Format(time.RFC3339)))
			case len(e.Line) > r.o.MaxLineSize:
				validation = append(validation, fmt.Sprintf("Max entry size '%d' bytes exceeded for stream '%s' while adding an entry with length '%d' bytes", r.o.MaxLineSize, key, len(e.Line)))
			case badMetadata(e.Metadata) != "":
				validation = append(validation, fmt.Sprintf("stream '%s' has invalid structured metadata: %s", key, badMetadata(e.Metadata)))
			default:
				valid = append(valid, e)
			}
		}
		if len(valid) == 0 || r.o.Discard {
			continue
		}
		s := r.stream(tenant, labels)
		var failed []string
		for _, e := range valid {
			if reason := r.append(s, e); reason != "" {
				failed = append(failed, fmt.Sprintf("entry with timestamp %s ignored, reason: '%s',", e.Time.String(), reason))
			}
		}
		if len(failed) > 0 {
			ingester = append(ingester, strings.Join(failed, "\n")+fmt.Sprintf("\nuser '%s', total ignored: %d out of %d for stream: %s", tenant, len(failed), len(valid), key))
		}
	}
	switch {
	case len(ingester) > 0:
		return http.StatusBadRequest, strings.Join(ingester, "\n")
	case len(validation) > 0:
		return http.StatusBadRequest, strings.Join(validation, "\n")
	}
	return http.StatusNoContent, ""
}

// append stores e in s as Loki's ingester does, or says why it refuses it; "" when stored or
// dropped as a duplicate of what s holds.
func (r *Receiver) append(s *stream, e Entry) string {
	if len(s.entries) > 0 && e.Time.Equal(s.last.Time) && e.Line == s.last.Line {
		return "" // the same as the last entry: ignored
	}
	id := strconv.FormatInt(e.Time.UnixNano(), 10) + "\x00" + e.Line
	if r.o.Unordered {
		if cutoff := s.newest.Add(-r.o.MaxChunkAge / 2); len(s.entries) > 0 && e.Time.Before(cutoff) {
			return fmt.Sprintf("entry too far behind, entry timestamp is: %s, oldest acceptable timestamp is: %s", e.Time.Format(time.RFC3339), cutoff.Format(time.RFC3339))
		}
		if s.seen[id] {
			return "" // a duplicate: stored once
		}
	} else if len(s.entries) > 0 && e.Time.Before(s.newest) {
		return "entry out of order"
	}
	s.seen[id] = true
	s.entries = append(s.entries, e)
	s.last = e
	if e.Time.After(s.newest) {
		s.newest = e.Time
	}
	return ""
}

func (r *Receiver) stream(tenant string, labels map[string]string) *stream {
	key := tenant + "\x00" + canonical(labels)
	s := r.streams[key]
	if s == nil {
		s = &stream{tenant: tenant, labels: labels, seen: map[string]bool{}}
		r.streams[key] = s
		r.order = append(r.order, key)
	}
	return s
}

// labelName is a Loki label name.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// parseStream reads a stream's labels (the protobuf labels string, or the JSON stream object)
// and checks them as Loki's distributor does.
func (r *Receiver) parseStream(st *Stream) (map[string]string, error) {
	labels := st.Labels
	if labels == nil {
		var err error
		if labels, err = ParseLabels(st.Raw); err != nil {
			return nil, fmt.Errorf("Error parsing labels '%s' with error: %v", st.Raw, err)
		}
	}
	key := canonical(labels)
	if len(labels) == 0 {
		return nil, fmt.Errorf("error at least one label pair is required per stream")
	}
	if len(labels) > r.o.MaxLabelNames {
		return nil, fmt.Errorf("entry for stream '%s' has %d label names; limit %d", key, len(labels), r.o.MaxLabelNames)
	}
	for n, v := range labels {
		switch {
		case !labelName.MatchString(n):
			return nil, fmt.Errorf("Error parsing labels '%s' with error: invalid label name %q", key, n)
		case len(n) > 1024:
			return nil, fmt.Errorf("stream '%s' has label name too long: '%s'", key, n)
		case len(v) > 2048:
			return nil, fmt.Errorf("stream '%s' has label value too long: '%s'", key, v)
		case v == "":
			// Stricter than Loki, which drops it: herald must leave empty labels out.
			return nil, fmt.Errorf("stream '%s' has an empty value for label %q", key, n)
		case !utf8.ValidString(v):
			return nil, fmt.Errorf("stream '%s' has a label value that is not UTF-8", key)
		}
	}
	return labels, nil
}

func badMetadata(m map[string]string) string {
	for n, v := range m {
		if !labelName.MatchString(n) {
			return fmt.Sprintf("invalid name %q", n)
		}
		if v == "" {
			return fmt.Sprintf("empty value for %q", n)
		}
	}
	return ""
}

// canonical is a label set in Prometheus' text form, names sorted, as Loki prints streams.
func canonical(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[n]))
	}
	b.WriteByte('}')
	return b.String()
}

// ParseLabels reads a label set in Prometheus' text form, as Loki's parser does: {name="value",
// ...}, names as in PromQL, values Go-quoted ("..." or `...`), equality only, no name twice.
func ParseLabels(s string) (map[string]string, error) {
	rest := strings.TrimSpace(s)
	if !strings.HasPrefix(rest, "{") {
		return nil, fmt.Errorf("a label set starts with '{'")
	}
	rest = strings.TrimLeft(rest[1:], " \t\n")
	out := map[string]string{}
	for {
		if strings.HasPrefix(rest, "}") {
			if strings.TrimSpace(rest[1:]) != "" {
				return nil, fmt.Errorf("text after '}': %q", rest[1:])
			}
			return out, nil
		}
		end := 0
		for end < len(rest) && (rest[end] == '_' || rest[end] >= 'a' && rest[end] <= 'z' || rest[end] >= 'A' && rest[end] <= 'Z' || end > 0 && rest[end] >= '0' && rest[end] <= '9') {
			end++
		}
		if end == 0 {
			return nil, fmt.Errorf("expected a label name at %q", rest)
		}
		name := rest[:end]
		rest = strings.TrimLeft(rest[end:], " \t\n")
		if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "=~") {
			return nil, fmt.Errorf("label %s: expected '=' (only equality matchers make a stream)", name)
		}
		rest = strings.TrimLeft(rest[1:], " \t\n")
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil || strings.HasPrefix(quoted, "'") {
			return nil, fmt.Errorf("label %s: the value is not a quoted string", name)
		}
		value, err := strconv.Unquote(quoted)
		if err != nil {
			return nil, fmt.Errorf("label %s: %v", name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("duplicate label name %q", name)
		}
		out[name] = value
		rest = strings.TrimLeft(rest[len(quoted):], " \t\n")
		switch {
		case strings.HasPrefix(rest, ","):
			rest = strings.TrimLeft(rest[1:], " \t\n")
		case strings.HasPrefix(rest, "}"):
		default:
			return nil, fmt.Errorf("expected ',' or '}' at %q", rest)
		}
	}
}

// decodeJSON decodes Loki's JSON push body: {"streams":[{"stream":{...},"values":[["<unix
// nanoseconds>","<line>"(,{structured metadata})], ...]}]}. Members Loki does not know are an
// error (Loki skips them; herald has no reason to send any).
func decodeJSON(b []byte) ([]Stream, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values []json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("decoding the JSON push: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decoding the JSON push: text after the object")
	}
	var out []Stream
	for i, s := range req.Streams {
		if s.Stream == nil {
			s.Stream = map[string]string{}
		}
		st := Stream{Labels: s.Stream, Raw: canonical(s.Stream)}
		for j, raw := range s.Values {
			var parts []json.RawMessage
			if err := json.Unmarshal(raw, &parts); err != nil || len(parts) < 2 || len(parts) > 3 {
				return nil, fmt.Errorf("stream %d, value %d: want [\"<unix nanoseconds>\", \"<line>\"] or with structured metadata as a third element", i, j)
			}
			var ts, line string
			if err := json.Unmarshal(parts[0], &ts); err != nil {
				return nil, fmt.Errorf("stream %d, value %d: the timestamp must be a string of unix nanoseconds", i, j)
			}
			ns, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("stream %d, value %d: timestamp %q: %v", i, j, ts, err)
			}
			if err := json.Unmarshal(parts[1], &line); err != nil {
				return nil, fmt.Errorf("stream %d, value %d: the line must be a string", i, j)
			}
			e := Entry{Time: time.Unix(0, ns).UTC(), Line: line}
			if len(parts) == 3 {
				if err := json.Unmarshal(parts[2], &e.Metadata); err != nil {
					return nil, fmt.Errorf("stream %d, value %d: structured metadata must be an object of strings", i, j)
				}
			}
			st.Entries = append(st.Entries, e)
		}
		out = append(out, st)
	}
	return out, nil
}
