package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/slim/otlp/logs/v1"

	"github.com/heraldproject/herald/sinks/otlp/otlptest"
	"github.com/heraldproject/herald/test/harness"
)

// TestOTLPExportsLogRecords runs herald with an otlp sink against the real API server and an
// OTLP/HTTP receiver that reads requests as the OpenTelemetry Collector does (gzip, protobuf,
// bearer token): every new event of the namespace arrives once, as a log record with the
// event's severity, times, message and Kubernetes attributes, under a resource that names
// herald, the cluster and the resource= given.
func TestOTLPExportsLogRecords(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "otlp")
	before := createEvent(t, client, ns, "before-start", "Warning", "BackOff", "old news")

	rc := otlptest.New(t)
	rc.Token = "e2e-otlp-token-0123456789"
	sink := fmt.Sprintf("otlp:%s?level=Normal&namespaces=%s&resource=deployment.environment.name=e2e&header=Authorization=Bearer%%20${OTLP_TOKEN}", rc.URL, ns)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{sink},
		Args: []string{"--cluster-name=e2e-cluster"}, Env: []string{"OTLP_TOKEN=" + rc.Token}})
	start := time.Now()
	t.Logf("herald ready")

	messages := map[string]string{ // event name -> message
		"warn-0":   `Back-off restarting failed container "app" in pod "web-0"`,
		"warn-1":   "容器重启：内存不足 (OOMKilled) 🚨\nline two",
		"normal-0": `Successfully pulled image "nginx:1.27"`,
	}
	types := map[string]string{"warn-0": "Warning", "warn-1": "Warning", "normal-0": "Normal"}
	for _, name := range []string{"warn-0", "warn-1", "normal-0"} {
		reason := map[string]string{"Warning": "BackOff", "Normal": "Pulled"}[types[name]]
		createEvent(t, client, ns, name, types[name], reason, messages[name])
	}
	createEvent(t, client, ns, "sentinel", "Normal", "Done", "sentinel")
	messages["sentinel"], types["sentinel"] = "sentinel", "Normal"

	// The source and the sink keep order: once the sentinel arrives, everything before it has.
	var records []*logspb.LogRecord
	var resource map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		records, resource = nil, nil
		for _, r := range rc.Requests() {
			if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/x-protobuf" {
				t.Errorf("headers %v", r.Header)
			}
			for _, rl := range r.Req.ResourceLogs {
				resource = flatten(t, rl.Resource.GetAttributes())
				for _, sl := range rl.ScopeLogs {
					records = append(records, sl.LogRecords...)
				}
			}
		}
		if len(records) > 0 && records[len(records)-1].Body.GetStringValue() == "sentinel" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(records) == 0 || records[len(records)-1].Body.GetStringValue() != "sentinel" {
		t.Fatalf("the sentinel did not arrive within 60 s; %d records\n%s", len(records), h.Logs())
	}

	t.Logf("the sentinel arrived after %s", time.Since(start).Round(time.Millisecond))
	want := map[string]any{"service.name": "herald", "k8s.cluster.name": "e2e-cluster", "deployment.environment.name": "e2e"}
	if fmt.Sprint(resource) != fmt.Sprint(want) {
		t.Errorf("resource %v, want %v", resource, want)
	}
	seen := map[string]int{}
	for _, r := range records {
		a := flatten(t, r.Attributes)
		name, _ := a["k8s.event.name"].(string)
		seen[name]++
		typ := types[name]
		if r.Body.GetStringValue() != messages[name] {
			t.Errorf("%s: body %q, want %q", name, r.Body.GetStringValue(), messages[name])
		}
		if r.SeverityText != typ || (typ == "Warning") != (r.SeverityNumber == 13) || (typ == "Normal") != (r.SeverityNumber == 9) {
			t.Errorf("%s: severity %d %q for a %s event", name, r.SeverityNumber, r.SeverityText, typ)
		}
		for k, v := range map[string]any{"k8s.namespace.name": ns, "k8s.pod.name": "pod-" + name, "k8s.node.name": "node-1",
			"k8s.event.count": int64(1), "k8s.event.reporting_controller": "kubelet", "k8s.object.kind": "Pod"} {
			if a[k] != v {
				t.Errorf("%s: %s = %v, want %v", name, k, a[k], v)
			}
		}
		if uid, _ := a["k8s.event.uid"].(string); uid == "" {
			t.Errorf("%s: no k8s.event.uid", name)
		}
		// createEvent stamps lastTimestamp with the second it ran; herald saw it after.
		at, seenAt := time.Unix(0, int64(r.TimeUnixNano)), time.Unix(0, int64(r.ObservedTimeUnixNano))
		if at.Before(start.Add(-2*time.Second)) || at.After(time.Now()) || seenAt.Before(at) || seenAt.After(time.Now()) {
			t.Errorf("%s: time %s, observed %s (test started %s)", name, at, seenAt, start)
		}
	}
	for name := range messages {
		if seen[name] != 1 {
			t.Errorf("event %s arrived %d times, want once", name, seen[name])
		}
	}
	if seen[before.Name] != 0 {
		t.Errorf("an event from before herald started was sent")
	}
	if len(seen) != len(messages) {
		t.Errorf("records for %v, want %d events", seen, len(messages))
	}
	if n := h.WaitMetric(float64(len(records)), "herald_sink_events_total", `outcome="delivered"`); int(n) != len(records) {
		t.Errorf("herald_sink_events_total{outcome=delivered} = %v, the receiver took %d records", n, len(records))
	}
	if strings.Contains(h.Logs(), rc.Token) {
		t.Error("the token shows in herald's log")
	}
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
}

// flatten reads string and int attributes into a map.
func flatten(t *testing.T, kvs []*commonpb.KeyValue) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.Value.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = v.IntValue
		default:
			t.Errorf("attribute %s of type %T", kv.Key, v)
		}
	}
	return out
}
