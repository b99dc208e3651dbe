package otlp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/otlp"
	"github.com/heraldproject/herald/sinks/otlp/otlptest"
)

var (
	t0       = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)
	observed = t0.Add(90 * time.Second)
	clock    = t0.Add(time.Hour)
)

func event(reason, ns, kind, name string, count int32) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: name + ".18a4f", Namespace: ns, UID: types.UID("uid-" + name + "-" + reason)},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name, UID: types.UID("obj-" + name),
			APIVersion: "v1", FieldPath: "spec.containers{app}"},
		Reason:         reason,
		Message:        `Back-off restarting "app" 容器 🚑` + "\n" + `\ done`,
		Type:           corev1.EventTypeWarning,
		Count:          count,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
		FirstTimestamp: metav1.NewTime(t0),
		LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(count) * time.Second)),
	}, Observed: observed}
}

func env() sinks.Env {
	return sinks.Env{Ctx: context.Background(), Location: time.UTC, Now: func() time.Time { return clock }}
}

func build(t testing.TB, value string, e sinks.Env) core.Sink {
	t.Helper()
	b, err := sinks.Build(1, value, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

// attrs flattens attributes into a map of plain Go values (string, int64); a key given twice
// fails the test, as the data model forbids it.
func attrs(t testing.TB, kvs []*commonpb.KeyValue) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, kv := range kvs {
		if _, dup := out[kv.Key]; dup {
			t.Errorf("attribute %q given twice", kv.Key)
		}
		switch v := kv.Value.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = v.IntValue
		default:
			t.Errorf("attribute %q has a value of type %T", kv.Key, v)
		}
	}
	return out
}

// records returns every log record the receiver took, in order, checking each request's
// shape: one resource, one scope, no field the schema does not know.
func records(t testing.TB, rc *otlptest.Receiver) ([]*logspb.LogRecord, map[string]any) {
	t.Helper()
	var out []*logspb.LogRecord
	var resource map[string]any
	for i, r := range rc.Requests() {
		if len(r.Req.ProtoReflect().GetUnknown()) != 0 {
			t.Errorf("request %d holds fields the OTLP schema does not know", i)
		}
		if len(r.Req.ResourceLogs) != 1 || len(r.Req.ResourceLogs[0].ScopeLogs) != 1 {
			t.Fatalf("request %d: %d resources, want 1 with 1 scope", i, len(r.Req.ResourceLogs))
		}
		rl := r.Req.ResourceLogs[0]
		resource = attrs(t, rl.Resource.GetAttributes())
		if name := rl.ScopeLogs[0].Scope.GetName(); name != otlp.ScopeName {
			t.Errorf("scope %q, want %q", name, otlp.ScopeName)
		}
		out = append(out, rl.ScopeLogs[0].LogRecords...)
	}
	return out, resource
}

