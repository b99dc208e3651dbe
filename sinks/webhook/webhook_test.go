package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/webhook"
)

// kubeEventerBody is kube-eventer's defaultBodyTemplate, copied from its sinks/webhook/webhook.go
// as the reference the sink's default must match.
const kubeEventerBody = "\n{\n\t\"EventType\": \"{{ .Type }}\",\n\t\"EventKind\": \"{{ .InvolvedObject.Kind }}\",\n\t\"EventReason\": \"{{ .Reason }}\",\n\t\"EventTime\": \"{{ .LastTimestamp }}\",\n\t\"EventMessage\": \"{{ .Message }}\"\n}"

// kubeEventerRender renders an event the way kube-eventer's webhook does: it drops double
// quotes from the message and executes the template on the v1.Event.
func kubeEventerRender(t *testing.T, e *corev1.Event) []byte {
	t.Helper()
	c := e.DeepCopy()
	c.Message = strings.ReplaceAll(c.Message, `"`, ``)
	var buf bytes.Buffer
	if err := texttemplate.Must(texttemplate.New("body").Parse(kubeEventerBody)).Execute(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDefaultBodyIsKubeEventers(t *testing.T) {
	rc := newReceiver(t, nil)
	s := build(t, "webhook:"+rc.URL+"/hook", sinks.Env{})
	e := event("BackOff", "Back-off restarting failed container web in pod web-1_shop(4f1c)")
	before := e.DeepCopy()

	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.Method != http.MethodGet {
		t.Errorf("method %s, want GET (kube-eventer's default)", r.Method)
	}
	if r.Path != "/hook" || len(r.Query) != 0 {
		t.Errorf("path %q query %v, want /hook and no query", r.Path, r.Query)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		t.Errorf("Content-Type %q, want none (kube-eventer sends none)", ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != "herald" {
		t.Errorf("User-Agent %q", ua)
	}
	if want := kubeEventerRender(t, e.Event); !bytes.Equal(r.Body, want) {
		t.Errorf("body\n%s\nwant kube-eventer's\n%s", r.Body, want)
	}
	var decoded map[string]string
	if err := json.Unmarshal(r.Body, &decoded); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	want := map[string]string{
		"EventType":    "Warning",
		"EventKind":    "Pod",
		"EventReason":  "BackOff",
		"EventTime":    "2026-11-23 18:53:15 +0000 UTC",
		"EventMessage": "Back-off restarting failed container web in pod web-1_shop(4f1c)",
	}
	if !reflect.DeepEqual(decoded, want) {
		t.Errorf("decoded body %v, want %v", decoded, want)
	}
	if !reflect.DeepEqual(e.Event, before) {
		t.Error("Export changed the event it was given")
	}
}

func TestMethodHeadersAndPassthroughQuery(t *testing.T) {
	rc := newReceiver(t, nil)
	s := build(t, "webhook:"+rc.URL+"/hooks/v1?token=s3cr3t-tok&code=az-fn-key"+
		"&level=Normal&namespaces=shop&kinds=Pod&reason=BackOff&name=team-a&timeout=5s"+
		"&method=post&header=Content-Type=application/json&header=X-Signature=a=b==&header=Authorization=Bearer%20abc",
		sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "m")}); err != nil {
		t.Fatal(err)
	}
	r := rc.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/hooks/v1" {
		t.Errorf("got %s %s, want POST /hooks/v1", r.Method, r.Path)
	}
	wantQuery := url.Values{"token": {"s3cr3t-tok"}, "code": {"az-fn-key"}}
	if !reflect.DeepEqual(r.Query, wantQuery) {
		t.Errorf("query %v, want only the receiver's own parameters %v", r.Query, wantQuery)
	}
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"X-Signature":   "a=b==",
		"Authorization": "Bearer abc",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if !json.Valid(r.Body) {
		t.Errorf("body is not JSON: %s", r.Body)
	}
}

// parse runs ParseConfig the way the registry calls New.
func parse(t *testing.T, sinkValue string) (*webhook.Config, error) {
	t.Helper()
	u, err := uri.Parse("sink", sinkValue)
	if err != nil {
		t.Fatal(err)
	}
	spec := slices.Concat(sinks.CommonParams, webhook.Params)
	p := uri.NewParams("--sink #2 (webhook)", u.Target.Query(), spec)
	return webhook.ParseConfig(sinks.Target{ID: "webhook#2", URL: u.Target, Params: p}, sinks.Env{Location: time.UTC})
}

func TestStartupNotes(t *testing.T) {
	cfg, err := parse(t, "webhook:http://127.0.0.1:9/x?token=tok-value-1&code=code-value-2")
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(cfg.Notes, "\n")
	if !strings.Contains(joined, `passing query parameters "code", "token" through`) {
		t.Errorf("notes %q do not name the passed-through parameters", cfg.Notes)
	}
	if strings.Contains(joined, "tok-value-1") || strings.Contains(joined, "code-value-2") {
		t.Errorf("notes %q show a parameter's value", cfg.Notes)
	}
	if cfg.URL.String() != "http://127.0.0.1:9/x?code=code-value-2&token=tok-value-1" {
		t.Errorf("target %s", cfg.URL)
	}

	for _, level := range []string{"Warning", "Normal"} {
		cfg, err := parse(t, "webhook:http://127.0.0.1:9/x?level="+level)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Notes) != 0 {
			t.Errorf("level=%s: notes %q, want none", level, cfg.Notes)
		}
	}
}

func TestJSONModeFollowsContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"":                                  true,
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"application/cloudevents+json":      true,
		"text/plain":                        false,
		"application/x-www-form-urlencoded": false,
	} {
		v := "webhook:http://127.0.0.1:9/x?level=Warning"
		if ct != "" {
			v += "&header=Content-Type=" + url.QueryEscape(ct)
		}
		cfg, err := parse(t, v)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.JSON != want || cfg.Template.JSON != want {
			t.Errorf("Content-Type %q: JSON %v, template JSON %v, want %v", ct, cfg.JSON, cfg.Template.JSON, want)
		}
	}
}

// Messages that broke kube-eventer's JSON stay valid JSON and arrive intact. kube-eventer's
// templates (the default body here) get the message as kube-eventer rendered it, without its
// double quotes; herald's own body_template gets it whole.
func TestJSONBodyStaysValid(t *testing.T) {
	messages := []string{
		`Failed to pull image "nginx:latest": rpc error: code = NotFound`,
		"Liveness probe failed: HTTP probe failed\nwith statuscode: 500\tretrying",
		`镜像拉取失败："registry.cn-hangzhou.aliyuncs.com/app:v1" 不存在`,
		`C:\path\to\file and a trailing backslash \`,
		"<b>tags</b> & ampersands \u2028 line separator",
	}
	for _, tmpl := range []string{"", `{"text":"{{ .Reason }}: {{ .Message }}"}`} {
		rc := newReceiver(t, nil)
		v := "webhook:" + rc.URL + "?method=POST&level=Normal"
		if tmpl != "" {
			v += "&body_template=" + url.QueryEscape(tmpl)
		}
		s := build(t, v, sinks.Env{})
		var events []*core.Event
		for _, m := range messages {
			events = append(events, event("Failed", m))
		}
		if err := s.Export(context.Background(), events); err != nil {
			t.Fatal(err)
		}
		for i, r := range rc.requests() {
			var decoded map[string]string
			if err := json.Unmarshal(r.Body, &decoded); err != nil {
				t.Fatalf("template %q, message %q: body is not JSON: %v\n%s", tmpl, messages[i], err, r.Body)
			}
			got, want := decoded["EventMessage"], strings.ReplaceAll(messages[i], `"`, "")
			if tmpl != "" {
				got, want = decoded["text"], "Failed: "+messages[i]
			}
			if got != want {
				t.Errorf("template %q: got %q, want %q", tmpl, got, want)
			}
		}
	}
}

