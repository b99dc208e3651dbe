package sls_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	slssdk "github.com/aliyun/aliyun-log-go-sdk"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/sls"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func event(reason, kind, name string, i int) *core.Event {
	ns := "shop"
	if kind == "Node" {
		ns = ""
	}
	return &core.Event{
		Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", name, i), Namespace: ns, UID: types.UID(fmt.Sprintf("ev-uid-%d", i))},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name, UID: types.UID("obj-uid-" + name)},
			Reason:         reason,
			Message:        fmt.Sprintf("Back-off restarting failed container \"app\" #%d\n容器", i),
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-3"},
			FirstTimestamp: metav1.NewTime(t0.Add(-time.Hour)),
			LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(i) * time.Second)),
			Count:          int32(i + 1),
			Type:           corev1.EventTypeWarning,
		},
	}
}

// sinkValue points a sink at rc with rc's credentials.
func sinkValue(rc *receiver, extra string) string {
	return "sls:https://sls.aliyuncs.com?project=" + rc.project + "&logStore=" + rc.logstore + "&regionId=" + rc.region +
		"&accessKeyId=" + rc.akID + "&accessKeySecret=" + rc.akSecret + "&endpoint=http://" + rc.endpointHost() + extra
}

func build(t testing.TB, v string) core.Sink {
	t.Helper()
	b, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background()})
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

func TestBatchWrittenReadBackAndReplayed(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, sinkValue(rc, "&topic=k8s-cluster-dev&label=ClusterId,c1234&label=RegionId,cn-hangzhou"))
	batch := []*core.Event{event("BackOff", "Pod", "web-1", 0), event("NodeNotReady", "Node", "node-3", 1), event("Failed", "Pod", "web-2", 2)}
	before := &core.Event{Event: batch[0].DeepCopy()}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	groups := rc.accepted()
	if len(groups) != 1 || len(groups[0].Logs) != 3 {
		t.Fatalf("receiver accepted %d log groups, want one with 3 logs", len(groups))
	}
	if groups[0].GetTopic() != "k8s-cluster-dev" {
		t.Errorf("topic %q", groups[0].GetTopic())
	}
	if rc.heads[0].Get("x-log-compresstype") != "lz4" {
		t.Errorf("x-log-compresstype %q, want lz4 (the SDK's default)", rc.heads[0].Get("x-log-compresstype"))
	}
	for i, l := range groups[0].Logs {
		e := batch[i]
		got, keys := contents(l)
		full, _ := json.MarshalIndent(e.Event, "", " ")
		wantKeys := []string{"eventId", "hostname", "level", "pod_id", "pod_name", "ClusterId", "RegionId"}
		if e.InvolvedObject.Kind != "Pod" {
			wantKeys = []string{"eventId", "hostname", "level", "ClusterId", "RegionId"}
		}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("log %d keys %v, want kube-eventer's %v", i, keys, wantKeys)
		}
		if got["eventId"] != string(full) || got["hostname"] != "node-3" || got["level"] != "Warning" || got["ClusterId"] != "c1234" {
			t.Errorf("log %d contents %v", i, got)
		}
		if e.InvolvedObject.Kind == "Pod" && (got["pod_id"] != "obj-uid-"+e.InvolvedObject.Name || got["pod_name"] != e.InvolvedObject.Name) {
			t.Errorf("log %d pod fields %v", i, got)
		}
		var back corev1.Event
		if err := json.Unmarshal([]byte(got["eventId"]), &back); err != nil || back.Message != e.Message || back.Count != e.Count {
			t.Errorf("log %d eventId does not decode to the event: %v", i, err)
		}
		if l.GetTime() != uint32(e.LastTimestamp.Unix()) {
			t.Errorf("log %d time %d, want the event's lastTimestamp %d", i, l.GetTime(), e.LastTimestamp.Unix())
		}
	}
	if !equalEvent(batch[0], before) {
		t.Error("Export changed an event")
	}

	// SLS has no idempotency key: the same batch again is appended again, identical.
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	groups = rc.accepted()
	if len(groups) != 2 {
		t.Fatalf("after a replay the receiver holds %d log groups, want 2 (SLS appends)", len(groups))
	}
	for i := range groups[0].Logs {
		a, _ := contents(groups[0].Logs[i])
		b, _ := contents(groups[1].Logs[i])
		if a["eventId"] != b["eventId"] || groups[0].Logs[i].GetTime() != groups[1].Logs[i].GetTime() {
			t.Errorf("replayed log %d differs", i)
		}
	}
}

