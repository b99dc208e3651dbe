// Package httpxtest holds what the tests of every HTTP sink share: the table of HTTP statuses
// with what herald must make of each (delivered, retried, permanent), and a check that no secret
// leaks into an error.
package httpxtest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldproject/herald/core"
)

// StatusCase is one reply from a receiver and the outcome herald must report.
type StatusCase struct {
	Status int
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Want is "delivered", "retry", "credential" or "permanent".
	Want string
	// Wait is what the error's RetryAfter() must say (retry only).
	Wait time.Duration
}

// Outcomes.
const (
	Delivered = "delivered"
	Retry     = "retry"
	Permanent = "permanent"
	// Credential is a refused credential: retried (the sink is down) until it is fixed.
	Credential = "credential"
)

// StatusCases is the shared table: 2xx delivered; 408, 425, 429 and 5xx retried, honouring
// Retry-After; 401 and 403 a refused credential (retried until fixed, never dropped); any other
// 4xx permanent.
var StatusCases = []StatusCase{
	{Status: 200, Want: Delivered},
	{Status: 201, Want: Delivered},
	{Status: 202, Want: Delivered},
	{Status: 204, Want: Delivered},
	{Status: 400, Want: Permanent},
	{Status: 401, Want: Credential},
	{Status: 403, Want: Credential},
	{Status: 404, Want: Permanent},
	{Status: 405, Want: Permanent},
	{Status: 410, Want: Permanent},
	{Status: 413, Want: Permanent},
	{Status: 422, Want: Permanent},
	{Status: 408, Want: Retry},
	{Status: 425, Want: Retry},
	{Status: 429, Want: Retry},
	{Status: 429, RetryAfter: "7", Want: Retry, Wait: 7 * time.Second},
	{Status: 500, Want: Retry},
	{Status: 502, Want: Retry},
	{Status: 503, RetryAfter: "120", Want: Retry, Wait: 2 * time.Minute},
	{Status: 504, Want: Retry},
}

// CheckStatuses runs deliver once per StatusCases entry, each against its own httptest server
// that answers with the case's status, and checks what deliver returns and that it made exactly
// one request. deliver builds the sink for serverURL and exports one event through it. A sink
// that makes several requests per delivery (a token, then a message) checks its own server's
// replies with CheckOutcome.
func CheckStatuses(t *testing.T, deliver func(t *testing.T, serverURL string) error) {
	t.Helper()
	for _, c := range StatusCases {
		name := fmt.Sprintf("%d", c.Status)
		if c.RetryAfter != "" {
			name += "_retry_after_" + c.RetryAfter
		}
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				if c.RetryAfter != "" {
					w.Header().Set("Retry-After", c.RetryAfter)
				}
				w.WriteHeader(c.Status)
				if c.Status != http.StatusNoContent {
					fmt.Fprintf(w, `{"error":"status %d from the test receiver"}`, c.Status)
				}
			}))
			defer srv.Close()
			err := deliver(t, srv.URL)
			if n := hits.Load(); n != 1 {
				t.Errorf("the receiver got %d requests, want 1 (sinks make one attempt; the pipeline retries)", n)
			}
			CheckOutcome(t, c, err)
		})
	}
}

// CheckOutcome checks err against what c expects.
func CheckOutcome(t testing.TB, c StatusCase, err error) {
	t.Helper()
	switch c.Want {
	case Delivered:
		if err != nil {
			t.Fatalf("HTTP %d: got error %v, want delivered", c.Status, err)
		}
	case Credential:
		if err == nil || !core.IsCredential(err) {
			t.Fatalf("HTTP %d: got %v, want a refused credential (core.Credential)", c.Status, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(c.Status)) {
			t.Errorf("HTTP %d: the error %q does not name the status", c.Status, err)
		}
	case Permanent:
		if err == nil || !core.IsPermanent(err) || core.IsCredential(err) {
			t.Fatalf("HTTP %d: got %v, want a permanent error", c.Status, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(c.Status)) {
			t.Errorf("HTTP %d: the error %q does not name the status", c.Status, err)
		}
	case Retry:
		if err == nil || core.IsPermanent(err) || core.IsCredential(err) {
			t.Fatalf("HTTP %d: got %v, want a retryable error", c.Status, err)
		}
		var ra interface{ RetryAfter() time.Duration }
		if !errors.As(err, &ra) {
			t.Fatalf("HTTP %d: error %v exposes no RetryAfter()", c.Status, err)
		}
		if got := ra.RetryAfter(); got != c.Wait {
			t.Errorf("HTTP %d with Retry-After %q: RetryAfter() = %s, want %s", c.Status, c.RetryAfter, got, c.Wait)
		}
	default:
		t.Fatalf("bad case %+v", c)
	}
}

// AssertNoSecret fails the test when any secret appears in err: in its text, in the text of any
// error it wraps, or in its Go-syntax and verbose forms.
func AssertNoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("AssertNoSecret: want an error to inspect, got nil")
	}
	var texts []string
	walk(err, func(e error) {
		texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
	})
	for _, s := range secrets {
		if s == "" {
			t.Fatal("AssertNoSecret: empty secret")
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("secret %q leaks into the error: %s", s, text)
				break
			}
		}
	}
}

// walk calls f on err and every error it wraps.
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, f)
		}
	}
}
