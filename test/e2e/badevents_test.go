package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/harness"
)

// TestBadEventsNeverCrash: events a real API server accepts but that are hostile to a forwarder
// (a 1 MiB message, invalid UTF-8, an involvedObject with nothing but its namespace) and a template that fails on one
// event: each bad event is delivered safely or reported and counted; the rest flow; the process
// stays up.
func TestBadEventsNeverCrash(t *testing.T) {
	ns := namespace(t, shared, "bad")
	// Protobuf, as herald itself reads: JSON would replace invalid UTF-8 before it reached the
	// API server.
	cfg := shared.RESTConfig()
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recv := harness.NewReceiver(t)
	tmpl := `{"reason":"{{ .Reason }}","message":"{{ .Message }}"{{ if eq .Reason "Explode" }}{{ .NoSuchField }}{{ end }}}`
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{
		fmt.Sprintf("webhook:%s/default?method=POST&namespaces=%s&header=Content-Type=application/json", recv.URL, ns),
		fmt.Sprintf("webhook:%s/tmpl?method=POST&namespaces=%s&header=Content-Type=application/json&body_template=%s", recv.URL, ns, url.QueryEscape(tmpl)),
	}})

	mk := func(name, reason, msg string, obj corev1.ObjectReference) {
		t.Helper()
		now := metav1.NewTime(time.Now())
		ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, InvolvedObject: obj,
			Type: "Warning", Reason: reason, Message: msg, Count: 1, FirstTimestamp: now, LastTimestamp: now}
		if _, err := client.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	pod := func(name string) corev1.ObjectReference {
		return corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name, APIVersion: "v1"}
	}
	mk("first", "BackOff", "first", pod("a"))
	mk("huge", "BackOff", "huge "+strings.Repeat("x", 1<<20), pod("b"))
	mk("badutf8", "BackOff", "bad \xff\xfe utf8 \xc3\x28", pod("c"))
	// The API server requires involvedObject.namespace to match (outside "default"); everything
	// else may be empty: no kind, name, uid or apiVersion.
	mk("noobject", "BackOff", "no object", corev1.ObjectReference{Namespace: ns})
	mk("explode", "Explode", "template fails here", pod("d"))
	mk("last", "BackOff", "last", pod("e"))

	deadline := time.Now().Add(60 * time.Second)
	byPath := map[string][]map[string]any{}
	for time.Now().Before(deadline) {
		byPath = map[string][]map[string]any{}
		for _, r := range recv.Requests() {
			if !json.Valid(r.Body) {
				t.Fatalf("%s: body is not valid JSON (%d bytes): %.200q", r.Path, len(r.Body), r.Body)
			}
			var m map[string]any
			_ = json.Unmarshal(r.Body, &m)
			byPath[r.Path] = append(byPath[r.Path], m)
		}
		if len(byPath["/default"]) >= 6 && len(byPath["/tmpl"]) >= 5 {
			break
		}
		recv.WaitFor(len(recv.Requests())+1, time.Second)
	}
	if n := len(byPath["/default"]); n != 6 {
		t.Errorf("default body: %d deliveries, want all 6", n)
	}
	if n := len(byPath["/tmpl"]); n != 5 {
		t.Errorf("failing template: %d deliveries, want 5 (all but the event it fails on)", n)
	}
	for _, m := range byPath["/default"] {
		msg, _ := m["EventMessage"].(string)
		switch {
		case strings.HasPrefix(msg, "huge "):
			if len(msg) > 64<<10 || !strings.Contains(msg, "truncated by herald: message was") {
				t.Errorf("the 1 MiB message arrived as %d bytes without the truncation marker", len(msg))
			}
		case strings.HasPrefix(msg, "bad "):
			if !strings.Contains(msg, "utf8") {
				t.Errorf("invalid UTF-8 message arrived as %q", msg)
			}
		}
	}
	if got := h.WaitMetric(1, "herald_sink_events_total", `sink="webhook#2"`, `outcome="dropped"`, `reason="rejected"`); got != 1 {
		t.Errorf("rejected by the failing template: %v, want 1", got)
	}
	if got := h.Metric("herald_sink_events_total", `sink="webhook#1"`, `outcome="dropped"`); got != 0 {
		t.Errorf("the default sink dropped %v", got)
	}
	if logs := h.Logs(); !strings.Contains(logs, "does not render") || !strings.Contains(logs, "Explode") {
		t.Errorf("the failing event is not reported in the log")
	}
	if !ready(h) {
		t.Error("herald is not ready after the bad events")
	}
	t.Logf("bad events: created 6; default body delivered %d; failing template delivered %d, rejected and counted 1; process up",
		len(byPath["/default"]), len(byPath["/tmpl"]))
}