// A batch reaches an OTLP receiver as one gzip-compressed protobuf request whose log records
// carry the event as the OpenTelemetry conventions and the Collector's k8seventsreceiver name
// it: severity from the type, time and observed time, the message as body, k8s.* attributes,
// and a resource with service.name, k8s.cluster.name and the resource= parameters.
func TestBatchArrivesAsOTLPLogRecords(t *testing.T) {
	rc := otlptest.New(t)
	rc.Token = "tok-0123456789"
	e := env()
	e.Cluster = "prod-eu"
	s := build(t, "otlp:"+rc.URL+"?level=Normal&resource=deployment.environment.name=prod&resource=service.namespace=platform&header=Authorization=Bearer%20${OTLP_TOKEN}", func() sinks.Env {
		t.Setenv("OTLP_TOKEN", rc.Token)
		return e
	}())

	pod := event("BackOff", "shop", "Pod", "web-1", 3)
	node := event("NodeNotReady", "", "Node", "node-7", 0)
	node.Type = corev1.EventTypeNormal
	node.Message = "Node node-7 status is now: NodeNotReady"
	node.InvolvedObject.FieldPath, node.InvolvedObject.UID = "", "node-uid-7"
	node.Source = corev1.EventSource{Component: "node-controller"}
	node.FirstTimestamp, node.LastTimestamp = metav1.Time{}, metav1.Time{}
	node.EventTime = metav1.NewMicroTime(t0.Add(250 * time.Millisecond))
	node.Series = &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(t0.Add(5*time.Second + 500*time.Millisecond))}
	node.Observed = time.Time{}

	if err := s.Export(context.Background(), []*core.Event{pod, node}); err != nil {
		t.Fatal(err)
	}
	got := rc.Requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1 for the batch", len(got))
	}
	h := got[0].Header
	if h.Get("Content-Type") != "application/x-protobuf" || h.Get("Content-Encoding") != "gzip" || h.Get("User-Agent") != "herald" {
		t.Errorf("headers %v", h)
	}
	if got[0].Wire >= got[0].Decoded {
		t.Errorf("gzip did not shrink the request: %d bytes on the wire for %d", got[0].Wire, got[0].Decoded)
	}
	recs, resource := records(t, rc)
	wantResource := map[string]any{"service.name": "herald", "k8s.cluster.name": "prod-eu",
		"deployment.environment.name": "prod", "service.namespace": "platform"}
	if !reflect.DeepEqual(resource, wantResource) {
		t.Errorf("resource\n got %v\nwant %v", resource, wantResource)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}

	r := recs[0]
	if r.SeverityNumber != 13 || r.SeverityText != "Warning" {
		t.Errorf("severity %v %q, want WARN (13) Warning", r.SeverityNumber, r.SeverityText)
	}
	if r.TimeUnixNano != uint64(t0.Add(3*time.Second).UnixNano()) {
		t.Errorf("time %v, want the event's lastTimestamp", time.Unix(0, int64(r.TimeUnixNano)).UTC())
	}
	if r.ObservedTimeUnixNano != uint64(observed.UnixNano()) {
		t.Errorf("observed time %v, want when herald saw it", time.Unix(0, int64(r.ObservedTimeUnixNano)).UTC())
	}
	if r.Body.GetStringValue() != pod.Message || r.EventName != "k8s.event" {
		t.Errorf("body %q, event name %q", r.Body.GetStringValue(), r.EventName)
	}
	want := map[string]any{
		"k8s.event.reason": "BackOff", "k8s.event.name": "web-1.18a4f", "k8s.event.uid": "uid-web-1-BackOff",
		"k8s.event.count": int64(3), "k8s.event.start_time": "2026-11-23T18:53:15Z",
		"k8s.event.reporting_controller": "kubelet",
		"k8s.namespace.name":             "shop", "k8s.pod.name": "web-1", "k8s.pod.uid": "obj-web-1",
		"k8s.container.name": "app", "k8s.node.name": "node-7",
		"k8s.object.kind": "Pod", "k8s.object.name": "web-1", "k8s.object.uid": "obj-web-1",
		"k8s.object.api_version": "v1", "k8s.object.fieldpath": "spec.containers{app}",
	}
	if a := attrs(t, r.Attributes); !reflect.DeepEqual(a, want) {
		t.Errorf("pod event attributes\n got %v\nwant %v", a, want)
	}

	r = recs[1]
	if r.SeverityNumber != 9 || r.SeverityText != "Normal" {
		t.Errorf("severity %v %q, want INFO (9) Normal", r.SeverityNumber, r.SeverityText)
	}
	if r.TimeUnixNano != uint64(t0.Add(5*time.Second+500*time.Millisecond).UnixNano()) {
		t.Errorf("time %v, want the series' last observed time", time.Unix(0, int64(r.TimeUnixNano)).UTC())
	}
	if r.ObservedTimeUnixNano != uint64(clock.UnixNano()) {
		t.Errorf("observed time %v, want the sink's clock for an event without one", time.Unix(0, int64(r.ObservedTimeUnixNano)).UTC())
	}
	want = map[string]any{
		"k8s.event.reason": "NodeNotReady", "k8s.event.name": "node-7.18a4f", "k8s.event.uid": "uid-node-7-NodeNotReady",
		"k8s.event.count": int64(4), "k8s.event.start_time": "2026-11-23T18:53:15.25Z",
		"k8s.event.reporting_controller": "node-controller",
		"k8s.node.name":                  "node-7", "k8s.node.uid": "node-uid-7",
		"k8s.object.kind": "Node", "k8s.object.name": "node-7", "k8s.object.uid": "node-uid-7", "k8s.object.api_version": "v1",
	}
	if a := attrs(t, r.Attributes); !reflect.DeepEqual(a, want) {
		t.Errorf("node event attributes\n got %v\nwant %v", a, want)
	}
}

