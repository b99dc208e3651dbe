// Package sls writes events to Alibaba Cloud Log Service (SLS) as kube-eventer's sls sink does:
// one log per event, kube-eventer's fields, PutLogs of the SDK's protobuf LogGroup, lz4 and
// signed (v4), one synchronous request per batch so Export reports what SLS answered.
package sls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	slssdk "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/golang/glog"
	"github.com/pierrec/lz4"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "sls",
		Summary: "Alibaba Cloud Log Service: one log per event with kube-eventer's fields, written with PutLogs (protobuf, lz4, signature v4)",
		Example: "sls:https://sls.aliyuncs.com?project=k8s-log-c1234&logStore=k8s-event&topic=k8s-cluster-dev&regionId=cn-hangzhou&internal=false&accessKeyId=${SLS_AK_ID}&accessKeySecret=${SLS_AK_SECRET}&label=ClusterId,c1234",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// SLS limits one PutLogs request to 4096 logs and a few MB of protobuf; a batch above either is
// split into several requests.
const (
	MaxLogsPerRequest = 4096
	MaxRawBytes       = 3 << 20
	// apiVersion is the x-log-apiversion the SDK sends.
	apiVersion = "0.6.0"
)

// Sink writes to one logstore.
type Sink struct {
	cfg    *Config
	client *httpx.Client
	path   string
	now    func() time.Time
	creds  credentialSource

	mu     sync.Mutex
	region string // signs requests: regionId, or from the ECS metadata service
	url    string // where the request goes
	host   string // the Host it names: PROJECT.ENDPOINT
	meta   *metadataClient
}

// New builds the sink from a parsed Config; env.Clock() dates and signs requests.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	now := env.Clock()
	client, err := httpx.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, client: client, now: now, path: "/logstores/" + cfg.LogStore}
	s.meta = newMetadataClient(cfg.MetadataEndpoint)
	if cfg.AccessKeyID != "" {
		s.creds = staticSource{credentials{ID: cfg.AccessKeyID.Reveal(), Secret: cfg.AccessKeySecret.Reveal()}}
	} else {
		s.creds = &roleSource{tokenConfig: cfg.TokenConfig, metadata: s.meta, now: now}
	}
	where := "the region's endpoint (the region from the ECS metadata service at " + cfg.MetadataEndpoint + ", at the first write)"
	if cfg.Region != "" {
		s.setRegion(cfg.Region)
		where = fmt.Sprintf("%s://%s%s (region %s)", cfg.Endpoint.Scheme, s.host, s.path, cfg.Region)
	}
	glog.Infof("%s: PutLogs to %s, topic %q, one request per batch, signed with %s", cfg.ID, where, cfg.Topic, s.creds.describe())
	return s, nil
}

// setRegion fixes the region and, unless endpoint= named one, kube-eventer's endpoint for it.
// SLS serves a project at PROJECT.ENDPOINT. An endpoint given as an IP address (a proxy, a test
// server) is dialled as is, with the project's host name in the Host header, as the SDK does.
func (s *Sink) setRegion(region string) {
	ep := s.cfg.Endpoint
	if ep == nil {
		ep = &url.URL{Scheme: "https", Host: region + "-intranet.log.aliyuncs.com"}
		if !s.cfg.Internal {
			ep.Host = region + ".log.aliyuncs.com"
		}
		s.cfg.Endpoint = ep
	}
	s.region = region
	s.host = s.cfg.Project + "." + ep.Host
	dial := s.host
	if net.ParseIP(ep.Hostname()) != nil {
		dial = ep.Host
	}
	s.url = ep.Scheme + "://" + dial + s.path
}

// target returns the region, URL and Host of PutLogs, asking the ECS metadata service for the
// region the first time when regionId was not given (as kube-eventer did at start); a failure is
// retried with the batch.
func (s *Sink) target(ctx context.Context) (region, url, host string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.region == "" {
		r, err := s.meta.region(ctx)
		if err != nil {
			return "", "", "", fmt.Errorf("no regionId given, and %v; add regionId=REGION", err)
		}
		s.setRegion(r)
		glog.Infof("%s: region %s from the ECS metadata service: PutLogs to %s://%s%s", s.cfg.ID, r, s.cfg.Endpoint.Scheme, s.host, s.path)
	}
	return s.region, s.url, s.host, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "sls" }

