package httpx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
)

// A receiver that redirects to another host: by default herald does not follow, so the other
// host sees nothing (no custom header, no token in the query or a Referer), and the error is
// permanent and names only the other host's scheme and address.
func TestRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host to net/http
	own := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+"/landing?leak="+r.URL.Query().Get("key"), http.StatusTemporaryRedirect)
	}))
	defer own.Close()

	for _, policy := range []string{"", httpx.RedirectsNone, httpx.RedirectsSameHost} {
		c := newClient(t, httpx.Options{Redirects: policy})
		req, _ := http.NewRequest(http.MethodPost, own.URL+"/send?key=Robot-Key-5521", strings.NewReader("{}"))
		req.Header.Set("X-Api-Key", "Api-Key-9931")
		_, err := c.Do(context.Background(), req, nil)
		if err == nil || !core.IsPermanent(err) {
			t.Fatalf("policy %q: got %v, want a permanent error", policy, err)
		}
		if !strings.Contains(err.Error(), "redirects to http://localhost:") {
			t.Errorf("policy %q: %q does not name where the redirect points", policy, err)
		}
		for _, secret := range []string{"Robot-Key-5521", "Api-Key-9931", "landing"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("policy %q: the error shows %q: %v", policy, secret, err)
			}
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host received %d requests", n)
	}
}

// same-host follows a redirect on the same host, without a Referer; none does not.
func TestSameHostRedirect(t *testing.T) {
	var referer atomic.Value
	referer.Store("unset")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
			return
		}
		referer.Store(r.Header.Get("Referer"))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	c := newClient(t, httpx.Options{Redirects: httpx.RedirectsSameHost})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/old?key=Robot-Key-5521", strings.NewReader("{}"))
	if _, err := c.Do(context.Background(), req, nil); err != nil {
		t.Fatalf("same-host: %v", err)
	}
	if got := referer.Load().(string); got != "" {
		t.Errorf("Referer %q sent after a redirect", got)
	}

	c = newClient(t, httpx.Options{})
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/old", strings.NewReader("{}"))
	_, err := c.Do(context.Background(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "redirects=same-host") {
		t.Errorf("default policy: got %v, want an error suggesting redirects=same-host", err)
	}
}
