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

	"github.com/heraldproject/herald/test/harness"
)

// TestConfigMapTemplateEditApplies: an edit of the body ConfigMap changes the next body without
// a restart; a broken edit is refused, counted, and the last good template stays.
func TestConfigMapTemplateEditApplies(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "tmpl")
	cms := client.CoreV1().ConfigMaps(ns)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "body", Namespace: ns},
		Data: map[string]string{"content": `{"v":"one","reason":"{{ .Reason }}","text":"{{ .Message }}"}`}}
	if _, err := cms.Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	recv := harness.NewReceiver(t)
	sink := fmt.Sprintf("webhook:%s?method=POST&custom_body_configmap=body&custom_body_configmap_namespace=%s&namespaces=%s", recv.URL, ns, ns)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{sink}})

	type body struct{ V, Reason, Text string }
	last := func() body {
		got := recv.Requests()
		var b body
		if err := json.Unmarshal(got[len(got)-1].Body, &b); err != nil {
			t.Fatalf("invalid JSON %q: %v", got[len(got)-1].Body, err)
		}
		return b
	}
	// send creates an event and waits for its delivery, returning the body.
	n := 0
	send := func() body {
		n++
		// No double quote: a kube-eventer template drops them from .Message, as kube-eventer did
		// (TestWebhookDeliversNewEventsOnceFilteredWithValidJSON checks that).
		msg := fmt.Sprintf(`probe <%d>`, n)
		createEvent(t, client, ns, fmt.Sprintf("probe-%d", n), "Warning", "BackOff", msg)
		waitForMessage(t, recv, msg)
		b := last()
		if b.Text != msg {
			t.Fatalf("text %q, want %q", b.Text, msg)
		}
		return b
	}
	if b := send(); b.V != "one" || b.Reason != "BackOff" {
		t.Fatalf("first body %+v", b)
	}

	edit := func(content string) {
		cur, err := cms.Get(context.Background(), "body", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Data["content"] = content
		if _, err := cms.Update(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	edit(`{"v":"two","reason":"{{ .Reason }}","text":"{{ .Message }}"}`)
	deadline := time.Now().Add(30 * time.Second)
	for send().V != "two" {
		if time.Now().After(deadline) {
			t.Fatal("the ConfigMap edit never took effect")
		}
	}

	edit(`{"v":"three","text":"{{ .Message `) // does not parse
	deadline = time.Now().Add(30 * time.Second)
	for h.Metric("herald_template_reloads_total", `result="rejected"`) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the broken edit was not counted as rejected\n%s", h.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b := send(); b.V != "two" {
		t.Fatalf("after a broken edit the body is %+v; the last good template must stay", b)
	}
	if !strings.Contains(h.Logs(), "body") {
		t.Errorf("the rejection is not logged with the ConfigMap's name")
	}
}
