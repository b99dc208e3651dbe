// Package elasticsearch is herald's Elasticsearch sink: one synchronous _bulk request per batch
// into daily indices (kube-eventer's) or a data stream, with document ids from the event uid and
// count so a retried batch overwrites instead of duplicating, and per-document results, so only
// the documents that failed are retried.
package elasticsearch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "elasticsearch",
		Summary: "Elasticsearch (5, 6, 7, 8, 9) or OpenSearch daily indices or a data stream: one bulk request per batch, document id from event uid and count, per-document retry",
		Example: "elasticsearch:https://es.logging:9200?index=kube-events-%Y.%m.%d&esUserName=herald&esUserSecret=${ES_PASSWORD}&template=true",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// Sink writes events to Elasticsearch.
type Sink struct {
	id     string
	cfg    *Config
	client *elastictransport.Client
	secret []string // values scrubbed from every error

	mu           sync.Mutex
	templated    bool            // the index template is installed (template=true)
	version      server          // the cluster's version, once versionKnown
	versionKnown bool            // asked (GET /) or taken from ver=
	aliased      map[string]bool // daily indices given kube-eventer's alias in this run
	aliasFailed  bool            // adding an alias failed (logged once)
}

// New builds the sink from a parsed Config; with env.CheckOnly it contacts nothing. It does
// not wait for the cluster: a cluster that is down at start delays delivery (the pipeline
// retries) instead of stopping herald.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	id, checkOnly := cfg.ID, env.CheckOnly
	transport, err := httpx.NewTransport(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	urls := make([]*url.URL, 0, len(cfg.Addresses))
	for _, a := range cfg.Addresses {
		u, err := url.Parse(strings.TrimRight(a, "/"))
		if err != nil {
			return nil, fmt.Errorf("node URL %s: %s; write it as http(s)://HOST:PORT", redact.Text(a), redact.Text(err.Error()))
		}
		urls = append(urls, u)
	}
	var rt http.RoundTripper = transport
	if cfg.SigV4 {
		signer, err := newSigV4(cfg, transport)
		if err != nil {
			return nil, err
		}
		rt = signer
	}
	// elastictransport is go-elasticsearch's transport without the client's product check,
	// which refuses Elasticsearch before 7.14 and OpenSearch; herald asks GET / itself.
	esCfg := elastictransport.Config{
		URLs:         urls,
		Username:     cfg.Username,
		Password:     cfg.Password,
		APIKey:       cfg.APIKey,
		Transport:    rt,
		MaxRetries:   cfg.MaxRetries,
		DisableRetry: cfg.MaxRetries == 0,
		UserAgent:    "herald",
	}
	if cfg.Sniff && !checkOnly {
		esCfg.DiscoverNodesInterval = 5 * time.Minute
	}
	client, err := elastictransport.New(esCfg)
	if err != nil {
		return nil, fmt.Errorf("building the Elasticsearch client: %s", redact.Text(err.Error()))
	}
	if cfg.Sniff && !checkOnly {
		go func() {
			if err := client.DiscoverNodes(); err != nil {
				glog.V(1).Infof("%s: node discovery (sniff): %s", id, redact.Text(err.Error()))
			}
		}()
	}
	s := &Sink{id: id, cfg: cfg, client: client, aliased: map[string]bool{}}
	// A server may echo the Authorization header back, in either form.
	for _, v := range []string{cfg.Password, cfg.APIKey} {
		if v != "" {
			s.secret = append(s.secret, v)
		}
	}
	if cfg.Password != "" {
		s.secret = append(s.secret, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	}
	return s, nil
}

// Name is the sink's scheme.
func (s *Sink) Name() string { return "elasticsearch" }

// Close releases idle connections.
func (s *Sink) Close() error {
	return s.client.Close(context.Background())
}

// action is one bulk item: the action line and the document.
type action struct {
	index string
	id    string
	doc   []byte
}

func (s *Sink) action(e *core.Event) (action, error) {
	doc, err := json.Marshal(document(e, s.cfg.Cluster))
	if err != nil {
		return action{}, err
	}
	index := s.cfg.Index
	if !s.cfg.DataStream {
		ns := ""
		if s.cfg.UseNamespace {
			ns = e.Namespace
		}
		index = expandIndex(s.cfg.Index, ns, e.LastSeen(e.CreationTimestamp.Time))
	}
	return action{index: index, id: docID(e), doc: doc}, nil
}

// opType is the bulk action: index (overwrite by _id), or create for a data stream, which
// accepts nothing else; a create of an existing _id answers 409, which means "already written".
func (s *Sink) opType() string {
	if s.cfg.DataStream {
		return "create"
	}
	return "index"
}

func (s *Sink) writeAction(b *bytes.Buffer, a action, v server) {
	m := map[string]string{"_index": a.index, "_id": a.id}
	if v.typed() {
		m["_type"] = TypeName
	}
	meta := map[string]map[string]string{s.opType(): m}
	line, _ := json.Marshal(meta)
	b.Write(line)
	b.WriteByte('\n')
	b.Write(a.doc)
	b.WriteByte('\n')
}

// Preview shows the bulk lines herald would send for e.
func (s *Sink) Preview(e *core.Event) (string, error) {
	a, err := s.action(e)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	s.mu.Lock()
	v := s.version
	if !s.versionKnown {
		v = server{major: s.cfg.Ver, guessed: true}
	}
	s.mu.Unlock()
	s.writeAction(&b, a, v)
	endpoint := strings.TrimRight(s.cfg.Addresses[0], "/") + "/_bulk"
	if s.cfg.Pipeline != "" {
		endpoint += "?pipeline=" + s.cfg.Pipeline
	}
	return "POST " + redact.Text(endpoint) + "\n" + b.String(), nil
}

// Export sends the batch as one bulk request and inspects each document's result: documents
// Elasticsearch refused (a mapping or parse error, 4xx) fail permanently, documents it could not
// take now (429, 5xx) are retried; the rest are written.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	v, err := s.server(ctx)
	if err != nil {
		return s.requestFailed(err)
	}
	if s.cfg.DataStream && !v.dataStreams() {
		return s.requestFailed(core.Permanent(fmt.Errorf("%s is %s, which has no data streams (7.9 and later have them); remove data_stream=true to write daily indices", s.endpoints(), v)))
	}
	if err := s.ensureTemplate(ctx, v); err != nil {
		return s.requestFailed(err)
	}
	var body bytes.Buffer
	var failures []failure
	sent := make([]*core.Event, 0, len(events))
	for _, e := range events {
		a, err := s.action(e)
		if err != nil {
			failures = append(failures, failure{event: e, permanent: true,
				reason: fmt.Sprintf("cannot encode the document: %v", err)})
			continue
		}
		s.writeAction(&body, a, v)
		sent = append(sent, e)
	}
	if len(sent) > 0 {
		res, err := s.bulk(ctx, body.Bytes())
		if err != nil {
			return s.requestFailed(err)
		}
		failures = append(failures, s.itemFailures(res, sent)...)
		s.ensureAliases(ctx, res)
	}
	return s.result(events, failures)
}

