package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/sinks/loki/lokitest"
	"github.com/heraldproject/herald/test/harness"
)

// TestLokiPushesEventsAsStreams runs herald against the real API server with two loki sinks:
// one pushing snappy protobuf to a multi-tenant Loki behind basic auth that refuses entries out
// of order (Loki before unordered writes), one pushing JSON to a second Loki. Each receives the
// events its filter lets through, in streams labelled by the chosen fields, each entry at its
// event's last timestamp with the event as JSON, once.
func TestLokiPushesEventsAsStreams(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "loki")
	const password = "glc_eyJvIjoiMTIzNDU2In0-e2e-secret"
	tenantLoki := lokitest.New(t, lokitest.Options{RequireTenant: true, User: "123456", Password: password})
	jsonLoki := lokitest.New(t, lokitest.Options{Unordered: true})
	host := strings.TrimPrefix(tenantLoki.URL, "http://")
	sinks := []string{
		fmt.Sprintf("loki:http://123456:${LOKI_PASSWORD}@%s?tenant=team-a&label=job=herald&metadata=name&level=Normal&namespaces=%s", host, ns),
		fmt.Sprintf("loki:%s/loki/api/v1/push?format=json&labels=namespace,reason,type&level=Warning&namespaces=%s&name=loki-json", jsonLoki.URL, ns),
	}
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: sinks,
		Args: []string{"--cluster-name=e2e-cluster"}, Env: []string{"LOKI_PASSWORD=" + password}})

	created := map[string]*corev1.Event{}
	for i, msg := range nastyMessages {
		ev := createEvent(t, client, ns, fmt.Sprintf("warn-%d", i), "Warning", "BackOff", msg)
		created[ev.Name] = ev
	}
	normal := createEvent(t, client, ns, "pulled", "Normal", "Pulled", "Successfully pulled image")
	created[normal.Name] = normal
	unhealthy := createEvent(t, client, ns, "probe", "Warning", "Unhealthy", "Readiness probe failed")
	created[unhealthy.Name] = unhealthy
	// A repeat is a new entry, later in the same stream.
	ev, err := client.CoreV1().Events(ns).Get(context.Background(), "warn-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev.Count = 2
	ev.LastTimestamp = metav1.NewTime(ev.LastTimestamp.Add(time.Second))
	if _, err := client.CoreV1().Events(ns).Update(context.Background(), ev, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sentinel := createEvent(t, client, ns, "sentinel", "Warning", "Done", "sentinel")
	created[sentinel.Name] = sentinel

	// Everything but the Normal event reaches both; the Normal one only the first.
	wantTenant := len(nastyMessages) + 1 + 1 + 1 + 1 // warnings, the repeat, pulled, probe, sentinel
	wantJSON := wantTenant - 1
	stored := waitForLokiLines(t, tenantLoki, "sentinel", wantTenant)
	storedJSON := waitForLokiLines(t, jsonLoki, "sentinel", wantJSON)

	check := func(name string, rc *lokitest.Receiver, stored []lokitest.Stored, want int, contentType string, labels func(ev *corev1.Event) map[string]string) {
		t.Helper()
		if len(stored) != want {
			t.Errorf("%s: Loki holds %d entries, want %d", name, len(stored), want)
		}
		for _, p := range rc.Pushes() {
			if p.Status != 204 || p.ContentType != contentType {
				t.Errorf("%s: a push got %d %q (Content-Type %q)", name, p.Status, p.Reply, p.ContentType)
			}
		}
		seen := map[string]int{}
		for _, s := range stored {
			var line corev1.Event
			if err := json.Unmarshal([]byte(s.Line), &line); err != nil {
				t.Errorf("%s: the line is not the event as JSON: %v: %s", name, err, s.Line)
				continue
			}
			orig := created[line.Name]
			if orig == nil {
				t.Errorf("%s: an entry for an event the test did not create: %s", name, line.Name)
				continue
			}
			seen[fmt.Sprintf("%s/%d", line.Name, line.Count)]++
			if line.Message != orig.Message || line.Reason != orig.Reason {
				t.Errorf("%s: %s: message %q reason %q, want %q %q", name, line.Name, line.Message, line.Reason, orig.Message, orig.Reason)
			}
			if !s.Time.Equal(line.LastTimestamp.Time) {
				t.Errorf("%s: %s: entry at %s, want its lastTimestamp %s", name, line.Name, s.Time, line.LastTimestamp.Time)
			}
			if w := labels(&line); fmt.Sprint(s.Labels) != fmt.Sprint(w) {
				t.Errorf("%s: %s: stream %v, want %v", name, line.Name, s.Labels, w)
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s stored %d times", name, k, n)
			}
		}
	}
	check("protobuf to team-a", tenantLoki, stored, wantTenant, "application/x-protobuf", func(ev *corev1.Event) map[string]string {
		return map[string]string{"cluster": "e2e-cluster", "job": "herald", "kind": "Pod", "namespace": ns, "reason": ev.Reason}
	})
	check("json", jsonLoki, storedJSON, wantJSON, "application/json", func(ev *corev1.Event) map[string]string {
		return map[string]string{"namespace": ns, "reason": ev.Reason, "type": ev.Type}
	})
	for _, s := range stored {
		if s.Tenant != "team-a" || s.Metadata["name"] == "" || !strings.HasPrefix(s.Metadata["name"], "pod-") {
			t.Errorf("tenant %q, structured metadata %v: want team-a and the pod's name", s.Tenant, s.Metadata)
		}
	}
	if n := h.WaitMetric(float64(wantTenant), "herald_sink_events_total", `sink="loki#1"`, `outcome="delivered"`); int(n) != wantTenant {
		t.Errorf("herald_sink_events_total{sink=loki#1,outcome=delivered} = %v, Loki holds %d", n, wantTenant)
	}
	if n := h.WaitMetric(float64(wantJSON), "herald_sink_events_total", `sink="loki-json"`, `outcome="delivered"`); int(n) != wantJSON {
		t.Errorf("herald_sink_events_total{sink=loki-json,outcome=delivered} = %v, Loki holds %d", n, wantJSON)
	}
	if n := h.Metric("herald_sink_events_total", `outcome="dropped"`); n != 0 {
		t.Errorf("%v events dropped", n)
	}
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
	if strings.Contains(h.Logs(), password) {
		t.Error("herald's log holds the Loki password")
	}
}

// waitForLokiLines waits until rc holds an entry whose line holds marker and at least n entries (at
// most 60 s), and returns what it holds.
func waitForLokiLines(t *testing.T, rc *lokitest.Receiver, marker string, n int) []lokitest.Stored {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := rc.Stored()
		found := false
		for _, s := range got {
			found = found || strings.Contains(s.Line, marker)
		}
		if found && len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}