// Each kind the semantic conventions name gets its k8s.<kind>.name (and uid); a custom resource
// of the same kind in another API group does not; a pod restart report carries the container,
// its restart count, last termination and owner; an events.k8s.io/v1 event reported by a kubelet
// names its node from reportingInstance.
func TestKindsRestartsAndReporters(t *testing.T) {
	rc := otlptest.New(t)
	s := build(t, "otlp:"+rc.URL+"?level=Normal&compression=none", env())

	deploy := event("ScalingReplicaSet", "shop", "Deployment", "web", 1)
	deploy.InvolvedObject.APIVersion, deploy.InvolvedObject.FieldPath = "apps/v1", ""
	deploy.Source = corev1.EventSource{}
	deploy.ReportingController, deploy.ReportingInstance, deploy.Action = "deployment-controller", "kcm-1", "Scale"

	crd := event("Synced", "shop", "Deployment", "argo-web", 1)
	crd.InvolvedObject.APIVersion, crd.InvolvedObject.FieldPath = "example.com/v1", ""

	ns := event("Terminating", "", "Namespace", "old-team", 1)
	ns.InvolvedObject.FieldPath, ns.Source = "", corev1.EventSource{}

	v1 := event("Pulled", "shop", "Pod", "api-0", 1)
	v1.Source = corev1.EventSource{}
	v1.ReportingController, v1.ReportingInstance = "kubelet", "node-3"
	v1.InvolvedObject.FieldPath = "spec.initContainers{migrate}"

	restart := event("ContainerRestarted", "shop", "Pod", "web-1-abc", 1)
	restart.InvolvedObject.FieldPath, restart.Source = "", corev1.EventSource{Component: "herald"}
	restart.Restart = &core.PodRestart{Namespace: "shop", Pod: "web-1-abc", Container: "app", Node: "node-9",
		OwnerKind: "ReplicaSet", OwnerName: "web-1", RestartCount: 5, PreviousLog: "panic: boom\n",
		LastState: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}

	if err := s.Export(context.Background(), []*core.Event{deploy, crd, ns, v1, restart}); err != nil {
		t.Fatal(err)
	}
	if h := rc.Requests()[0].Header; h.Get("Content-Encoding") != "" {
		t.Errorf("compression=none sent Content-Encoding %q", h.Get("Content-Encoding"))
	}
	recs, _ := records(t, rc)
	if len(recs) != 5 {
		t.Fatalf("%d records", len(recs))
	}
	checks := []struct {
		name    string
		want    map[string]any
		without []string
	}{
		{"deployment", map[string]any{"k8s.deployment.name": "web", "k8s.deployment.uid": "obj-web", "k8s.namespace.name": "shop",
			"k8s.event.reporting_controller": "deployment-controller", "k8s.event.reporting_instance": "kcm-1", "k8s.event.action": "Scale"},
			[]string{"k8s.node.name", "k8s.container.name"}},
		{"custom resource", map[string]any{"k8s.object.kind": "Deployment", "k8s.object.api_version": "example.com/v1"},
			[]string{"k8s.deployment.name", "k8s.deployment.uid"}},
		{"namespace", map[string]any{"k8s.namespace.name": "old-team", "k8s.object.kind": "Namespace"},
			[]string{"k8s.namespace.uid", "k8s.node.name"}},
		{"events.k8s.io kubelet", map[string]any{"k8s.node.name": "node-3", "k8s.container.name": "migrate", "k8s.pod.name": "api-0"}, nil},
		{"restart", map[string]any{"k8s.container.name": "app", "k8s.container.restart_count": int64(5),
			"k8s.container.status.last_terminated_reason": "OOMKilled", "herald.restart.exit_code": int64(137),
			"herald.restart.previous_log": "panic: boom\n", "k8s.node.name": "node-9", "k8s.replicaset.name": "web-1",
			"k8s.pod.name": "web-1-abc", "k8s.event.reporting_controller": "herald"}, nil},
	}
	for i, c := range checks {
		a := attrs(t, recs[i].Attributes)
		for k, v := range c.want {
			if a[k] != v {
				t.Errorf("%s: %s = %v (%T), want %v", c.name, k, a[k], a[k], v)
			}
		}
		for _, k := range c.without {
			if _, ok := a[k]; ok {
				t.Errorf("%s: has %s = %v", c.name, k, a[k])
			}
		}
	}
}

