package httpx_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
)

// Code tables as the chat sinks declare them; the values are the services' documented codes.
var (
	wechatCodes = httpx.Codes{
		Fields:        []string{"errcode"},
		MessageFields: []string{"errmsg"},
		RateLimited:   []string{"45009"},
		RateLimitWait: time.Minute,
		Retryable:     []string{"-1"},
		Credential:    map[string]string{"93000": "copy the robot's key"},
	}
	feishuCodes = httpx.Codes{
		Fields:        []string{"code", "StatusCode"},
		MessageFields: []string{"msg", "StatusMessage"},
		RateLimited:   []string{"9499", "11232"},
		CredentialCheck: func(code, msg string) (string, bool) {
			return "check secret=", code == "19021" && strings.Contains(msg, "sign")
		},
	}
	slackCodes = httpx.Codes{
		Fields:        []string{"error"},
		MessageFields: []string{"error"},
		RateLimited:   []string{"ratelimited"},
		Retryable:     []string{"internal_error", "fatal_error", "service_unavailable", "request_timeout"},
	}
)

func TestJSONCodes(t *testing.T) {
	cases := []struct {
		name  string
		codes httpx.Codes
		reply string
		want  string // delivered, retry, credential, permanent
		wait  time.Duration
		in    string // text the error must contain
	}{
		{"wechat ok", wechatCodes, `{"errcode":0,"errmsg":"ok"}`, "delivered", 0, ""},
		{"wechat rate limit", wechatCodes, `{"errcode":45009,"errmsg":"api freq out of limit"}`, "retry", time.Minute, "45009: api freq out of limit (rate limited)"},
		{"wechat busy", wechatCodes, `{"errcode":-1,"errmsg":"system busy"}`, "retry", 0, "error code -1: system busy"},
		{"wechat bad key", wechatCodes, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "credential", 0, "HTTP 200 with error code 93000: invalid webhook url"},
		{"wechat string code", wechatCodes, `{"errcode":"93000","errmsg":"x"}`, "credential", 0, "93000"},
		{"wechat bad parameter", wechatCodes, `{"errcode":40058,"errmsg":"invalid parameter"}`, "permanent", 0, "40058"},
		{"null code", wechatCodes, `{"errcode":null}`, "delivered", 0, ""},
		{"not json", wechatCodes, `<html>proxy login</html>`, "retry", 0, "not the JSON object"},
		{"empty", wechatCodes, ``, "retry", 0, "not the JSON object"},
		{"feishu ok", feishuCodes, `{"code":0,"msg":"success","data":{}}`, "delivered", 0, ""},
		{"feishu old ok", feishuCodes, `{"StatusCode":0,"StatusMessage":"success"}`, "delivered", 0, ""},
		{"feishu limit", feishuCodes, `{"code":9499,"msg":"too many request"}`, "retry", 0, "9499"},
		{"feishu sign", feishuCodes, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, "credential", 0, "19021"},
		{"feishu other 19021", feishuCodes, `{"code":19021,"msg":"unexpected"}`, "permanent", 0, "19021"},
		{"slack ok", slackCodes, `{"ok":true,"ts":"1.2"}`, "delivered", 0, ""},
		{"slack channel", slackCodes, `{"ok":false,"error":"channel_not_found"}`, "permanent", 0, "channel_not_found"},
		{"slack internal", slackCodes, `{"ok":false,"error":"internal_error"}`, "retry", 0, "internal_error"},
	}
	c := newClient(t, httpx.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tc.reply)
			}))
			defer srv.Close()
			body, err := post(t, c, srv.URL, "{}", httpx.JSONCodes(tc.codes))
			switch tc.want {
			case "delivered":
				if err != nil {
					t.Fatalf("got %v, want delivered", err)
				}
				if string(body) != tc.reply {
					t.Fatalf("Do returned %q, want the reply %q", body, tc.reply)
				}
				return
			case "retry":
				if err == nil || core.IsPermanent(err) || core.IsCredential(err) {
					t.Fatalf("got %v, want retryable", err)
				}
			case "credential":
				if !core.IsCredential(err) || core.IsPermanent(err) || core.CredentialFix(err) == "" {
					t.Fatalf("got %v (fix %q), want a refused credential with its fix", err, core.CredentialFix(err))
				}
			case "permanent":
				if !core.IsPermanent(err) || core.IsCredential(err) {
					t.Fatalf("got %v, want permanent", err)
				}
			}
			if !strings.Contains(err.Error(), tc.in) {
				t.Errorf("error %q does not contain %q", err, tc.in)
			}
			var he *httpx.Error
			if !errors.As(err, &he) || he.RetryAfter() != tc.wait || he.StatusCode != 200 {
				t.Errorf("got %#v, want an *httpx.Error with status 200 and wait %s", he, tc.wait)
			}
		})
	}
}

// A sink's own validator: a plain error is retried, core.Permanent is not, and Do scrubs both.
func TestCustomValidator(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newClient(t, httpx.Options{})
	u := srv.URL + "/?access_token=abcdef123456"

	_, err := post(t, c, u, "x", func(*http.Response, []byte) error {
		return errors.New("queue full, token=abcdef123456")
	})
	if err == nil || core.IsPermanent(err) || strings.Contains(err.Error(), "abcdef123456") {
		t.Fatalf("plain error: got %v, want retryable and scrubbed", err)
	}
	_, err = post(t, c, u, "x", func(*http.Response, []byte) error {
		return core.Permanent(errors.New("bad payload"))
	})
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "bad payload") {
		t.Fatalf("permanent: got %v", err)
	}
}