func equalEvent(a *core.Event, b *core.Event) bool {
	x, _ := json.Marshal(a.Event)
	y, _ := json.Marshal(b.Event)
	return string(x) == string(y)
}

// The receiver accepts the SDK's own PutLogs, signature and all: it decodes what the SDK
// sends, so it is a fair judge of the sink's request, which carries the same headers.
func TestReceiverAcceptsTheSDKsPutLogs(t *testing.T) {
	rc := newReceiver(t)
	client := &slssdk.Client{
		Endpoint: "http://" + rc.endpointHost(), AccessKeyID: rc.akID, AccessKeySecret: rc.akSecret,
		AuthVersion: slssdk.AuthV4, Region: rc.region, RetryTimeOut: 5 * time.Second,
	}
	k, v := "eventId", "from the SDK"
	now := uint32(t0.Unix())
	lg := &slssdk.LogGroup{Topic: &v, Logs: []*slssdk.Log{{Time: &now, Contents: []*slssdk.LogContent{{Key: &k, Value: &v}}}}}
	if err := client.PutLogs(rc.project, rc.logstore, lg); err != nil {
		t.Fatalf("the SDK's PutLogs: %v", err)
	}
	s := build(t, sinkValue(rc, ""))
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)}); err != nil {
		t.Fatal(err)
	}
	groups := rc.accepted()
	if len(groups) != 2 || groups[0].GetTopic() != "from the SDK" {
		t.Fatalf("receiver accepted %d groups", len(groups))
	}
	sdk, herald := headerNames(rc.heads[0]), headerNames(rc.heads[1])
	for _, h := range sdk {
		if strings.HasPrefix(h, "x-log-") || h == "authorization" || h == "content-type" {
			if !slices.Contains(herald, h) {
				t.Errorf("the SDK sends %s, the sink does not (sink sends %v)", h, herald)
			}
		}
	}
}

func TestBigBatchIsSplitAndPartialFailure(t *testing.T) {
	rc := newReceiver(t)
	s := build(t, sinkValue(rc, ""))
	var batch []*core.Event
	for i := range 5000 {
		batch = append(batch, event("BackOff", "Pod", "web-1", i))
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	groups := rc.accepted()
	total, prev := 0, -1
	for g, lg := range groups {
		if len(lg.Logs) > 4096 || rc.raw[g] > 3<<20 {
			t.Errorf("request %d: %d logs, %d bytes", g, len(lg.Logs), rc.raw[g])
		}
		for _, l := range lg.Logs {
			c, _ := contents(l)
			var e corev1.Event
			_ = json.Unmarshal([]byte(c["eventId"]), &e)
			if int(e.Count)-1 != prev+1 {
				t.Fatalf("log %d out of order (count %d after %d)", total, e.Count, prev+1)
			}
			prev++
			total++
		}
	}
	if total != 5000 || len(groups) < 2 {
		t.Fatalf("%d logs in %d requests, want 5000 in at least 2", total, len(groups))
	}

	// The second request fails with a 503: its events and the rest come back, retryable.
	rc2 := newReceiver(t)
	rc2.fail = func(n int) (int, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, "ServerBusy"
		}
		return 0, ""
	}
	s2 := build(t, sinkValue(rc2, ""))
	err := s2.Export(context.Background(), batch)
	var pe *core.PartialError
	if !errors.As(err, &pe) || core.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable *core.PartialError", err)
	}
	first := len(rc2.accepted()[0].Logs)
	if !slices.Equal(pe.Failed, batch[first:]) {
		t.Fatalf("Failed holds %d events, want the %d after the first request", len(pe.Failed), 5000-first)
	}
	if !strings.Contains(err.Error(), "error code ServerBusy") {
		t.Errorf("error %q does not name SLS's errorCode", err)
	}
}