// A Content-Type that is not JSON means the body is sent as rendered, without escaping.
func TestNonJSONBodyIsNotEscaped(t *testing.T) {
	rc := newReceiver(t, nil)
	s := build(t, "webhook:"+rc.URL+"?method=PUT&header=Content-Type=text/plain&body_template="+url.QueryEscape("{{ .Reason }}: {{ .Message }}"), sinks.Env{})
	msg := "pulled \"nginx\"\nin 3s"
	if err := s.Export(context.Background(), []*core.Event{event("Pulled", msg)}); err != nil {
		t.Fatal(err)
	}
	r := rc.requests()[0]
	if r.Method != http.MethodPut || string(r.Body) != "Pulled: "+msg || r.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %s %q %q", r.Method, r.Body, r.Header.Get("Content-Type"))
	}
}

func reasons(rs []request) []string {
	var out []string
	for _, r := range rs {
		var m map[string]string
		_ = json.Unmarshal(r.Body, &m)
		out = append(out, m["r"])
	}
	return out
}

func batch(reasons ...string) []*core.Event {
	var out []*core.Event
	for _, r := range reasons {
		out = append(out, event(r, "m"))
	}
	return out
}

// bodyR is a body template that renders {"r":REASON}, and fails to render for reason "Bad".
var bodyR = url.QueryEscape(`{"r":"{{ .Reason }}"{{ if eq .Reason "Bad" }}{{ .NoSuchField }}{{ end }}}`)

func TestPartialErrorOn503MidBatch(t *testing.T) {
	rc := newReceiver(t, status(func(n int) int {
		if n == 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}))
	s := build(t, "webhook:"+rc.URL+"?method=POST&body_template="+bodyR, sinks.Env{})
	events := batch("R0", "R1", "R2", "R3", "R4")

	err := s.Export(context.Background(), events)
	var pe *core.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *core.PartialError", err)
	}
	if core.IsPermanent(err) {
		t.Fatalf("a 503 must be retried: %v", err)
	}
	if !slices.Equal(pe.Failed, events[2:]) {
		t.Fatalf("Failed holds %d events, want events R2..R4", len(pe.Failed))
	}
	if !strings.Contains(err.Error(), "3 of 5 events not delivered") || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("error %q", err)
	}
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R1", "R2"}) {
		t.Fatalf("receiver got %v, want R0 R1 R2 in order and nothing after the failure", got)
	}

	// The pipeline retries only what failed.
	if err := s.Export(context.Background(), pe.Failed); err != nil {
		t.Fatal(err)
	}
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R1", "R2", "R2", "R3", "R4"}) {
		t.Fatalf("receiver got %v", got)
	}
}

func TestRetryAfterReachesThePipeline(t *testing.T) {
	rc := newReceiver(t, func(_ int, _ request, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "45")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	s := build(t, "webhook:"+rc.URL+"?method=POST", sinks.Env{})
	err := s.Export(context.Background(), batch("R0"))
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 45*time.Second {
		t.Fatalf("got %v, want an error whose RetryAfter() is 45s", err)
	}
}

func TestPermanentOn400(t *testing.T) {
	rc := newReceiver(t, status(func(n int) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return http.StatusOK
	}))
	s := build(t, "webhook:"+rc.URL+"?method=POST&body_template="+bodyR, sinks.Env{})
	events := batch("R0", "R1", "R2")
	err := s.Export(context.Background(), events)
	retry, _, rejected, rejectErr := core.Fates(err, events)
	if len(retry) != 0 || !slices.Equal(rejected, events[1:2]) {
		t.Fatalf("got %v: retry %d, rejected %d; want R1 rejected only", err, len(retry), len(rejected))
	}
	if !strings.Contains(rejectErr.Error(), "HTTP 400") || !strings.Contains(rejectErr.Error(), "shop/Pod/web-1 (R1)") {
		t.Errorf("error %q does not name the status and the event", rejectErr)
	}
	// A refusal is that event's: the rest of the batch is still delivered.
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R1", "R2"}) {
		t.Fatalf("receiver got %v", got)
	}
}

