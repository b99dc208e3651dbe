// Package otlptest is an OTLP/HTTP logs receiver for tests, on 127.0.0.1, that reads requests as
// the OpenTelemetry Collector's otlpreceiver does and records what it took.
package otlptest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/slim/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Receiver is an OTLP/HTTP logs receiver that reads a request as the OpenTelemetry Collector's
// otlpreceiver does (receiver/otlpreceiver/otlphttp.go, with confighttp's decompression and
// body limit): POST only (405 otherwise), Content-Type application/x-protobuf or
// application/json (415 otherwise), Content-Encoding none or gzip (400 for another, as
// confighttp answers one it does not know), a body of at most 20 MiB after decompression (the
// specification's and confighttp's default; 413 past it), an ExportLogsServiceRequest that
// decodes (400 otherwise). Failures are answered with a protobuf google.rpc.Status, successes
// with an ExportLogsServiceResponse, both with the request's Content-Type. A bearer token, when
// set, is checked as the Collector's bearertokenauth extension does (401 without it).
type Receiver struct {
	*httptest.Server
	path string
	// Token, when set, is the bearer token every request must carry.
	Token string

	mu       sync.Mutex
	hits     int
	requests []Request
	// replies are answered, in order, instead of success; then success again.
	replies []Reply
}

// Request is one request the receiver took.
type Request struct {
	Header  http.Header
	Wire    int // bytes on the wire
	Decoded int // bytes of protobuf after decompression
	Req     *collogspb.ExportLogsServiceRequest
}

// Reply is a scripted answer: an HTTP status with a Status message (and a RetryInfo), a 200
// with a partial success, or Raw bytes of RawType.
type Reply struct {
	Status     int
	Message    string
	RetryAfter string
	RetryDelay time.Duration
	// Rejected is a partial success's rejected_log_records.
	Rejected int64
	Raw      []byte
	RawType  string
}

const maxBody = 20 << 20

// New starts a receiver on 127.0.0.1 serving /v1/logs, closed at test cleanup.
func New(t testing.TB) *Receiver {
	t.Helper()
	rc := &Receiver{path: "/v1/logs"}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

// Script queues answers for the next requests; then the receiver answers success again.
func (rc *Receiver) Script(rs ...Reply) {
	rc.mu.Lock()
	rc.replies = append(rc.replies, rs...)
	rc.mu.Unlock()
}

// Hits counts every request that reached the receiver, answered with success or not.
func (rc *Receiver) Hits() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits
}

// Requests returns the requests the receiver took (answered 200), in order.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.requests...)
}

// SetPath changes the path the receiver serves.
func (rc *Receiver) SetPath(p string) {
	rc.mu.Lock()
	rc.path = p
	rc.mu.Unlock()
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.hits++
	path := rc.path
	rc.mu.Unlock()
	if r.URL.Path != path {
		http.NotFound(w, r) // the Collector's mux
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprintf(w, "%v method not allowed, supported: [POST]", http.StatusMethodNotAllowed)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-protobuf" && ct != "application/json" {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		fmt.Fprintf(w, "%v unsupported media type, supported: [application/json, application/x-protobuf]", http.StatusUnsupportedMediaType)
		return
	}
	if rc.Token != "" && r.Header.Get("Authorization") != "Bearer "+rc.Token {
		writeStatus(w, ct, http.StatusUnauthorized, 16, "missing or invalid bearer token: got "+strconv.Quote(r.Header.Get("Authorization")), "", 0)
		return
	}
	wire, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	var body io.Reader = bytes.NewReader(wire)
	switch r.Header.Get("Content-Encoding") {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeStatus(w, ct, http.StatusBadRequest, 3, "failed to decompress: "+err.Error(), "", 0)
			return
		}
		body = zr
	default:
		writeStatus(w, ct, http.StatusBadRequest, 3, "unsupported Content-Encoding: "+r.Header.Get("Content-Encoding"), "", 0)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		writeStatus(w, ct, http.StatusBadRequest, 3, "reading the body: "+err.Error(), "", 0)
		return
	}
	if len(raw) > maxBody || len(wire) > maxBody {
		writeStatus(w, ct, http.StatusRequestEntityTooLarge, 3, "request body too large", "", 0)
		return
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if ct == "application/json" {
		err = protojson.Unmarshal(raw, req)
	} else {
		err = proto.Unmarshal(raw, req)
	}
	if err != nil {
		writeStatus(w, ct, http.StatusBadRequest, 3, "proto: "+err.Error(), "", 0)
		return
	}
	rc.mu.Lock()
	var next *Reply
	if len(rc.replies) > 0 {
		next = &rc.replies[0]
		rc.replies = rc.replies[1:]
	}
	if next == nil || next.Status == 0 || next.Status == http.StatusOK {
		rc.requests = append(rc.requests, Request{Header: r.Header.Clone(), Wire: len(wire), Decoded: len(raw), Req: req})
	}
	rc.mu.Unlock()
	switch {
	case next == nil:
		writeResponse(w, ct, &collogspb.ExportLogsServiceResponse{})
	case next.Raw != nil:
		w.Header().Set("Content-Type", next.RawType)
		w.WriteHeader(next.Status)
		_, _ = w.Write(next.Raw)
	case next.Status == 0 || next.Status == http.StatusOK:
		resp := &collogspb.ExportLogsServiceResponse{}
		if next.Rejected != 0 || next.Message != "" {
			resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: next.Rejected, ErrorMessage: next.Message}
		}
		writeResponse(w, ct, resp)
	default:
		writeStatus(w, ct, next.Status, 14, next.Message, next.RetryAfter, next.RetryDelay)
	}
}

func writeResponse(w http.ResponseWriter, ct string, resp *collogspb.ExportLogsServiceResponse) {
	var b []byte
	if ct == "application/json" {
		b, _ = protojson.Marshal(resp)
	} else {
		b, _ = proto.Marshal(resp)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeStatus answers as the Collector's writeStatusResponse: a google.rpc.Status, and for 429
// and 503 with a RetryInfo, its delay as Retry-After in seconds (unless retryAfter is given).
func writeStatus(w http.ResponseWriter, ct string, status int, code int32, message, retryAfter string, retryDelay time.Duration) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(status)
	_, _ = w.Write(EncodeStatus(code, message, retryDelay))
}

// EncodeStatus writes a google.rpc.Status by its schema (code 1, message 2, details 3 as
// google.protobuf.Any), with a google.rpc.RetryInfo detail when delay is set.
func EncodeStatus(code int32, message string, delay time.Duration) []byte {
	var b []byte
	if code != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(code))
	}
	if message != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, message)
	}
	if delay > 0 {
		var dur []byte
		dur = protowire.AppendTag(dur, 1, protowire.VarintType)
		dur = protowire.AppendVarint(dur, uint64(delay/time.Second))
		if ns := delay % time.Second; ns != 0 {
			dur = protowire.AppendTag(dur, 2, protowire.VarintType)
			dur = protowire.AppendVarint(dur, uint64(ns))
		}
		var info []byte
		info = protowire.AppendTag(info, 1, protowire.BytesType)
		info = protowire.AppendBytes(info, dur)
		var anyMsg []byte
		anyMsg = protowire.AppendTag(anyMsg, 1, protowire.BytesType)
		anyMsg = protowire.AppendString(anyMsg, "type.googleapis.com/google.rpc.RetryInfo")
		anyMsg = protowire.AppendTag(anyMsg, 2, protowire.BytesType)
		anyMsg = protowire.AppendBytes(anyMsg, info)
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, anyMsg)
	}
	return b
}