func TestSLSErrorCodes(t *testing.T) {
	cases := []struct {
		status   int
		code     string
		want     string // retry or permanent
		contains string
	}{
		{403, "WriteQuotaExceed", httpxtest.Retry, "WriteQuotaExceed"},
		{403, "ShardWriteQuotaExceed", httpxtest.Retry, "ShardWriteQuotaExceed"},
		{429, "ExceedQPSLimit", httpxtest.Retry, "ExceedQPSLimit"},
		{500, "InternalServerError", httpxtest.Retry, "InternalServerError"},
		{401, "Unauthorized", httpxtest.Credential, "check accessKeyId and accessKeySecret"},
		{403, "Unauthorized", httpxtest.Credential, "log:PostLogStoreLogs"},
		{401, "InvalidAccessKeyId", httpxtest.Credential, "check accessKeyId"},
		{400, "RequestTimeTooSkewed", httpxtest.Permanent, "clock"},
	}
	for _, tc := range cases {
		rc := newReceiver(t)
		rc.fail = func(int) (int, string) { return tc.status, tc.code }
		err := build(t, sinkValue(rc, "")).Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
		if tc.want == httpxtest.Retry && (err == nil || core.IsPermanent(err)) {
			t.Errorf("%d %s: got %v, want retryable", tc.status, tc.code, err)
		}
		if tc.want == httpxtest.Permanent && (!core.IsPermanent(err) || core.IsCredential(err)) {
			t.Errorf("%d %s: got %v, want permanent", tc.status, tc.code, err)
		}
		if tc.want == httpxtest.Credential && (!core.IsCredential(err) || core.IsPermanent(err)) {
			t.Errorf("%d %s: got %v, want a refused credential", tc.status, tc.code, err)
		}
		if tc.want == httpxtest.Retry && core.IsCredential(err) {
			t.Errorf("%d %s: got %v, a throttle is not a refused credential", tc.status, tc.code, err)
		}
		if err != nil && !strings.Contains(err.Error(), tc.contains) {
			t.Errorf("%d %s: error %q lacks %q", tc.status, tc.code, err, tc.contains)
		}
	}

	// A wrong project or logstore is found by the receiver itself.
	rc := newReceiver(t)
	for swap, want := range map[[2]string]string{{"project=" + rc.project, "project=other-project"}: "ProjectNotExist", {"logStore=" + rc.logstore, "logStore=other"}: "LogStoreNotExist"} {
		err := build(t, strings.Replace(sinkValue(rc, ""), swap[0], swap[1], 1)).Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
		if !core.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want permanent %s", swap[1], err, want)
		}
	}
}

func TestWrongSecretIsRefusedAndNotLeaked(t *testing.T) {
	rc := newReceiver(t)
	v := strings.Replace(sinkValue(rc, ""), rc.akSecret, "wrongSECRET0123456789abcdef", 1)
	err := build(t, v).Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "SignatureNotMatch") {
		t.Fatalf("got %v, want a refused credential SignatureNotMatch", err)
	}
	// The receiver's message quotes the expected Authorization, which names the AccessKey ID.
	httpxtest.AssertNoSecret(t, err, "wrongSECRET0123456789abcdef", rc.akID)
}

func TestStatusTable(t *testing.T) {
	rc := newReceiver(t) // for its credentials only
	httpxtest.CheckStatuses(t, func(t *testing.T, u string) error {
		v := strings.Replace(sinkValue(rc, ""), "endpoint=http://"+rc.endpointHost(), "endpoint="+u, 1)
		return build(t, v).Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)})
	})
}

