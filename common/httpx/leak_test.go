package httpx_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/httpx/httpxtest"
)

// The secrets a robot or webhook request may carry, each where real services put it.
const (
	querySecret  = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"     // WeChat ?key=
	tokenSecret  = "a5c19f3e02feba7bd5dfc22bfb04afa212359acf" // DingTalk ?access_token=
	oddSecret    = "Zq9vWx7Ty"                                // ?code= (Azure Functions): no secret-looking name
	pathSecret   = "XXXXXXXXXXXXXXXXXXXXXXXX7f3a"             // Slack /services/T/B/XXXX
	passSecret   = "hunter2hunter2"                           // https://user:pass@host
	bearerSecret = "eyJhbGciOiJIUzI1NiJ9.payload.sig"         // header=Authorization=Bearer ...
	extraSecret  = "SECdeadbeefcafe"                          // a signing secret the sink passes in
)

var allSecrets = []string{querySecret, tokenSecret, oddSecret, pathSecret, passSecret, bearerSecret, extraSecret,
	base64.StdEncoding.EncodeToString([]byte("herald:" + passSecret)), // the Basic authorization net/http makes of the userinfo
}

func secretRequest(t *testing.T, base string) *http.Request {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("herald", passSecret)
	u.Path = "/services/T00000000/B00000000/" + pathSecret
	u.RawQuery = "key=" + querySecret + "&access_token=" + tokenSecret + "&code=" + oddSecret
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Token", "Bearer "+bearerSecret)
	return req
}

// echo replies with everything it received: the worst case of a receiver quoting the request
// back in its error page.
func echo(status int, asJSONCode bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		dump, _ := httputil.DumpRequest(r, true)
		full := fmt.Sprintf("%s %s %s", r.URL.String(), r.URL.RawQuery, dump)
		if asJSONCode {
			fmt.Fprintf(w, `{"errcode":40001,"errmsg":%q}`, full+" "+extraSecret)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, full+" "+extraSecret)
	}
}

func TestNoSecretInAnyError(t *testing.T) {
	opts := httpx.Options{Secrets: []string{extraSecret}, Timeout: 50 * time.Millisecond}
	codes := httpx.JSONCodes(httpx.Codes{Fields: []string{"errcode"}, MessageFields: []string{"errmsg"}})

	cases := map[string]func(t *testing.T) error{
		"400 echoing the request": func(t *testing.T) error {
			srv := httptest.NewServer(echo(400, false))
			defer srv.Close()
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), nil)
			return err
		},
		"503 echoing the request": func(t *testing.T) error {
			srv := httptest.NewServer(echo(503, false))
			defer srv.Close()
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), nil)
			return err
		},
		"200 errcode echoing the request": func(t *testing.T) error {
			srv := httptest.NewServer(echo(200, true))
			defer srv.Close()
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), codes)
			return err
		},
		"connection refused": func(t *testing.T) error {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close()
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), nil)
			return err
		},
		"timeout": func(t *testing.T) error {
			srv := hangingServer(t)
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), nil)
			return err
		},
		"redirect loop": func(t *testing.T) error {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, srv.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			}))
			defer srv.Close()
			_, err := newClient(t, opts).Do(context.Background(), secretRequest(t, srv.URL), nil)
			return err
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(t)
			httpxtest.AssertNoSecret(t, err, allSecrets...)
		})
	}
}

// The check itself must catch a leak, or the test above proves nothing.
func TestAssertNoSecretCatchesALeak(t *testing.T) {
	ft := &fakeT{TB: t}
	httpxtest.AssertNoSecret(ft, fmt.Errorf("wrapped: %w", fmt.Errorf("POST ?key=%s", querySecret)), querySecret)
	if !ft.failed {
		t.Fatal("AssertNoSecret missed a secret in a wrapped error")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }
func (f *fakeT) Helper()               {}
