package honeycomb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/honeycomb"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func event(reason, ns, kind, name string, count int32) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + ".18a4f", Namespace: ns, UID: types.UID("uid-" + name + "-" + reason)},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name, FieldPath: "spec.containers{app}"},
		Reason:         reason,
		Message:        `Back-off restarting "app" 容器 🚑` + "\n" + `\ done`,
		Type:           corev1.EventTypeWarning,
		Count:          count,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
		FirstTimestamp: metav1.NewTime(t0),
		LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(count) * time.Second)),
	}}
}

func build(t testing.TB, value string, env sinks.Env) core.Sink {
	t.Helper()
	b, err := sinks.Build(1, value, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

// The batch reaches the receiver in Honeycomb's documented form, with kube-eventer's field names
// and values, the event's last timestamp as its time, and the key in X-Honeycomb-Team.
func TestBatchReachesHoneycombWithKubeEventersFields(t *testing.T) {
	rc := newReceiver(t)
	// KE075's dataset has a Terraform interpolation left in: ${local.cluster_name} expands from
	// the environment as kube-eventer's os.ExpandEnv expanded it, to nothing.
	s := build(t, "honeycomb:?dataset=k8s-${local.cluster_name}&writekey="+goodKey+"&apihost="+rc.URL, sinks.Env{Cluster: "prod-eu"})
	evs := []*core.Event{event("BackOff", "shop", "Pod", "web-1", 3), event("NodeNotReady", "", "Node", "node-7", 1)}
	evs[1].LastTimestamp = metav1.Time{}
	evs[1].EventTime = metav1.NewMicroTime(t0.Add(90*time.Second + 250*time.Millisecond))
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	got := rc.received()
	if len(got) != 2 {
		t.Fatalf("receiver took %d events, want 2", len(got))
	}
	want := map[string]any{
		"namespace": "shop", "kind": "Pod", "name": "web-1", "subobject": "spec.containers{app}",
		"source.component": "kubelet", "source.host": "node-7", "count": float64(3), "type": "Warning",
		"reason": "BackOff", "message": evs[0].Message, "cluster": "prod-eu",
	}
	if fmt.Sprint(got[0].Data) != fmt.Sprint(want) {
		t.Errorf("fields:\n got %v\nwant %v", got[0].Data, want)
	}
	if got[0].Dataset != "k8s-" {
		t.Errorf("dataset %q", got[0].Dataset)
	}
	if !got[0].Time.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("time %s, want the event's lastTimestamp", got[0].Time)
	}
	if !got[1].Time.Equal(t0.Add(90*time.Second + 250*time.Millisecond)) {
		t.Errorf("time %s, want eventTime with its sub-second part", got[1].Time)
	}
	if got[1].Data["namespace"] != "" || got[1].Data["kind"] != "Node" {
		t.Errorf("cluster-scoped event: %v", got[1].Data)
	}
}

// kube-eventer's defaults: dataset heapster, the key from HONEYCOMB_WRITEKEY, Honeycomb's API.
func TestKubeEventersDefaults(t *testing.T) {
	t.Setenv("HONEYCOMB_WRITEKEY", goodKey)
	b, err := sinks.Build(4, "honeycomb:?", sinks.Env{CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "shop", "Pod", "web-1", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST https://api.honeycomb.io/1/batch/heapster", "X-Honeycomb-Team: <redacted>", `"reason": "BackOff"`, `"time": "2026-11-23T18:53:16Z"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, goodKey) {
		t.Error("the preview shows the key")
	}
	if len(b.Warnings) != 0 {
		t.Errorf("warnings: %q", b.Warnings)
	}

	t.Setenv("HONEYCOMB_WRITEKEY", "")
	_, err = sinks.Build(4, "honeycomb:?dataset=x", sinks.Env{})
	if err == nil || !strings.Contains(err.Error(), `--sink #4 (honeycomb): parameter "writekey": no Honeycomb API key given`) {
		t.Errorf("no key: got %v", err)
	}
}

// Honeycomb's per-event statuses are honoured: only the events it did not take come back, for a
// retry when it may help (429, throttling 403, 5xx), permanently otherwise (400).
func TestPerEventStatusIsHonoured(t *testing.T) {
	rc := newReceiver(t)
	rc.reject = func(data map[string]any) (int, string) {
		switch data["reason"] {
		case "Poison":
			return http.StatusBadRequest, "Event has too many columns."
		case "Throttled":
			return http.StatusTooManyRequests, "event dropped due to rate limiting"
		}
		return 0, ""
	}
	s := build(t, "honeycomb:?dataset=k8s&writekey="+goodKey+"&apihost="+rc.URL, sinks.Env{})
	ok1, poison, throttled, ok2 := event("BackOff", "a", "Pod", "p1", 1), event("Poison", "a", "Pod", "p2", 1), event("Throttled", "a", "Pod", "p3", 1), event("Pulled", "a", "Pod", "p4", 1)
	batch := []*core.Event{ok1, poison, throttled, ok2}
	err := s.Export(context.Background(), batch)
	retry, retryErr, rejected, _ := core.Fates(err, batch)
	if len(rejected) != 1 || rejected[0] != poison || len(retry) != 1 || retry[0] != throttled {
		t.Fatalf("rejected %d, retried %d; want the refused event rejected and the throttled one retried", len(rejected), len(retry))
	}
	if core.IsPermanent(retryErr) {
		t.Error("a throttled event is worth retrying")
	}
	for _, want := range []string{"1 of 4 events", "status 400: Event has too many columns.", "status 429"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(rc.received()); n != 2 {
		t.Errorf("receiver took %d, want 2", n)
	}
	// Alone, the refused event fails permanently.
	err = s.Export(context.Background(), []*core.Event{poison})
	if err == nil || !core.IsPermanent(err) {
		t.Errorf("refused event: got %v, want permanent", err)
	}
}

// A batch larger than one request is split; each request stays within 1 MB.
func TestLargeBatchIsSplit(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, "honeycomb:?dataset=k8s&writekey="+goodKey+"&apihost="+rc.URL, sinks.Env{})
	var evs []*core.Event
	for i := 0; i < 300; i++ {
		e := event("BackOff", "shop", "Pod", fmt.Sprintf("web-%d", i), 1)
		e.Message = strings.Repeat("x", 10<<10)
		evs = append(evs, e)
	}
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.received()); n != 300 {
		t.Fatalf("took %d of 300", n)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) < 3 {
		t.Errorf("%d requests for 3 MB of events", len(rc.bodies))
	}
	for _, n := range rc.bodies {
		if n > honeycomb.MaxRequestBytes {
			t.Errorf("a request of %d bytes", n)
		}
	}
}

// A wrong key is a credential outage (kept and retried until the key is fixed), and the key never
// shows in the error.
func TestUnknownKeyIsACredentialOutageAndNotShown(t *testing.T) {
	rc := newReceiver(t)
	const wrong = "hcaik_WRONGwrongWRONGwrong0123"
	s := build(t, "honeycomb:?dataset=k8s&writekey="+wrong+"&apihost="+rc.URL, sinks.Env{})
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	if err == nil || !core.IsCredential(err) || !strings.Contains(core.CredentialFix(err), "check writekey") {
		t.Fatalf("got %v", err)
	}
	httpxtest.AssertNoSecret(t, err, wrong)
}

// Whole-request statuses: the shared table, except that Honeycomb documents 403 as "dropped due
// to administrative throttling", which herald retries.
func TestStatusTable(t *testing.T) {
	for _, c := range httpxtest.StatusCases {
		if c.Status == http.StatusForbidden {
			c.Want = httpxtest.Retry
		}
		t.Run(fmt.Sprint(c.Status, c.RetryAfter), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.RetryAfter != "" {
					w.Header().Set("Retry-After", c.RetryAfter)
				}
				w.WriteHeader(c.Status)
				if c.Status >= 300 {
					fmt.Fprintf(w, `{"error":"status %d"}`, c.Status)
				}
			}))
			defer srv.Close()
			s := build(t, "honeycomb:?writekey=k-123456&apihost="+srv.URL, sinks.Env{})
			httpxtest.CheckOutcome(t, c, s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)}))
		})
	}
}

func TestBadParameters(t *testing.T) {
	cases := map[string]string{
		"honeycomb:?writekey=k&apihost=api.honeycomb.io":  `parameter "apihost": "api.honeycomb.io" is not an http(s) base URL`,
		"honeycomb:?writekey=k&dataset=a/b":               `parameter "dataset": "a/b" holds a slash`,
		"honeycomb:?writekey=k&dataset=":                  `parameter "dataset": empty dataset`,
		"honeycomb:?writekey=k&apihost=https://u:p@h.io/": "must not carry credentials",
		"honeycomb:?writekey=k&timeout=0s":                `parameter "timeout"`,
	}
	for v, want := range cases {
		_, err := sinks.Build(2, v, sinks.Env{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #2 (honeycomb): ") {
			t.Errorf("%s: got %v, want %q", v, err, want)
		}
	}
	// kube-eventer ignored the target; herald does too, and says so.
	b, err := sinks.Build(2, "honeycomb:https://api.honeycomb.io?writekey=k", sinks.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "kube-eventer ignored the target") {
		t.Errorf("warnings %q", b.Warnings)
	}
}
