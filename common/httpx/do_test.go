package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
)

func newClient(t *testing.T, o httpx.Options) *httpx.Client {
	t.Helper()
	c, err := httpx.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func post(t *testing.T, c *httpx.Client, target string, body string, v httpx.Validator) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(context.Background(), req, v)
}

func TestStatusTable(t *testing.T) {
	c := newClient(t, httpx.Options{})
	httpxtest.CheckStatuses(t, func(t *testing.T, u string) error {
		_, err := post(t, c, u, `{"a":1}`, nil)
		return err
	})
}

func TestRequestCarriesBodyAndUserAgent(t *testing.T) {
	var gotUA, gotBody, gotCustom string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotUA, gotBody, gotCustom = r.UserAgent(), string(b), r.Header.Get("X-Custom")
		_, _ = w.Write([]byte("thanks"))
	}))
	defer srv.Close()
	c := newClient(t, httpx.Options{})

	reply, err := post(t, c, srv.URL, "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	if gotUA != "herald" || gotBody != "hello" || string(reply) != "thanks" {
		t.Fatalf("UA %q body %q reply %q", gotUA, gotBody, reply)
	}

	// A sink's own User-Agent wins, and Do leaves the caller's request untouched.
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	req.Header.Set("User-Agent", "custom/1")
	req.Header.Set("X-Custom", "v")
	if _, err := c.Do(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	if gotUA != "custom/1" || gotCustom != "v" {
		t.Fatalf("UA %q custom %q", gotUA, gotCustom)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newClient(t, httpx.Options{Now: func() time.Time { return now }})
	_, err := post(t, c, srv.URL, "x", nil)
	httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 503, Want: httpxtest.Retry, Wait: 90 * time.Second}, err)
}

func TestRetryAfterValues(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":         0,
		"0":        0,
		"-5":       0,
		"soon":     0,
		"3":        3 * time.Second,
		"99999999": httpx.MaxRetryAfter,
		now.Add(-time.Minute).Format(http.TimeFormat):   0, // in the past
		now.Add(24 * time.Hour).Format(http.TimeFormat): httpx.MaxRetryAfter,
	}
	for header, want := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		c := newClient(t, httpx.Options{Now: func() time.Time { return now }})
		_, err := post(t, c, srv.URL, "x", nil)
		srv.Close()
		var he *httpx.Error
		if !errors.As(err, &he) {
			t.Fatalf("Retry-After %q: got %v", header, err)
		}
		if he.RetryAfter() != want {
			t.Errorf("Retry-After %q: RetryAfter() = %s, want %s", header, he.RetryAfter(), want)
		}
	}
}

// A reply herald does not read in full (a long error page) is drained, so the next request
// reuses the connection instead of opening a new one.
func TestRepliesAreDrainedSoConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(bytes.Repeat([]byte("e"), 20<<10))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(t, httpx.Options{})
	for range 3 {
		_, err := post(t, c, srv.URL, "x", nil)
		if !core.IsPermanent(err) {
			t.Fatalf("got %v, want permanent", err)
		}
		var he *httpx.Error
		errors.As(err, &he)
		if len(he.Detail) > httpx.ErrorBodyLimit+8 {
			t.Fatalf("error quotes %d bytes of the reply, limit %d", len(he.Detail), httpx.ErrorBodyLimit)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("3 requests opened %d connections, want 1", n)
	}
}

// hangingServer never answers; it lets go of its handlers when the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return srv
}

func TestTimeoutIsRetryable(t *testing.T) {
	srv := hangingServer(t)
	c := newClient(t, httpx.Options{Timeout: 50 * time.Millisecond})
	_, err := post(t, c, srv.URL, "x", nil)
	if err == nil || core.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("error %q does not say it timed out", err)
	}
}

func TestCallerCancel(t *testing.T) {
	srv := hangingServer(t)
	c := newClient(t, httpx.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := c.Do(ctx, req, nil)
	if err == nil || core.IsPermanent(err) || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("got %v, want a retryable cancellation", err)
	}
}

func TestNetworkErrorIsRetryableAndNamesNoPath(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/robot/send"
	srv.Close()
	c := newClient(t, httpx.Options{})
	_, err := post(t, c, u, "x", nil)
	if err == nil || core.IsPermanent(err) {
		t.Fatalf("got %v, want retryable", err)
	}
	if strings.Contains(err.Error(), "/robot/send") {
		t.Fatalf("error %q shows the path", err)
	}
	if !strings.Contains(err.Error(), "POST http://127.0.0.1:") {
		t.Fatalf("error %q does not name the endpoint", err)
	}
}

func TestBadTimeoutParam(t *testing.T) {
	p := paramsOf(t, "timeout=0")
	httpx.OptionsFromParams(p)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), `"timeout"`) {
		t.Fatalf("got %v, want an error naming timeout", err)
	}
	p = paramsOf(t, "timeout=5s&insecure_skip_verify=true&ca_file=/x.pem")
	o := httpx.OptionsFromParams(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if o.Timeout != 5*time.Second || !o.InsecureSkipVerify || o.CAFile != "/x.pem" {
		t.Fatalf("got %+v", o)
	}
}

func TestEndpointOmitsUserinfo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("alice", "pw")
	c := newClient(t, httpx.Options{})
	_, err := post(t, c, u.String(), "x", nil)
	if strings.Contains(err.Error(), "alice") {
		t.Fatalf("error %q shows the user", err)
	}
}
