// Package influxdb is herald's InfluxDB sink: each batch is one blocking write of points to
// measurement kube_event (tags for namespace, kind, reason, type, cluster; the message as a
// field; the event's last timestamp as the point's time), through influxdb-client-go/v2, to
// InfluxDB 2 (org, bucket, token) or to InfluxDB 1.8's v1-compatibility path (db, user, pw).
package influxdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "influxdb",
		Summary: "InfluxDB 2 bucket or InfluxDB 1.8+ database: measurement kube_event, one blocking write per batch, tags namespace/kind/reason/type/cluster",
		Example: "influxdb:http://influxdb.monitoring:8086?db=k8s&user=herald&pw=${INFLUX_PASSWORD}",
		Params:  Params,
		New:     New,
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// DefaultTimeout bounds one write when timeout= is not given.
const DefaultTimeout = 30 * time.Second

// Sink writes events to InfluxDB.
type Sink struct {
	id      string
	cfg     *Config
	http    *http.Client
	client  influxdb2.Client
	writer  api.WriteAPIBlocking
	secrets []string

	mu        sync.Mutex
	dbChecked bool // v1 form: CREATE DATABASE was sent
	down      bool
}

// New builds an influxdb sink. It does not contact the server.
func New(t sinks.Target, env sinks.Env) (core.Sink, error) {
	cfg := ParseConfig(t, env)
	if err := t.Params.Err(); err != nil {
		return nil, err
	}
	return newSink(t.ID, cfg)
}

func newSink(id string, cfg *Config) (*Sink, error) {
	timeout := time.Duration(cfg.Timeout)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // the user asked for it (insecuressl)
	if len(cfg.CACert) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CACert) {
			return nil, errors.New("parameter \"cacert\": the file holds no PEM certificate; give a PEM file of CA certificates")
		}
		tlsConfig.RootCAs = pool
	}
	hc := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tlsConfig,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        16,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPClient(hc).
		SetPrecision(time.Nanosecond).
		SetLogLevel(0).
		SetApplicationName("herald")
	client := influxdb2.NewClientWithOptions(cfg.ServerURL, cfg.Token, opts)
	s := &Sink{id: id, cfg: cfg, http: hc, client: client, writer: client.WriteAPIBlocking(cfg.Org, cfg.Bucket)}
	if cfg.Token != "" {
		s.secrets = append(s.secrets, cfg.Token)
		if _, pw, ok := strings.Cut(cfg.Token, ":"); ok && cfg.V1 && pw != "" {
			s.secrets = append(s.secrets, pw)
		}
	}
	return s, nil
}

// Name is the sink's scheme.
func (s *Sink) Name() string { return "influxdb" }

// Close releases the client.
func (s *Sink) Close() error {
	s.client.Close()
	s.http.CloseIdleConnections()
	return nil
}

// Preview shows the line protocol herald would write for e.
func (s *Sink) Preview(e *core.Event) (string, error) {
	q := url.Values{"bucket": {s.cfg.Bucket}, "precision": {"ns"}}
	if s.cfg.Org != "" {
		q.Set("org", s.cfg.Org)
	}
	return "POST " + redact.Text(strings.TrimRight(s.cfg.ServerURL, "/")) + "/api/v2/write?" + q.Encode() + "\n" +
		write.PointToLineProtocol(s.point(e), time.Nanosecond), nil
}

// Export writes the batch in one request. A 4xx (bad credentials, a missing bucket, a field
// type conflict) is permanent; a network error, 408, 429 or a 5xx is retried.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.ensureDatabase(ctx); err != nil {
		return s.failed(err)
	}
	points := make([]*write.Point, len(events))
	for i, e := range events {
		points[i] = s.point(e)
	}
	if err := s.writer.WritePoint(ctx, points...); err != nil {
		return s.failed(s.classify(err))
	}
	s.up()
	return nil
}

// retryAfter carries the server's Retry-After to the pipeline.
type retryAfter struct {
	error
	wait time.Duration
}

func (r *retryAfter) RetryAfter() time.Duration { return r.wait }
func (r *retryAfter) Unwrap() error             { return r.error }

// classify names the server and the fix and marks what no retry can fix as permanent.
func (s *Sink) classify(err error) error {
	endpoint := "influxdb " + redact.Text(s.cfg.ServerURL)
	var he *ihttp.Error
	if !errors.As(err, &he) || he.StatusCode == 0 {
		return fmt.Errorf("%s: %s", endpoint, s.scrub(err.Error()))
	}
	fix := ""
	switch he.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		fix = "; check user/pw (InfluxDB 1.x) or token (InfluxDB 2), and that it may write to the bucket"
	case http.StatusNotFound:
		fix = fmt.Sprintf("; create the database or bucket %q (or check org)", s.cfg.Bucket)
	case http.StatusBadRequest:
		fix = "; a field type conflict means the measurement holds a field of another type: write to a new measurement= or drop the old one"
	case http.StatusRequestEntityTooLarge:
		fix = "; lower batch_size"
	}
	out := fmt.Errorf("%s: HTTP %d: %s%s", endpoint, he.StatusCode, s.scrub(he.Error()), fix)
	switch {
	case he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden:
		// A refused credential: the sink is down, its events kept, until it is fixed.
		return core.Credential(out, strings.TrimPrefix(fix, "; "))
	case he.StatusCode == http.StatusTooManyRequests || he.StatusCode == http.StatusServiceUnavailable || he.StatusCode == http.StatusRequestTimeout || he.StatusCode >= 500:
		if he.RetryAfter > 0 {
			return &retryAfter{error: out, wait: time.Duration(he.RetryAfter) * time.Second}
		}
		return out
	}
	return core.Permanent(out)
}

// ensureDatabase sends CREATE DATABASE once in the InfluxDB 1.x form, as kube-eventer did (it is
// a no-op when the database exists). Only a network failure stops the write: a server that
// refuses the statement (a non-admin user, InfluxDB 2) is left to answer the write itself.
func (s *Sink) ensureDatabase(ctx context.Context) error {
	if !s.cfg.V1 {
		return nil
	}
	s.mu.Lock()
	done := s.dbChecked
	s.mu.Unlock()
	if done {
		return nil
	}
	form := url.Values{"q": {fmt.Sprintf("CREATE DATABASE %q", s.cfg.DB)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.cfg.ServerURL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "herald")
	if s.cfg.Token != "" {
		user, pw, _ := strings.Cut(s.cfg.Token, ":")
		req.SetBasicAuth(user, pw)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb %s: CREATE DATABASE: %s", redact.Text(s.cfg.ServerURL), s.scrub(err.Error()))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		glog.Infof("%s: CREATE DATABASE %q was refused (HTTP %d: %s); writing anyway, the database must exist", s.id, s.cfg.DB, resp.StatusCode, s.scrub(strings.TrimSpace(string(body))))
	}
	s.mu.Lock()
	s.dbChecked = true
	s.mu.Unlock()
	return nil
}

func (s *Sink) scrub(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, redact.Placeholder)
	}
	return redact.Text(text)
}

func (s *Sink) failed(err error) error {
	err = fmt.Errorf("%s: %w", s.id, err)
	s.mu.Lock()
	if !s.down {
		glog.Warning(err)
		s.down = true
	}
	s.mu.Unlock()
	return err
}

func (s *Sink) up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		glog.Infof("%s: writing to %s again", s.id, redact.Text(s.cfg.ServerURL))
		s.down = false
	}
}