// body_template renders the body; a template that fails on one event rejects that event only.
func TestBodyTemplate(t *testing.T) {
	rc := otlptest.New(t)
	s := build(t, "otlp:"+rc.URL+"?level=Normal&body_template="+
		"%7B%7B%20.InvolvedObject.Kind%20%7D%7D%2F%7B%7B%20.InvolvedObject.Name%20%7D%7D%3A%20%7B%7B%20.Reason%20%7D%7D%7B%7B%20if%20eq%20.Reason%20%22Bad%22%20%7D%7D%7B%7B%20index%20.Nope%20%7D%7D%7B%7B%20end%20%7D%7D", env())
	good, bad := event("BackOff", "shop", "Pod", "web-1", 1), event("Bad", "shop", "Pod", "web-2", 1)
	batch := []*core.Event{good, bad}
	err := s.Export(context.Background(), batch)
	retry, _, rejected, rejectErr := core.Fates(err, batch)
	if len(retry) != 0 || len(rejected) != 1 || rejected[0] != bad || !strings.Contains(rejectErr.Error(), "body template") {
		t.Fatalf("retry %d, rejected %v: %v", len(retry), rejected, err)
	}
	recs, _ := records(t, rc)
	if len(recs) != 1 || recs[0].Body.GetStringValue() != "Pod/web-1: BackOff" {
		t.Fatalf("records %v", recs)
	}
}

// The OTLP/HTTP specification's table, not httpx's: 429, 502, 503 and 504 are retried, after
// Retry-After or the Status' RetryInfo; every other 4xx and 5xx is permanent (500 and 408
// included); 401 and 403 are refused credentials (outages, never verdicts). Each error quotes
// the receiver's Status message.
func TestStatusTable(t *testing.T) {
	cases := []struct {
		reply otlptest.Reply
		want  string
		wait  time.Duration
	}{
		{otlptest.Reply{Status: 400, Message: "log record 0: invalid body"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 404, Message: "no such path"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 408, Message: "slow"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 413, Message: "request body too large"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 415, Message: "unsupported"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 500, Message: "permanent error in the pipeline"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 501, Message: "not implemented"}, httpxtest.Permanent, 0},
		{otlptest.Reply{Status: 401, Message: "missing token"}, httpxtest.Credential, 0},
		{otlptest.Reply{Status: 403, Message: "tenant not allowed"}, httpxtest.Credential, 0},
		{otlptest.Reply{Status: 429, Message: "too many requests"}, httpxtest.Retry, 0},
		{otlptest.Reply{Status: 429, Message: "slow down", RetryAfter: "7"}, httpxtest.Retry, 7 * time.Second},
		{otlptest.Reply{Status: 502, Message: "bad gateway"}, httpxtest.Retry, 0},
		{otlptest.Reply{Status: 503, Message: "memory limiter", RetryDelay: 1500 * time.Millisecond}, httpxtest.Retry, 1500 * time.Millisecond},
		{otlptest.Reply{Status: 503, Message: "both", RetryAfter: "120", RetryDelay: 5 * time.Second}, httpxtest.Retry, 2 * time.Minute},
		{otlptest.Reply{Status: 504, Message: "gateway timeout"}, httpxtest.Retry, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.reply.Status, c.reply.RetryAfter, c.reply.RetryDelay), func(t *testing.T) {
			rc := otlptest.New(t)
			rc.Script(c.reply)
			s := build(t, "otlp:"+rc.URL+"?level=Normal", env())
			err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
			if n := rc.Hits(); n != 1 {
				t.Errorf("%d requests, want 1 (the pipeline retries)", n)
			}
			httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: c.reply.Status, Want: c.want, Wait: c.wait}, err)
			if !strings.Contains(err.Error(), c.reply.Message) {
				t.Errorf("the error %q does not quote the receiver's message %q", err, c.reply.Message)
			}
		})
	}
}

