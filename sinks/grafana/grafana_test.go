package grafana_test

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/grafana"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func event(reason, ns, kind, name string, count int32, last time.Time) *core.Event {
	return &core.Event{
		Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name + ".1", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
			Reason:         reason,
			Message:        "Back-off restarting failed container \"app\"",
			LastTimestamp:  metav1.NewTime(last),
			Count:          count,
			Type:           corev1.EventTypeWarning,
		},
	}
}

func build(t *testing.T, sinkValue string, env sinks.Env) core.Sink {
	t.Helper()
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	b, err := sinks.Build(1, sinkValue, env)
	if err != nil {
		t.Fatalf("building %s: %v", sinkValue, err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

func TestBatchBecomesAnnotationsAndReplayDuplicates(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, "grafana:"+rc.URL+"?token="+goodToken+"&tags=k8s,herald&dashboard_uid=k8s-overview&panel_id=4&org_id=2", sinks.Env{Cluster: "prod-eu-1"})
	batch := []*core.Event{
		event("BackOff", "shop", "Pod", "web-1", 12, t0),
		event("NodeNotReady", "", "Node", "node-3", 1, t0.Add(time.Second)),
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	got := rc.added()
	if len(got) != 2 {
		t.Fatalf("receiver added %d annotations, want 2", len(got))
	}
	want := annotation{
		ID: 1, DashboardUID: "k8s-overview", PanelID: 4, Time: t0.UnixMilli(),
		Tags: []string{"k8s", "herald", "type:Warning", "reason:BackOff", "kind:Pod", "namespace:shop", "cluster:prod-eu-1"},
		Text: "Warning BackOff: shop/Pod/web-1 (×12)\nBack-off restarting failed container \"app\"",
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("annotation\n%+v\nwant\n%+v", got[0], want)
	}
	if got[1].Time != t0.Add(time.Second).UnixMilli() || !slices.Equal(got[1].Tags, []string{"k8s", "herald", "type:Warning", "reason:NodeNotReady", "kind:Node", "cluster:prod-eu-1"}) ||
		!strings.HasPrefix(got[1].Text, "Warning NodeNotReady: Node/node-3\n") {
		t.Errorf("cluster-scoped annotation %+v", got[1])
	}
	if !slices.Equal(rc.orgs, []string{"2", "2"}) {
		t.Errorf("X-Grafana-Org-Id %v, want 2 on every request", rc.orgs)
	}

	// Grafana keys annotations by nothing but their id: the same batch again adds two more,
	// identical but for the id. (docs/sinks/grafana.md says so.)
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	again := rc.added()
	if len(again) != 4 {
		t.Fatalf("after a replay the receiver holds %d annotations, want 4", len(again))
	}
	for i := range 2 {
		a, b := again[i], again[i+2]
		b.ID = a.ID
		if !reflect.DeepEqual(a, b) {
			t.Errorf("replayed annotation %d differs:\n%+v\n%+v", i, a, b)
		}
	}
}

func TestOrganizationWideAndBasicAuth(t *testing.T) {
	rc := newReceiver(t)
	u, _ := url.Parse(rc.URL)
	s := build(t, "grafana:http://admin:admin-pw-1@"+u.Host+"/", sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0)}); err != nil {
		t.Fatal(err)
	}
	a := rc.added()[0]
	if a.DashboardUID != "" || a.PanelID != 0 || !slices.Equal(a.Tags, []string{"herald", "type:Warning", "reason:BackOff", "kind:Pod", "namespace:shop"}) {
		t.Fatalf("annotation %+v, want organization-wide with the default tag", a)
	}
}

func TestRefusedCredentialsKeepEveryEventAndLeakNoToken(t *testing.T) {
	rc := newReceiver(t)
	for _, tc := range []struct {
		token, want string
	}{
		{"glsa_wrong_token_123456", "HTTP 401"},
		{viewerToken, "Permissions needed: annotations:create"},
	} {
		s := build(t, "grafana:"+rc.URL+"?token="+tc.token, sinks.Env{})
		events := []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0), event("BackOff", "shop", "Pod", "web-2", 1, t0)}
		err := s.Export(context.Background(), events)
		retry, _, rejected, _ := core.Fates(err, events)
		if !core.IsCredential(err) || core.IsPermanent(err) || len(retry) != 2 || len(rejected) != 0 {
			t.Fatalf("token %s: got %v, want both events held back by a refused credential", tc.token, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q lacks %q", err, tc.want)
		}
		httpxtest.AssertNoSecret(t, err, tc.token)
	}
	if n := len(rc.added()); n != 0 {
		t.Fatalf("receiver added %d annotations", n)
	}
}

func TestStatusTable(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, u string) error {
		return build(t, "grafana:"+u+"?token=tok-123456", sinks.Env{}).Export(context.Background(), []*core.Event{event("BackOff", "shop", "Pod", "web-1", 1, t0)})
	})
}

func TestURIErrors(t *testing.T) {
	cases := map[string]string{
		"grafana:http://127.0.0.1:9?tag=a":                      `did you mean "tags"?`,
		"grafana:http://127.0.0.1:9?panel_id=4":                 `parameter "panel_id": given without dashboard_uid`,
		"grafana:http://127.0.0.1:9?dashboard_uid=x&panel_id=a": `parameter "panel_id"`,
		"grafana:http://127.0.0.1:9?org_id=0":                   `parameter "org_id"`,
		"grafana:grafana.example":                               "http:// or https:// base URL",
	}
	for v, want := range cases {
		_, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background()})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #1 (grafana): ") {
			t.Errorf("%s: got %v, want an error naming the sink and containing %q", v, err, want)
		}
	}
	_, err := sinks.Build(1, "grafana:http://127.0.0.1:9?token=TOPSECRET1&levl=x", sinks.Env{Ctx: context.Background()})
	httpxtest.AssertNoSecret(t, err, "TOPSECRET1")
}

func TestPreview(t *testing.T) {
	b, err := sinks.Build(1, "grafana:https://grafana.example?token=tok-123456&dashboard_uid=k8s", sinks.Env{Ctx: context.Background(), CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if strings.Contains(b.Redacted, "tok-123456") {
		t.Errorf("logged sink value %q shows the token", b.Redacted)
	}
	out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "shop", "Pod", "web-1", 1, t0))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST https://grafana.example/api/annotations", `"dashboardUID": "k8s"`, fmt.Sprintf(`"time": %d`, t0.UnixMilli()), `"reason:BackOff"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tok-123456") {
		t.Error("preview shows the token")
	}
}