// Export writes the batch with PutLogs, one request per MaxLogsPerRequest logs or MaxRawBytes,
// in order, and returns once SLS has answered. It stops at the first failure and returns the
// events not yet written in a *core.PartialError, retryable or permanent as the failure is.
// SLS appends whatever it is sent: a batch written twice (a retry after a timeout whose request
// did land) is stored twice; every copy carries the same eventId JSON (uid, count,
// lastTimestamp), by which a query can tell them apart.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	now := s.now()
	var out core.Outcomes
	var ok []*core.Event
	var logs []*slssdk.Log
	for _, e := range events {
		l, err := s.cfg.Log(e, now)
		if err != nil {
			out.Reject(core.Permanent(fmt.Errorf("event %s (%s): cannot encode it: %v", e.Key(), e.Reason, err)), e)
			continue
		}
		ok = append(ok, e)
		logs = append(logs, l)
	}
	for start := 0; start < len(logs); {
		end, size := start, 0
		for end < len(logs) && end-start < MaxLogsPerRequest {
			n := proto.Size(logs[end])
			if end > start && size+n > MaxRawBytes {
				break
			}
			size += n
			end++
		}
		if err := s.put(ctx, logs[start:end]); err != nil {
			// The events of this request and after it share its fate.
			if core.IsPermanent(err) && !core.IsCredential(err) {
				out.Reject(err, ok[start:]...)
			} else {
				out.Retry(err, ok[start:]...)
			}
			break
		}
		start = end
	}
	return out.Err(len(events))
}

// put sends one PutLogs request.
func (s *Sink) put(ctx context.Context, logs []*slssdk.Log) error {
	region, url, host, err := s.target(ctx)
	if err != nil {
		return err
	}
	creds, err := s.creds.get(ctx)
	if err != nil {
		return err
	}
	req, err := s.request(ctx, logs, creds, region, url, host)
	if err != nil {
		return core.Permanent(err)
	}
	_, err = s.client.Do(ctx, req, nil)
	var he *httpx.Error
	if errors.As(err, &he) && creds.Token != "" {
		// STS credentials are not among the client's fixed secrets: scrub an echo of them.
		he.Detail = redact.Scrub(he.Detail, creds.ID, creds.Secret, creds.Token)
	}
	return classify(err)
}

