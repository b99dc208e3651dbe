// Package influxdb is herald's InfluxDB sink: each batch is one write of points, in
// kube-eventer's layout (measurement log/events, or events with withfields=true) or herald's
// (measurement kube_event), with the event's last timestamp as the point's time: to InfluxDB 1.x
// (any release from 0.9 on) through its /write API (db, user, pw), or to InfluxDB 2 (org,
// bucket, token) through influxdb-client-go/v2.
package influxdb

import (
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

	"github.com/golang/glog"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "influxdb",
		Summary: "InfluxDB 1.x database (the /write API) or InfluxDB 2 bucket: kube-eventer's measurements, tags and fields (or herald's layout), one write per batch",
		Example: "influxdb:http://influxdb.monitoring:8086?db=k8s&user=herald&pw=${INFLUX_PASSWORD}&withfields=true",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// Sink writes events to InfluxDB.
type Sink struct {
	// now dates events without a time and reads Retry-After dates.
	now     func() time.Time
	id      string
	cfg     *Config
	http    *http.Client
	client  influxdb2.Client     // the InfluxDB 2 form only
	writer  api.WriteAPIBlocking // the InfluxDB 2 form only
	secrets []string
	// writeURL is the InfluxDB 1.x form's /write?db=&rp=&precision=ns.
	writeURL string

	mu        sync.Mutex
	dbChecked bool // v1 form: CREATE DATABASE was sent
}

// New builds the sink from a parsed Config. It does not contact the server.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	id := cfg.ID
	transport, err := httpx.NewTransport(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	timeout := cfg.HTTP.Timeout
	if timeout <= 0 {
		timeout = httpx.DefaultTimeout
	}
	hc := &http.Client{
		Timeout: timeout,
		// A redirect is an error, not followed: Go would repeat the credentials' headers to the
		// new URL and put the old one, with its query, in the Referer.
		CheckRedirect: httpx.CheckRedirect(httpx.RedirectsNone),
		Transport:     transport,
	}
	s := &Sink{id: id, cfg: cfg, http: hc, now: env.Clock()}
	if cfg.V1 {
		q := url.Values{"db": {cfg.DB}, "precision": {"ns"}}
		if cfg.RP != "" {
			q.Set("rp", cfg.RP)
		}
		s.writeURL = strings.TrimRight(cfg.ServerURL, "/") + "/write?" + q.Encode()
		// kube-eventer's default root/root is no secret; anything else is scrubbed from errors.
		if cfg.Password != "" && cfg.Password != DefaultPW {
			// The password, and the Authorization header that carries it, which a proxy may echo.
			s.secrets = append(s.secrets, cfg.Password,
				base64.StdEncoding.EncodeToString([]byte(cfg.User+":"+cfg.Password)))
		}
		return s, nil
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPClient(hc).
		SetPrecision(time.Nanosecond).
		SetLogLevel(0).
		SetApplicationName("herald")
	s.client = influxdb2.NewClientWithOptions(cfg.ServerURL, cfg.Token, opts)
	s.writer = s.client.WriteAPIBlocking(cfg.Org, cfg.Bucket)
	if cfg.Token != "" {
		s.secrets = append(s.secrets, cfg.Token)
	}
	return s, nil
}

// Name is the sink's scheme.
func (s *Sink) Name() string { return "influxdb" }

// Close releases the client.
func (s *Sink) Close() error {
	if s.client != nil {
		s.client.Close()
	}
	s.http.CloseIdleConnections()
	return nil
}

// Preview shows the line protocol herald would write for e.
func (s *Sink) Preview(e *core.Event) (string, error) {
	line := write.PointToLineProtocol(s.point(e, time.Now()), time.Nanosecond)
	if s.cfg.V1 {
		return "POST " + redact.Text(s.writeURL) + "\n" + line, nil
	}
	q := url.Values{"bucket": {s.cfg.Bucket}, "precision": {"ns"}}
	if s.cfg.Org != "" {
		q.Set("org", s.cfg.Org)
	}
	return "POST " + redact.Text(strings.TrimRight(s.cfg.ServerURL, "/")) + "/api/v2/write?" + q.Encode() + "\n" + line, nil
}

// Export writes the batch in one request. A 4xx (bad credentials, a field type conflict) is
// permanent; a network error, 408, 429, a 5xx and a missing database (created again first) are
// retried.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.ensureDatabase(ctx); err != nil {
		return s.failed(err)
	}
	now := s.now()
	points := make([]*write.Point, len(events))
	for i, e := range events {
		points[i] = s.point(e, now)
	}
	if s.cfg.V1 {
		if err := s.writeV1(ctx, points); err != nil {
			return s.failed(err)
		}
	} else if err := s.writer.WritePoint(ctx, points...); err != nil {
		return s.failed(s.classify(err))
	}
	return nil
}