// bulk sends one _bulk request and decodes its reply.
func (s *Sink) bulk(ctx context.Context, body []byte) (*bulkResponse, error) {
	req := esapi.BulkRequest{Body: bytes.NewReader(body)}
	if s.cfg.Pipeline != "" {
		req.Pipeline = s.cfg.Pipeline
	}
	resp, err := s.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var br bulkResponse
	if err := json.Unmarshal(resp, &br); err != nil {
		return nil, fmt.Errorf("the _bulk reply is not JSON (%v): %s", err, s.scrub(oneLine(resp, 200)))
	}
	if len(br.Items) != countLines(body)/2 {
		return nil, core.Permanent(fmt.Errorf("the _bulk reply has %d items for %d documents; is this an Elasticsearch-compatible server?", len(br.Items), countLines(body)/2))
	}
	return &br, nil
}

// do performs one API request, returning the reply body of a 2xx, or an error that is
// permanent for a 4xx other than 408/429 and retryable otherwise.
func (s *Sink) do(ctx context.Context, req esapi.Request) ([]byte, error) {
	res, err := req.Do(ctx, s.client)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s: %w", s.endpoints(), err)
		}
		return nil, fmt.Errorf("%s: %s", s.endpoints(), s.scrub(err.Error()))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the reply: %s", s.endpoints(), s.scrub(err.Error()))
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return body, nil
	}
	err = &StatusError{Status: res.StatusCode, Detail: s.scrub(errorReason(body)), Endpoint: s.endpoints()}
	if httpx.CredentialStatus(res.StatusCode) {
		// A refused credential: the sink is down, its events kept, until it is fixed.
		return nil, core.Credential(err, "check user/password or api_key, and that the user may write to the index (privileges create_doc, create_index)")
	}
	if httpx.RetryableStatus(res.StatusCode) {
		return nil, err
	}
	return nil, core.Permanent(err)
}

// StatusError is a reply with a status herald does not accept.
type StatusError struct {
	Status   int
	Detail   string
	Endpoint string
}

func (e *StatusError) Error() string {
	fix := ""
	switch e.Status {
	case http.StatusUnauthorized:
		fix = "; check esUserName/esUserSecret or api_key"
	case http.StatusForbidden:
		fix = "; grant the user the create_doc/index privilege on the index (and manage_index_templates for template=true)"
	case http.StatusNotFound:
		fix = "; check the node URL's path, and that the ingest pipeline exists"
	}
	return fmt.Sprintf("%s: HTTP %d %s: %s%s", e.Endpoint, e.Status, http.StatusText(e.Status), e.Detail, fix)
}

func (s *Sink) endpoints() string {
	if len(s.cfg.Addresses) == 1 {
		return "elasticsearch " + redact.Text(s.cfg.Addresses[0])
	}
	return fmt.Sprintf("elasticsearch %s (and %d more nodes)", redact.Text(s.cfg.Addresses[0]), len(s.cfg.Addresses)-1)
}

// scrub removes the sink's credentials from text a server or the client produced.
func (s *Sink) scrub(text string) string {
	return redact.Text(redact.Scrub(text, s.secret...))
}

// requestFailed names the sink in err; the pipeline logs the outage and the recovery.
func (s *Sink) requestFailed(err error) error {
	return fmt.Errorf("%s: %w", s.id, err)
}

func countLines(b []byte) int { return bytes.Count(b, []byte{'\n'}) }

func oneLine(b []byte, max int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
