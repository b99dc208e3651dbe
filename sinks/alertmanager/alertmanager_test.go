package alertmanager_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/alertmanager"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func event(reason, ns, kind, name string, count int32, last time.Time) *core.Event {
	return &core.Event{
		Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name + ".1", Namespace: ns, UID: types.UID("uid-" + name + "-" + reason)},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
			Reason:         reason,
			Message:        reason + " on " + name + ": \"quoted\"\n容器",
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-3"},
			FirstTimestamp: metav1.NewTime(t0.Add(-10 * time.Minute)),
			LastTimestamp:  metav1.NewTime(last),
			Count:          count,
			Type:           corev1.EventTypeWarning,
		},
		Cluster: "prod-eu-1",
	}
}

func build(t *testing.T, sinkValue string, env sinks.Env) core.Sink {
	t.Helper()
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Location == nil {
		env.Location = time.UTC
	}
	b, err := sinks.Build(1, sinkValue, env)
	if err != nil {
		t.Fatalf("building %s: %v", sinkValue, err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

func TestBatchBecomesAlertsAndReplayRefreshesThem(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, "alertmanager:"+rc.URL+"?severity=BackOff:critical,*:info&resolve_timeout=10m&label=team=shop&generator_url="+url.QueryEscape("https://grafana.example/d/k8s"), sinks.Env{Cluster: "prod-eu-1"})
	normal := event("Scheduled", "shop", "Pod", "web-1", 1, t0)
	normal.Type = corev1.EventTypeNormal
	batch := []*core.Event{
		event("BackOff", "shop", "Pod", "web-1", 12, t0),
		event("FailedMount", "shop", "Pod", "web-2", 3, t0.Add(time.Minute)),
		normal,
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	posts, alerts := rc.snapshot()
	if posts != 1 || len(alerts) != 2 {
		t.Fatalf("receiver got %d posts and %d alerts, want 1 post with the 2 Warning events", posts, len(alerts))
	}
	want := map[string]string{
		"alertname": "BackOff", "namespace": "shop", "kind": "Pod", "name": "web-1",
		"cluster": "prod-eu-1", "severity": "critical", "team": "shop",
	}
	backoff, ok := alerts[fingerprint(want)]
	if !ok {
		t.Fatalf("no alert with labels %v; got %v", want, alerts)
	}
	wantAnn := map[string]string{"message": "BackOff on web-1: \"quoted\"\n容器", "count": "12", "source": "kubelet, node-3"}
	if !reflect.DeepEqual(backoff.Annotations, wantAnn) {
		t.Errorf("annotations %v, want %v", backoff.Annotations, wantAnn)
	}
	if !backoff.StartsAt.Equal(t0.Add(-10*time.Minute)) || !backoff.EndsAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("startsAt %s endsAt %s, want first seen and last seen + 10m", backoff.StartsAt, backoff.EndsAt)
	}
	mount := alerts[fingerprint(map[string]string{
		"alertname": "FailedMount", "namespace": "shop", "kind": "Pod", "name": "web-2",
		"cluster": "prod-eu-1", "severity": "info", "team": "shop",
	})]
	if mount.Annotations["count"] != "3" {
		t.Errorf("FailedMount alert %v, want severity from the * entry and count 3", mount)
	}

	// The same batch again (a retry): the same two alerts, refreshed, nothing new.
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	posts, again := rc.snapshot()
	if posts != 2 || len(again) != 2 {
		t.Fatalf("after the replay: %d posts, %d alerts; want 2 posts and still 2 alerts", posts, len(again))
	}
	for fp, a := range again {
		if a.Updates != 1 {
			t.Errorf("alert %s updated %d times, want 1", fp, a.Updates)
		}
	}

	// The event repeats (count 13, seen 4 minutes later): the same alert, its end pushed back.
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 13, t0.Add(4*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	_, after := rc.snapshot()
	a := after[fingerprint(want)]
	if len(after) != 2 || a.Annotations["count"] != "13" || !a.EndsAt.Equal(t0.Add(14*time.Minute)) || !a.StartsAt.Equal(backoff.StartsAt) {
		t.Fatalf("after a repeat: %d alerts, BackOff %+v; want the same alert with count 13 and endsAt +14m", len(after), a)
	}
}

func TestOnlyWarningEventsAreSent(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, "alertmanager:"+rc.URL+"?level=Normal", sinks.Env{})
	e := event("Pulled", "shop", "Pod", "web-1", 1, t0)
	e.Type = corev1.EventTypeNormal
	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	if posts, _ := rc.snapshot(); posts != 0 {
		t.Fatalf("a batch of Normal events made %d posts, want none", posts)
	}
}

// Cluster-scoped objects have no namespace, and herald may run without --cluster-name: those
// labels are left out, not sent empty (the receiver refuses empty label values).
func TestEmptyLabelsAreLeftOut(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, "alertmanager:"+rc.URL, sinks.Env{})
	e := event("NodeNotReady", "", "Node", "node-3", 1, t0)
	e.Reason = "NodeNotReady"
	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	_, alerts := rc.snapshot()
	want := map[string]string{"alertname": "NodeNotReady", "kind": "Node", "name": "node-3", "severity": "warning"}
	if _, ok := alerts[fingerprint(want)]; !ok || len(alerts) != 1 {
		t.Fatalf("alerts %v, want one with labels %v", alerts, want)
	}
}

// The receiver refuses what Alertmanager refuses, so the tests above prove the sink's alerts
// valid; and a 400 from it is permanent for the sink.
func TestReceiverRefusesInvalidAlerts(t *testing.T) {
	rc := newReceiver(t)
	for body, want := range map[string]string{
		`{"labels":{"a":"b"}}`:                                    "not an array",
		`[{"annotations":{"a":"b"}}]`:                             "labels in body is required",
		`[{"labels":{}}]`:                                         "at least one label pair required",
		`[{"labels":{"a":""}}]`:                                   "invalid value",
		`[{"labels":{"a-b":"c"}}]`:                                "invalid label name",
		`[{"labels":{"a":1}}]`:                                    "label set of strings",
		`[{"labels":{"a":"b"},"startsAt":"2026-11-23 18:53:15"}]`: "must be of type date-time",
		`[{"labels":{"a":"b"},"startsAt":"2026-11-23T18:53:15Z","endsAt":"2026-11-23T18:00:00Z"}]`: "start time must be before end time",
		`[{"labels":{"a":"b"},"status":"firing"}]`:                                                 `unknown field "status"`,
	} {
		resp, err := http.Post(rc.URL+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, resp.StatusCode)
		}
		if r := rc.rejected[len(rc.rejected)-1]; !strings.Contains(r, want) {
			t.Errorf("%s: refused with %q, want %q", body, r, want)
		}
	}
}