func TestRenderFailureIsThatEventsOnly(t *testing.T) {
	rc := newReceiver(t, nil)
	s := build(t, "webhook:"+rc.URL+"?method=POST&body_template="+bodyR, sinks.Env{})
	events := batch("R0", "Bad", "R2")
	err := s.Export(context.Background(), events)
	retry, _, rejected, rejectErr := core.Fates(err, events)
	if len(retry) != 0 || !slices.Equal(rejected, events[1:2]) || !strings.Contains(rejectErr.Error(), "does not render") {
		t.Fatalf("got %v: retry %d, rejected %d; want the Bad event rejected only", err, len(retry), len(rejected))
	}
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R2"}) {
		t.Fatalf("receiver got %v, want R0 R2", got)
	}
}

// A render failure followed by a retryable failure: the failed event is rejected once, and only
// the undelivered rest is retried, so each event is counted once and none is sent twice.
func TestRenderFailureThenOutage(t *testing.T) {
	rc := newReceiver(t, status(func(n int) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	}))
	s := build(t, "webhook:"+rc.URL+"?method=POST&body_template="+bodyR, sinks.Env{})
	events := batch("R0", "Bad", "R2", "R3")
	err := s.Export(context.Background(), events)
	retry, retryErr, rejected, _ := core.Fates(err, events)
	if core.IsPermanent(retryErr) || !slices.Equal(retry, events[2:]) || !slices.Equal(rejected, events[1:2]) {
		t.Fatalf("got %v: retry %d, rejected %d; want R2 R3 retried, Bad rejected", err, len(retry), len(rejected))
	}
	if err := s.Export(context.Background(), retry); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R2", "R2", "R3"}) {
		t.Fatalf("receiver got %v", got)
	}
}

func TestStatusTable(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, u string) error {
		return build(t, "webhook:"+u+"/hook?method=POST&level=Warning", sinks.Env{}).Export(context.Background(), batch("R0"))
	})
}

func TestNoSecretInDeliveryErrors(t *testing.T) {
	// A receiver that quotes the request back in its error page.
	rc := newReceiver(t, func(_ int, r request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("bad credentials for " + r.Path + "?" + r.Query.Encode() + " " + r.Header.Get("X-Api-Key") + " " + r.Header.Get("X-Tenant")))
	})
	s := build(t, "webhook:"+rc.URL+"/hooks/0123456789abcdef0123?method=POST&token=tok-SECRET-1&sig=sig-SECRET-2&header=X-Api-Key=key-SECRET-3&header=X-Tenant=ten-SECRET-4", sinks.Env{})
	err := s.Export(context.Background(), batch("R0"))
	httpxtest.AssertNoSecret(t, err, "tok-SECRET-1", "sig-SECRET-2", "key-SECRET-3", "ten-SECRET-4", "0123456789abcdef0123")
	if !strings.Contains(err.Error(), "bad credentials for") {
		t.Errorf("error %q does not quote the receiver's reply", err)
	}
}

// TestKubeEventerLeniency: what kube-eventer's webhook ran with (a misspelt or repeated
// parameter) builds, with one warning each naming the sink, the parameter and the fix.
func TestKubeEventerLeniency(t *testing.T) {
	const base = "webhook:http://127.0.0.1:9/x?level=Warning&"
	cases := map[string]string{
		base + "levl=Normal":            `--sink #1 (webhook): unknown parameter "levl" ignored, as kube-eventer ignored it; did you mean "level"?`,
		base + "mehtod=POST":            `--sink #1 (webhook): unknown parameter "mehtod" ignored, as kube-eventer ignored it; did you mean "method"?`,
		base + "method=POST&method=PUT": `--sink #1 (webhook): parameter "method": given 2 times; kube-eventer used the first value`,
	}
	for v, want := range cases {
		b, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background(), Location: time.UTC})
		if err != nil {
			t.Errorf("%s: %v; kube-eventer started with it", v, err)
			continue
		}
		_ = b.Sink.Close()
		if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], want) {
			t.Errorf("%s: warnings %q, want one containing %q", v, b.Warnings, want)
		}
	}
}