// A reply that is not the receiver's Status (a proxy's HTML page) is quoted as text; a redirect
// is not followed and names where it points.
func TestProxyRepliesAndRedirects(t *testing.T) {
	rc := otlptest.New(t)
	rc.Script(otlptest.Reply{Status: 502, Raw: []byte("<html><body>\n502 Bad Gateway (nginx)</body></html>"), RawType: "text/html"})
	s := build(t, "otlp:"+rc.URL+"?level=Normal", env())
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 502, Want: httpxtest.Retry}, err)
	if !strings.Contains(err.Error(), "<html><body> 502 Bad Gateway (nginx)</body></html>") {
		t.Errorf("error %q", err)
	}

	redirect := httptestRedirect(t, "http://elsewhere.example:4318/v1/logs")
	s = build(t, "otlp:"+redirect+"?level=Normal", env())
	err = s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "redirects to http://elsewhere.example:4318") {
		t.Errorf("redirect: %v", err)
	}
}

// A partial success counts rejected_log_records of the request's events as rejected, with the
// receiver's message, and the rest as delivered; nothing is retried. A partial success with
// nothing rejected is a warning: everything was delivered.
func TestPartialSuccess(t *testing.T) {
	rc := otlptest.New(t)
	rc.Script(otlptest.Reply{Rejected: 2, Message: "2 log records had an invalid severity"}, otlptest.Reply{Message: "attribute values over 4 KiB were truncated"})
	s := build(t, "otlp:"+rc.URL+"?level=Normal", env())
	var batch []*core.Event
	for i := range 5 {
		batch = append(batch, event("BackOff", "a", "Pod", fmt.Sprintf("p%d", i), 1))
	}
	err := s.Export(context.Background(), batch)
	retry, _, rejected, rejectErr := core.Fates(err, batch)
	if len(retry) != 0 || len(rejected) != 2 {
		t.Fatalf("retry %d, rejected %d; want 0 and 2: %v", len(retry), len(rejected), err)
	}
	for _, want := range []string{"rejected 2 of its 5 log records", "2 log records had an invalid severity", "OTLP does not say which"} {
		if !strings.Contains(rejectErr.Error(), want) {
			t.Errorf("error %q lacks %q", rejectErr, want)
		}
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Errorf("a warning with nothing rejected: %v", err)
	}
	// A receiver that says it rejected more than it got: no more than the request is rejected.
	rc.Script(otlptest.Reply{Rejected: 99, Message: "all bad"})
	err = s.Export(context.Background(), batch[:2])
	if !core.IsPermanent(err) {
		t.Errorf("99 of 2 rejected: %v", err)
	}
	if len(rc.Requests()) != 3 {
		t.Errorf("the receiver took %d requests, want 3", len(rc.Requests()))
	}
}