func TestStatusTable(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, u string) error {
		return build(t, "alertmanager:"+u, sinks.Env{}).Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0)})
	})
}

func TestPathPrefixAndToken(t *testing.T) {
	var path, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.Path, r.Header.Get("Authorization")
	}))
	defer srv.Close()
	s := build(t, "alertmanager:"+srv.URL+"/am/?token=tok-123456", sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0)}); err != nil {
		t.Fatal(err)
	}
	if path != "/am/api/v2/alerts" || auth != "Bearer tok-123456" {
		t.Fatalf("path %q auth %q, want /am/api/v2/alerts and the bearer token", path, auth)
	}
}

func TestNoSecretInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("bad credentials: " + r.Header.Get("Authorization")))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	s := build(t, "alertmanager:http://admin:pw-SECRET-1@"+u.Host+"?token=tok-SECRET-2", sinks.Env{})
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0)})
	if !core.IsCredential(err) {
		t.Fatalf("got %v, want a refused credential", err)
	}
	httpxtest.AssertNoSecret(t, err, "pw-SECRET-1", "tok-SECRET-2")
}

func TestURIErrors(t *testing.T) {
	cases := map[string]string{
		"alertmanager:http://127.0.0.1:9?severty=x":            `did you mean "severity"?`,
		"alertmanager:http://127.0.0.1:9?severity=BackOff":     `parameter "severity": "BackOff" is not REASON:SEVERITY`,
		"alertmanager:http://127.0.0.1:9?resolve_timeout=0":    `parameter "resolve_timeout"`,
		"alertmanager:http://127.0.0.1:9?resolve_timeout=soon": `parameter "resolve_timeout"`,
		"alertmanager:http://127.0.0.1:9?label=team":           `parameter "label"`,
		"alertmanager:http://127.0.0.1:9?label=a-b=c":          `"a-b" is not a valid label name`,
		"alertmanager:http://127.0.0.1:9?label=severity=high":  `"severity" is set by the sink`,
		"alertmanager:http://127.0.0.1:9?generator_url=x":      `parameter "generator_url"`,
		"alertmanager:alertmanager.monitoring:9093":            "http:// or https:// base URL",
	}
	for v, want := range cases {
		_, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background()})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #1 (alertmanager): ") {
			t.Errorf("%s: got %v, want an error naming the sink and containing %q", v, err, want)
		}
	}
}

func TestPreview(t *testing.T) {
	b, err := sinks.Build(1, "alertmanager:http://127.0.0.1:9?severity=BackOff:critical", sinks.Env{Ctx: context.Background(), Cluster: "prod-eu-1", CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	p, ok := b.Sink.(sinks.Previewer)
	if !ok {
		t.Fatal("the sink does not implement sinks.Previewer")
	}
	out, err := p.Preview(event("BackOff", "shop", "Pod", "web-1", 12, t0))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST http://127.0.0.1:9/api/v2/alerts", `"alertname": "BackOff"`, `"severity": "critical"`, `"endsAt": "2026-11-23T18:58:15Z"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
}
