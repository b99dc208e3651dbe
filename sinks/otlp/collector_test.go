package otlp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/otlp"
)

// The replies in testdata were written by the OpenTelemetry Collector's otlpreceiver (v0.165.0)
// itself, on 127.0.0.1: a request that is not protobuf (400), a consumer that refused a record
// for good (400), a memory limiter's refusal with a 7 s google.rpc.RetryInfo (503, Retry-After
// 7), and a success (200, an ExportLogsServiceResponse with an empty partial_success). herald
// reads each as the Collector meant it.
var collectorReplies = []struct {
	file, retryAfter string
	status           int
	want             string
	message          string
	wait             time.Duration
}{
	{"collector-400-bad-proto.bin", "", 400, httpxtest.Permanent, "proto: illegal wireType 7", 0},
	{"collector-400-permanent.bin", "", 400, httpxtest.Permanent, "log record refused by the pipeline", 0},
	{"collector-503-retryinfo.bin", "7", 503, httpxtest.Retry, "memory limiter: data refused", 7 * time.Second},
	{"collector-200.bin", "", 200, httpxtest.Delivered, "", 0},
}

func TestCollectorReplies(t *testing.T) {
	for _, c := range collectorReplies {
		t.Run(c.file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			if c.status != 200 {
				st, ok := otlp.DecodeStatus(body)
				if !ok || !strings.Contains(st.Message, c.message) {
					t.Fatalf("DecodeStatus = %+v, %v", st, ok)
				}
				if st.RetryDelay != c.wait {
					t.Errorf("RetryInfo delay %s, want %s", st.RetryDelay, c.wait)
				}
			}
			for _, header := range []bool{true, false} {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if header && c.retryAfter != "" {
						w.Header().Set("Retry-After", c.retryAfter)
					}
					w.Header().Set("Content-Type", "application/x-protobuf")
					w.WriteHeader(c.status)
					_, _ = w.Write(body)
				}))
				s := build(t, "otlp:"+srv.URL+"?level=Normal", env())
				err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
				srv.Close()
				// Without the header, the RetryInfo in the body says the same.
				httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: c.status, Want: c.want, Wait: c.wait}, err)
				if err != nil && !strings.Contains(err.Error(), c.message) {
					t.Errorf("error %q does not quote %q", err, c.message)
				}
			}
		})
	}
}