// request builds the signed PutLogs request for logs, as the SDK's LogStore.PutLogs does:
// the protobuf LogGroup compressed with lz4 (sent as is when lz4 cannot shrink it), with
// x-log-bodyrawsize, and signed with signature v4.
func (s *Sink) request(ctx context.Context, logs []*slssdk.Log, creds credentials, region, target, host string) (*http.Request, error) {
	lg := &slssdk.LogGroup{Logs: logs}
	if s.cfg.Topic != "" {
		lg.Topic = proto.String(s.cfg.Topic)
	}
	raw, err := proto.Marshal(lg)
	if err != nil {
		return nil, fmt.Errorf("encoding %d logs: %v", len(logs), err)
	}
	headers := map[string]string{
		slssdk.HTTPHeaderHost:        host,
		slssdk.HTTPHeaderAPIVersion:  apiVersion,
		slssdk.HTTPHeaderContentType: "application/x-protobuf",
		slssdk.HTTPHeaderBodyRawSize: strconv.Itoa(len(raw)),
		slssdk.HTTPHeaderLogDate:     s.now().UTC().Format("20060102T150405Z"),
	}
	body := raw
	out := make([]byte, lz4.CompressBlockBound(len(raw)))
	var table [1 << 16]int
	if n, err := lz4.CompressBlock(raw, out, table[:]); err == nil && n > 0 {
		body = out[:n]
		headers["x-log-compresstype"] = "lz4"
	}
	if creds.Token != "" {
		headers[slssdk.HTTPHeaderAcsSecurityToken] = creds.Token
	}
	signer := slssdk.NewSignerV4(creds.ID, creds.Secret, region)
	if err := signer.Sign(http.MethodPost, s.path, headers, body); err != nil {
		return nil, fmt.Errorf("signing the request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("cannot build the request; check endpoint=")
	}
	for k, v := range headers {
		switch k {
		case slssdk.HTTPHeaderHost:
			req.Host = v
		case slssdk.HTTPHeaderContentLength:
			// net/http sends the body's length.
		default:
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// slsError is the JSON body of an SLS error reply.
type slsError struct {
	Code    string `json:"errorCode"`
	Message string `json:"errorMessage"`
}

// quotaCodes are SLS's 403s for "write quota exceeded": a throttle, retried.
var quotaCodes = []string{"WriteQuotaExceed", "ShardWriteQuotaExceed", "ExceedQuota", "ProjectQuotaExceed"}

// credentialCodes refuse herald's AccessKey or its RAM permissions: the sink is down, its events
// kept, until someone fixes them.
var credentialCodes = []string{"Unauthorized", "InvalidAccessKeyId", "SignatureNotMatch"}

// hints say what to fix for SLS's permanent error codes.
var hints = map[string]string{
	"Unauthorized":         "check accessKeyId and accessKeySecret, and that the RAM user may log:PostLogStoreLogs",
	"InvalidAccessKeyId":   "check accessKeyId",
	"SignatureNotMatch":    "check accessKeySecret and regionId",
	"ProjectNotExist":      "check project= and regionId= (a project lives in one region)",
	"LogStoreNotExist":     "check logStore=",
	"RequestTimeTooSkewed": "the machine's clock is off by more than 15 minutes; fix its time",
	"PostBodyTooLarge":     "an event is larger than SLS accepts",
}

// classify reads SLS's errorCode from a failed reply: quota 403s are retried, a refused
// AccessKey or RAM permission (other 401 and 403) makes the sink down until it is fixed, and
// permanent codes get a hint. Everything else keeps httpx's status classification (404 and other
// 4xx permanent; 429 and 5xx retried).
func classify(err error) error {
	var he *httpx.Error
	if err == nil || !errors.As(err, &he) || he.StatusCode == 0 {
		return err
	}
	var se slsError
	if json.Unmarshal([]byte(he.Detail), &se) != nil || se.Code == "" {
		return err
	}
	e := *he
	e.Code, e.Detail = se.Code, se.Message
	if hint, ok := hints[se.Code]; ok {
		e.Detail += "; " + hint
	}
	for _, q := range quotaCodes {
		if se.Code == q {
			// A throttle, though SLS answers it with 403.
			e.Retryable, e.Credential = true, false
			return &e
		}
	}
	if slices.Contains(credentialCodes, se.Code) || he.Credential {
		e.Credential, e.Fix = true, hints[se.Code]
		if e.Fix == "" {
			e.Fix = httpx.CredentialStatusFix(he.StatusCode)
		}
		return core.Credential(&e, e.Fix)
	}
	if !e.Retryable {
		return core.Permanent(&e)
	}
	return &e
}

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}

// Preview shows the log the sink would write for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	l, err := s.cfg.Log(e, s.now())
	if err != nil {
		return "", err
	}
	var b strings.Builder
	s.mu.Lock()
	where := "PutLogs to the region's endpoint (regionId from the ECS metadata service at the first write)"
	if s.region != "" {
		where = fmt.Sprintf("PutLogs %s://%s%s", s.cfg.Endpoint.Scheme, s.host, s.path)
	}
	s.mu.Unlock()
	fmt.Fprintf(&b, "%s, topic %q, one log at %s:\n", where, s.cfg.Topic, time.Unix(int64(l.GetTime()), 0).UTC().Format(time.RFC3339))
	for _, c := range l.Contents {
		fmt.Fprintf(&b, "%s: %s\n", c.GetKey(), c.GetValue())
	}
	return b.String(), nil
}
