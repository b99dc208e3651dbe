package otlp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/otlp"
)

// FuzzSinkURI feeds arbitrary query strings to the sink's parameters: it must answer with a
// sink or an error naming the sink, never panic, and never quote a header value in an error.
func FuzzSinkURI(f *testing.F) {
	for _, seed := range []string{
		"level=Normal&resource=deployment.environment.name=prod&header=Authorization=Bearer%20x",
		"compression=none&resource=service.name=a&resource=service.name=b",
		"header==&header=%00=1&resource==&levl=x",
		"body_template=%7B%7B%20.Reason%20%7D%7D&timeout=-1s",
		"header=Content-Type=text/plain&compression=br",
	} {
		f.Add(seed)
	}
	e := sinks.Env{Ctx: context.Background(), Location: time.UTC}
	f.Fuzz(func(t *testing.T, query string) {
		b, err := sinks.Build(1, "otlp:http://127.0.0.1:9/x?"+query+"&header=X-Fuzz=SECRETVALUE", e)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--sink #1 (otlp)") && !strings.HasPrefix(err.Error(), "--sink=otlp:") {
				t.Fatalf("error does not name the sink: %v", err)
			}
			if strings.Contains(err.Error(), "SECRETVALUE") && !strings.Contains(query, "SECRETVALUE") {
				t.Fatalf("error quotes a header value: %v", err)
			}
			return
		}
		_ = b.Sink.Close()
	})
}

// FuzzReply feeds arbitrary replies (status, Content-Type, body) to the sink: it never panics,
// every reply has exactly one outcome, a 2xx never fails the batch unless a partial success
// rejects part of it, and the token the sink sent never shows in the error even when the
// receiver echoes it.
func FuzzReply(f *testing.F) {
	for _, name := range []string{"collector-400-bad-proto.bin", "collector-400-permanent.bin", "collector-503-retryinfo.bin", "collector-200.bin"} {
		body, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(503), true, body)
	}
	f.Add(uint16(200), true, []byte{0x0a, 0x04, 0x08, 0x02, 0x12, 0x00})
	f.Add(uint16(401), false, []byte("token tok-SECRET-123456 refused"))
	const token = "tok-SECRET-123456"
	f.Fuzz(func(t *testing.T, status uint16, protobuf bool, body []byte) {
		code := 200 + int(status)%400
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if protobuf {
				w.Header().Set("Content-Type", otlp.ContentType)
			}
			w.WriteHeader(code)
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		b, err := sinks.Build(1, "otlp:"+srv.URL+"?level=Normal&header=Authorization=Bearer%20"+token, sinks.Env{Ctx: context.Background()})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Sink.Close()
		batch := []*core.Event{event("BackOff", "a", "Pod", "p1", 1), event("BackOff", "a", "Pod", "p2", 1)}
		err = b.Sink.Export(context.Background(), batch)
		retry, _, rejected, _ := core.Fates(err, batch)
		if len(retry)+len(rejected) > len(batch) {
			t.Fatalf("%d retried and %d rejected of %d", len(retry), len(rejected), len(batch))
		}
		if code >= 200 && code < 300 && len(retry) > 0 {
			t.Fatalf("HTTP %d: %d events retried", code, len(retry))
		}
		if code >= 300 && err == nil {
			t.Fatalf("HTTP %d: delivered", code)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Fatalf("the token shows: %v", err)
		}
		otlp.DecodeStatus(body) // never panics on any input
	})
}