// A batch over MaxRequestBytes is split into requests that each stay within it, sent in order;
// a record larger than a request may hold is rejected alone; a request refused for good does not
// stop the next one.
func TestLargeBatchIsSplit(t *testing.T) {
	rc := otlptest.New(t)
	s := build(t, "otlp:"+rc.URL+"?level=Normal", env())
	var batch []*core.Event
	for i := range 400 {
		e := event("BackOff", "shop", "Pod", fmt.Sprintf("web-%d", i), 1)
		e.Message = fmt.Sprintf("%d %s", i, strings.Repeat("x", 20<<10))
		batch = append(batch, e)
	}
	huge := event("Huge", "shop", "Pod", "huge", 1)
	huge.Message = strings.Repeat("y", otlp.MaxRequestBytes)
	batch = append(batch[:200], append([]*core.Event{huge}, batch[200:]...)...)
	rc.Script(otlptest.Reply{Status: 400, Message: "first request refused"})

	err := s.Export(context.Background(), batch)
	retry, _, rejected, _ := core.Fates(err, batch)
	if len(retry) != 0 {
		t.Fatalf("%d to retry: %v", len(retry), err)
	}
	got := rc.Requests()
	if len(got) < 2 {
		t.Fatalf("%d requests taken after the first was refused", len(got))
	}
	var delivered int
	for _, r := range got {
		if r.Decoded > otlp.MaxRequestBytes {
			t.Errorf("a request of %d bytes", r.Decoded)
		}
		delivered += len(r.Req.ResourceLogs[0].ScopeLogs[0].LogRecords)
	}
	if delivered+len(rejected) != len(batch) || !containsEvent(rejected, huge) || containsEvent(rejected, batch[len(batch)-1]) {
		t.Errorf("delivered %d, rejected %d of %d", delivered, len(rejected), len(batch))
	}
	recs, _ := records(t, rc)
	last := recs[len(recs)-1].Body.GetStringValue()
	if !strings.HasPrefix(last, "399 ") {
		t.Errorf("the last record is %.10q, want event 399 (order kept)", last)
	}
}

func containsEvent(list []*core.Event, e *core.Event) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// No reply at all (nothing listens) is retried, and says so without the URL's path or password.
func TestUnreachableReceiverIsRetried(t *testing.T) {
	rc := otlptest.New(t)
	url := rc.URL
	rc.Close()
	s := build(t, "otlp:http://herald:pa55-w0rd-xyz@"+strings.TrimPrefix(url, "http://")+"/ingest?level=Normal", env())
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	if err == nil || core.IsPermanent(err) || core.IsCredential(err) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
	httpxtest.AssertNoSecret(t, err, "pa55-w0rd-xyz", "/ingest")
}

// A refused token is a credential outage, and neither the token nor the Authorization header
// the receiver echoes shows in the error.
func TestRefusedTokenIsAnOutageAndNotShown(t *testing.T) {
	rc := otlptest.New(t)
	rc.Token = "the-right-token-123"
	const wrong = "wrong-token-abcdef-987"
	s := build(t, "otlp:"+rc.URL+"?level=Normal&header=Authorization=Bearer%20"+wrong, env())
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	if !core.IsCredential(err) || !strings.Contains(core.CredentialFix(err), "header=Authorization") {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "missing or invalid bearer token") {
		t.Errorf("the receiver's message is not quoted: %v", err)
	}
	httpxtest.AssertNoSecret(t, err, wrong)
}