// writeV1 posts the points to InfluxDB 1.x's /write, which every 1.x release serves (0.9 on;
// /api/v2/write exists only from 1.8), with the user and password as basic authentication.
// InfluxDB answers 204 when every point is written.
func (s *Sink) writeV1(ctx context.Context, points []*write.Point) error {
	var body strings.Builder
	for _, p := range points {
		body.WriteString(write.PointToLineProtocol(p, time.Nanosecond))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.writeURL, strings.NewReader(body.String()))
	if err != nil {
		return core.Permanent(fmt.Errorf("influxdb %s: cannot build the write request: %v", redact.Text(s.cfg.ServerURL), err))
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "herald")
	if s.cfg.User != "" {
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb %s: %s", redact.Text(s.cfg.ServerURL), s.scrub(networkDetail(err)))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return s.classifyV1(resp, reply)
}

// classifyV1 turns a refused /write into an error naming the fix: 401/403 and 400 (a field type
// conflict, a bad point) are permanent; a missing database is retried after CREATE DATABASE
// runs again (kube-eventer reconnected and created it too); 408, 429 and 5xx are retried,
// honouring Retry-After.
func (s *Sink) classifyV1(resp *http.Response, reply []byte) error {
	var body struct {
		Error string `json:"error"`
	}
	detail := strings.TrimSpace(string(reply))
	if json.Unmarshal(reply, &body) == nil && body.Error != "" {
		detail = body.Error
	}
	detail = s.scrub(detail)
	endpoint := "influxdb " + redact.Text(s.cfg.ServerURL)
	code := resp.StatusCode
	switch {
	case code == http.StatusNotFound && strings.Contains(detail, "database not found"):
		s.mu.Lock()
		s.dbChecked = false
		s.mu.Unlock()
		return fmt.Errorf("%s: HTTP 404: %s; herald sends CREATE DATABASE %q again on the next attempt (it needs an admin user when authentication is on)", endpoint, detail, s.cfg.DB)
	case code == http.StatusNotFound && strings.Contains(detail, "retention policy not found"):
		return core.Permanent(fmt.Errorf("%s: HTTP 404: %s; create the retention policy or fix retention=", endpoint, detail))
	case httpx.RetryableStatus(code):
		out := fmt.Errorf("%s: HTTP %d: %s", endpoint, code, detail)
		return core.RetryAfter(out, httpx.ParseRetryAfter(resp.Header.Get("Retry-After"), s.now()))
	}
	fix := ""
	if httpx.CredentialStatus(code) {
		// A refused credential is an outage until it is fixed: retried, never dropped.
		return core.Credential(fmt.Errorf("%s: HTTP %d: %s", endpoint, code, detail),
			"check user and pw (kube-eventer's default is root/root), and that the user may write to the database")
	}
	switch code {
	case http.StatusBadRequest:
		fix = "; a field type conflict means the measurement holds a field of another type: write to a new measurement= or drop the old one"
	case http.StatusRequestEntityTooLarge:
		fix = "; lower batch_size"
	case http.StatusNotFound:
		fix = "; check the URL (an InfluxDB 1.x server serves /write)"
	}
	return core.Permanent(fmt.Errorf("%s: HTTP %d: %s%s", endpoint, code, detail, fix))
}

// networkDetail describes a failed round trip without the URL (and its query) net/http puts in
// its errors.
func networkDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

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
	case httpx.CredentialStatus(he.StatusCode):
		// A refused credential: the sink is down, its events kept, until it is fixed.
		return core.Credential(out, strings.TrimPrefix(fix, "; "))
	case httpx.RetryableStatus(he.StatusCode):
		return core.RetryAfter(out, time.Duration(he.RetryAfter)*time.Second)
	}
	return core.Permanent(out)
}

// ensureDatabase sends CREATE DATABASE once in the InfluxDB 1.x form, as kube-eventer did: in
// kube-eventer's layout with its statement (a default retention policy named "default", so a
// new database looks as kube-eventer left it), in herald's with InfluxDB's (autogen). It is a
// no-op when the database exists. Only a network failure stops the write: a server that refuses
// the statement (a non-admin user, InfluxDB 2) is left to answer the write itself.
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
	stmt := fmt.Sprintf("CREATE DATABASE %q", s.cfg.DB)
	if s.cfg.Layout == LayoutKubeEventer {
		stmt += ` WITH NAME "default"`
	}
	form := url.Values{"q": {stmt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.cfg.ServerURL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "herald")
	if s.cfg.User != "" {
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb %s: CREATE DATABASE: %s", redact.Text(s.cfg.ServerURL), s.scrub(err.Error()))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		glog.Infof("%s: %s was refused (HTTP %d: %s); writing anyway, the database must exist", s.id, stmt, resp.StatusCode, s.scrub(strings.TrimSpace(string(body))))
	}
	s.mu.Lock()
	s.dbChecked = true
	s.mu.Unlock()
	return nil
}

func (s *Sink) scrub(text string) string {
	return redact.Text(redact.Scrub(text, s.secrets...))
}

// failed names the sink in err; the pipeline logs the outage and the recovery.
func (s *Sink) failed(err error) error {
	return fmt.Errorf("%s: %w", s.id, err)
}