func TestURIErrors(t *testing.T) {
	const base = "webhook:http://127.0.0.1:9/x?level=Warning&"
	cases := map[string][]string{
		base + "header=NoEquals":                {`parameter "header": header #1 has no '='`, "header=NAME=VALUE"},
		base + "header==v":                      {`header #1 has no name`},
		base + "header=A=1&header=Bad%20Name=v": {`header #2: "Bad Name" is not a valid header name`},
		base + "header=X-A=line%0Abreak":        {`header #1 (X-A) has a value with control characters`},
		base + "method=FETCH":                   {`parameter "method": "FETCH" is not allowed; write one of GET, POST, PUT, PATCH, DELETE`},
		base + "method=pots":                    {`did you mean "POST"?`},
		base + "timeout=0":                      {`parameter "timeout"`},
		"webhook:ftp://host/x":                  {`must be an http:// or https:// URL with a host, got a "ftp" URL`},
		"webhook:receiver.example/path":         {`got a URL without http:// or https://`},
		"webhook:":                              {`got nothing`},
		base + "ca_file=/nonexistent/ca.pem":    {`parameter "ca_file" (or "cacert"): open /nonexistent/ca.pem`},
	}
	for v, wants := range cases {
		_, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background(), Location: time.UTC})
		if err == nil {
			t.Errorf("%s: built, want an error", v)
			continue
		}
		if !strings.HasPrefix(err.Error(), "--sink #1 (webhook): ") {
			t.Errorf("%s: error %q does not start by naming the sink", v, err)
		}
		if strings.Contains(err.Error(), "(webhook): --sink") {
			t.Errorf("%s: error %q names the sink twice", v, err)
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", v, err, w)
			}
		}
	}
}

func TestURIErrorsShowNoSecret(t *testing.T) {
	_, err := sinks.Build(1, "webhook:http://127.0.0.1:9/x?token=TOPSECRET1&header=Authorization=Bearer%20TOPSECRET2&header=TOPSECRET3&levl=x",
		sinks.Env{Ctx: context.Background(), Location: time.UTC})
	httpxtest.AssertNoSecret(t, err, "TOPSECRET1", "TOPSECRET2", "TOPSECRET3")
}