func TestConfig(t *testing.T) {
	base := "sls:https://sls.aliyuncs.com?project=k8s-log-c1234&logStore=k8s-event&accessKeyId=AKID123456&accessKeySecret=SECRET123456"
	errs := map[string]string{
		"sls:x?logStore=k8s-event&regionId=cn-hangzhou&accessKeyId=a&accessKeySecret=b": `parameter "project": missing`,
		"sls:x?project=k8s-log&regionId=cn-hangzhou&accessKeyId=a&accessKeySecret=b":    `parameter "logStore": missing`,
		base + "&regionId=Hangzhou":                              `"Hangzhou" is not a region id`,
		base + "&regionId=cn-hangzhou&label=ClusterId":           `parameter "label": "ClusterId" is not KEY,VALUE`,
		base + "&regionId=cn-hangzhou&label=a,b,c":               `"a,b,c" is not KEY,VALUE`,
		base + "&regionId=cn-hangzhou&endpoint=ftp://x":          `parameter "endpoint"`,
		base + "&regionId=cn-hangzhou&internal=maybe":            `parameter "internal"`,
		base + "&regionId=cn-hangzhou&metadata_endpoint=ftp://x": `parameter "metadata_endpoint"`,
	}
	for v, want := range errs {
		_, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background()})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #1 (sls): ") {
			t.Errorf("%s: got %v, want an error naming the sink and containing %q", v, err, want)
		}
		if err != nil {
			httpxtest.AssertNoSecret(t, err, "SECRET123456")
		}
	}

	// Endpoints: kube-eventer's, from region and internal; or endpoint=, with the region read
	// from its host name.
	for v, want := range map[string]string{
		base + "&regionId=cn-hangzhou":                                    "https://k8s-log-c1234.cn-hangzhou-intranet.log.aliyuncs.com/logstores/k8s-event",
		base + "&regionId=cn-hangzhou&internal=false":                     "https://k8s-log-c1234.cn-hangzhou.log.aliyuncs.com/logstores/k8s-event",
		base + "&endpoint=ap-southeast-1.log.aliyuncs.com":                "https://k8s-log-c1234.ap-southeast-1.log.aliyuncs.com/logstores/k8s-event",
		base + "&endpoint=http://cn-beijing-intranet.log.aliyuncs.com:80": "http://k8s-log-c1234.cn-beijing-intranet.log.aliyuncs.com:80/logstores/k8s-event",
	} {
		b, err := sinks.Build(1, v, sinks.Env{Ctx: context.Background(), CheckOnly: true})
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "Pod", "web-1", 0))
		_ = b.Sink.Close()
		if err != nil || !strings.Contains(out, "PutLogs "+want) {
			t.Errorf("%s: preview %q, want PutLogs %s", v, out, want)
		}
		for _, secret := range []string{"SECRET123456", "AKID123456"} {
			if strings.Contains(b.Redacted, secret) || strings.Contains(out, secret) {
				t.Errorf("%s: %q shown in the logged value or the preview", v, secret)
			}
		}
	}
}

// Credentials may come from kube-eventer's environment variables.
func TestCredentialsFromEnvironment(t *testing.T) {
	rc := newReceiver(t)
	t.Setenv("AccessKeyId", rc.akID)
	t.Setenv("AccessKeySecret", rc.akSecret)
	t.Setenv("RegionId", rc.region)
	s := build(t, "sls:x?project="+rc.project+"&logStore="+rc.logstore+"&endpoint=http://"+rc.endpointHost())
	if err := s.Export(context.Background(), []*core.Event{event("BackOff", "Pod", "web-1", 0)}); err != nil {
		t.Fatal(err)
	}
	if len(rc.accepted()) != 1 {
		t.Fatal("nothing written")
	}
}

func TestPreview(t *testing.T) {
	b, err := sinks.Build(1, "sls:x?project=k8s-log-c1234&logStore=k8s-event&regionId=cn-hangzhou&accessKeyId=a&accessKeySecret=b&label=ClusterId,c1234", sinks.Env{Ctx: context.Background(), CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	out, err := b.Sink.(sinks.Previewer).Preview(event("BackOff", "Pod", "web-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one log at 2026-11-23T18:53:15Z", "eventId: {", `"reason": "BackOff"`, "hostname: node-3", "level: Warning", "pod_name: web-1", "ClusterId: c1234"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
}