// herald check shows the request: the URL, the headers with their values redacted, and the
// record as OTLP/JSON.
func TestPreview(t *testing.T) {
	e := env()
	e.CheckOnly = true
	b, err := sinks.Build(3, "otlp:https://otlp.example.com:4318/otlp?header=X-Scope-OrgID=tenant-secret-1&header=Accept-Language=en", e)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "shop", "Pod", "web-1", 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST https://otlp.example.com:4318/otlp/v1/logs", "Content-Encoding: gzip", "X-Scope-Orgid: <redacted>",
		"Accept-Language: en", `"k8s.event.reason"`, `"severityNumber": 13`, `"eventName": "k8s.event"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tenant-secret-1") || strings.Contains(b.Redacted, "tenant-secret-1") {
		t.Errorf("a header value shows:\n%s\n%s", out, b.Redacted)
	}
	for target, want := range map[string]string{
		"http://collector:4318":           "POST http://collector:4318/v1/logs\n",
		"https://h.example/a%2Fb/":        "POST https://h.example/a%2Fb/v1/logs\n",
		"https://h.example/otlp/v1/logs/": "POST https://h.example/otlp/v1/logs\n",
		"https://h.example:443/x/v1/logs": "POST https://h.example:443/x/v1/logs\n",
	} {
		b, err := sinks.Build(1, "otlp:"+target, e)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := b.Sink.(sinks.Previewer).Preview(event("BackOff", "shop", "Pod", "web-1", 2))
		if !strings.HasPrefix(out, want) {
			t.Errorf("%s: preview starts %.60q, want %q", target, out, want)
		}
		_ = b.Sink.Close()
	}
}

// The target is the receiver's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: /v1/logs is added unless
// the path ends with it. HOST:PORT alone, and other schemes, are refused with the fix.
func TestEndpoint(t *testing.T) {
	rc := otlptest.New(t)
	for _, target := range []string{rc.URL, rc.URL + "/", rc.URL + "/v1/logs", rc.URL + "/v1/logs/"} {
		rc.SetPath("/v1/logs")
		s := build(t, "otlp:"+target+"?level=Normal", env())
		if err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)}); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
	rc.SetPath("/otlp/v1/logs")
	s := build(t, "otlp:"+rc.URL+"/otlp?level=Normal", env())
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)}); err != nil {
		t.Errorf("base path /otlp: %v", err)
	}
	rc.SetPath("/elsewhere")
	err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)})
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "check the receiver URL") {
		t.Errorf("404: %v", err)
	}

	refused := map[string]string{
		"otlp:otel-collector:4318":      "HOST:PORT without http:// or https://",
		"otlp://otel-collector:4318":    "the target has no scheme",
		"otlp:grpc://otel-collector:43": "OTLP/gRPC is not supported",
		"otlp:http://":                  "no host",
		"otlp:?level=Normal":            "no receiver URL",
	}
	for v, want := range refused {
		_, err := sinks.Build(2, v, env())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #2 (otlp): ") {
			t.Errorf("%s: got %v, want %q", v, err, want)
		}
	}
}

func TestBadParameters(t *testing.T) {
	cases := map[string]string{
		"compression=zstd":                      `parameter "compression": "zstd" is not allowed; write one of gzip, none`,
		"header=Content-Type=application/json":  `parameter "header": header #1: Content-Type is set by the sink`,
		"header=Content-Encoding=br":            `Content-Encoding is set by the sink`,
		"header=NoValue":                        `header #1 has no '=' between name and value`,
		"header=Bad%20Name=x":                   `"Bad Name" is not a valid header name`,
		"resource=noequals":                     `parameter "resource": "noequals" has no KEY=VALUE`,
		"resource=a=1&resource=a=2":             `"a" is given twice`,
		"timeout=0s":                            `parameter "timeout"`,
		"levl=Normal":                           `unknown parameter "levl"; did you mean "level"?`,
		"body_template=%7B%7B%20.Nope%20%7D%7D": `body_template`,
		"redirects=always":                      `parameter "redirects"`,
		"header=X-Token=a%0Ab":                  `control characters`,
		"body_template_timeout=abc":             `parameter "body_template_timeout": "abc" is not a duration`,
	}
	for q, want := range cases {
		_, err := sinks.Build(2, "otlp:http://127.0.0.1:4318?"+q, env())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #2 (otlp): ") {
			t.Errorf("%s: got %v, want %q", q, err, want)
		}
	}
	// service.name and k8s.cluster.name can be given: the user's win.
	rc := otlptest.New(t)
	e := env()
	e.Cluster = "from-flag"
	s := build(t, "otlp:"+rc.URL+"?level=Normal&resource=service.name=k8s-events&resource=k8s.cluster.name=from-param", e)
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)}); err != nil {
		t.Fatal(err)
	}
	_, resource := records(t, rc)
	if want := map[string]any{"service.name": "k8s-events", "k8s.cluster.name": "from-param"}; !reflect.DeepEqual(resource, want) {
		t.Errorf("resource %v, want %v", resource, want)
	}
}

// The receiver's reply drives the outcome, never the sink's guess: a 200 whose body is not an
// ExportLogsServiceResponse (a proxy's empty 200) is full success.
func TestEmptySuccessReply(t *testing.T) {
	rc := otlptest.New(t)
	rc.Script(otlptest.Reply{Status: 200, Raw: []byte{}, RawType: "text/plain"})
	s := build(t, "otlp:"+rc.URL+"?level=Normal", env())
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "a", "Pod", "p", 1)}); err != nil {
		t.Fatal(err)
	}
}

func httptestRedirect(t *testing.T, to string) string {
	t.Helper()
	srv := httptest.NewServer(http.RedirectHandler(to, http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	return srv.URL
}