func TestConfigMapBody(t *testing.T) {
	kube := fake.NewSimpleClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-body", Namespace: "monitoring"},
		Data:       map[string]string{"content": `{"reason":"{{ .Reason }}","object":"{{ .InvolvedObject.Name }}"}`},
	})
	rc := newReceiver(t, nil)
	b, err := sinks.Build(1, "webhook:"+rc.URL+"?method=POST&custom_body_configmap=webhook-body&custom_body_configmap_namespace=monitoring",
		sinks.Env{Ctx: context.Background(), Kube: kube, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if err := b.Sink.Export(context.Background(), batch("BackOff")); err != nil {
		t.Fatal(err)
	}
	if got := string(rc.requests()[0].Body); got != `{"reason":"BackOff","object":"web-1"}` {
		t.Fatalf("body %s", got)
	}

	// kube-eventer fell back to its default body when the ConfigMap was missing; so does herald,
	// with a warning, and it switches to the ConfigMap once it is created.
	b2, err := sinks.Build(1, "webhook:"+rc.URL+"?method=POST&custom_body_configmap=late-body",
		sinks.Env{Ctx: context.Background(), Kube: kube, Location: time.UTC})
	if err != nil {
		t.Fatalf("a missing ConfigMap stops the sink (%v); kube-eventer used its default body", err)
	}
	defer b2.Sink.Close()
	if len(b2.Warnings) != 1 || !strings.Contains(b2.Warnings[0], `parameter "custom_body_configmap": ConfigMap default/late-body (custom_body_configmap) does not exist`) ||
		!strings.Contains(b2.Warnings[0], "kube-eventer then sent its default body, and so does herald") {
		t.Fatalf("warnings %q, want one naming the missing ConfigMap and what herald does", b2.Warnings)
	}
	if err := b2.Sink.Export(context.Background(), batch("BackOff")); err != nil {
		t.Fatal(err)
	}
	if got := string(rc.requests()[1].Body); !strings.Contains(got, `"EventReason": "BackOff"`) {
		t.Fatalf("without its ConfigMap the sink sent %s, want kube-eventer's default body", got)
	}
	if _, err := kube.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "late-body", Namespace: "default"},
		Data:       map[string]string{"content": `{"late":"{{ .Reason }}"}`},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if err := b2.Sink.Export(context.Background(), batch("BackOff")); err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests()
		if got := string(reqs[len(reqs)-1].Body); got == `{"late":"BackOff"}` {
			break
		}
		if i == 500 {
			t.Fatal("the sink never switched to the ConfigMap created after start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The --sink value herald logs hides the receiver's own parameters (they may be its key) and
// the header values, and keeps herald's parameters readable.
func TestRedactedSinkValue(t *testing.T) {
	b, err := sinks.Build(1, "webhook:https://user:pa55word@receiver.example/api?code=az-fn-key&token=tok-123&level=Normal&method=POST&header=X-Api-Key=key-456",
		sinks.Env{Ctx: context.Background(), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	for _, secret := range []string{"az-fn-key", "tok-123", "key-456", "pa55word"} {
		if strings.Contains(b.Redacted, secret) {
			t.Errorf("logged value %q shows %q", b.Redacted, secret)
		}
	}
	for _, keep := range []string{"code=<redacted>", "level=Normal", "method=POST", "receiver.example/api"} {
		if !strings.Contains(b.Redacted, keep) {
			t.Errorf("logged value %q lacks %q", b.Redacted, keep)
		}
	}
}

func TestPreviewShowsTheRenderedBody(t *testing.T) {
	b, err := sinks.Build(1, "webhook:http://127.0.0.1:1/x?method=POST", sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	// kube-eventer's default body: the message without its quotes, a line break escaped.
	out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "say \"hi\"\nagain"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "POST request") || !strings.Contains(out, `"EventMessage": "say hi\nagain"`) {
		t.Fatalf("preview %q lacks the method or the escaped body", out)
	}
}

// A body template that runs past body_template_timeout for one event fails that event only,
// promptly, counted, and the sink goes on: the export (and so herald's shutdown) never waits
// for a render that would run for ever.
func TestRenderTimeoutIsThatEventsOnly(t *testing.T) {
	rc := newReceiver(t, nil)
	reg := prometheus.NewRegistry()
	m, err := template.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// len(.Message)² iterations, printing nothing, for messages over 1,000 bytes only.
	slow := url.QueryEscape(`{"r":"{{ if gt (len .Message) 1000 }}{{ range len .Message }}{{ range len $.Message }}{{ end }}{{ end }}{{ end }}{{ .Reason }}"}`)
	s := build(t, "webhook:"+rc.URL+"?method=POST&body_template_timeout=100ms&body_template="+slow, sinks.Env{TemplateMetrics: m})
	events := batch("R0", "Slow", "R2")
	events[1].Message = strings.Repeat("x", 1e5)
	start := time.Now()
	err = s.Export(context.Background(), events)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Export took %v with a 100ms render budget", took)
	}
	retry, _, rejected, _ := core.Fates(err, events)
	if len(retry) != 0 || !slices.Equal(rejected, events[1:2]) {
		t.Fatalf("got %v, want the Slow event rejected, and it only", err)
	}
	if !strings.Contains(err.Error(), "rendering took longer than the time budget (100ms, body_template_timeout)") {
		t.Errorf("error does not say the render ran out of time: %v", err)
	}
	if got := reasons(rc.requests()); !slices.Equal(got, []string{"R0", "R2"}) {
		t.Fatalf("receiver got %v, want R0 R2", got)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	timeouts := -1.0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if f.GetName() == "herald_template_render_failures_total" && labels["sink"] == "webhook#1" && labels["reason"] == template.FailureTimeout {
				timeouts = m.GetCounter().GetValue()
			}
		}
	}
	if timeouts != 1 {
		t.Errorf("timeouts counted: %v, want 1", timeouts)
	}
}
