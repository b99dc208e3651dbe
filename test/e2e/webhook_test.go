package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/test/harness"
)

// kubeEventerBody is kube-eventer's default webhook body, decoded.
type kubeEventerBody struct {
	EventType    string
	EventKind    string
	EventReason  string
	EventTime    string
	EventMessage string
}

func decode(t *testing.T, r harness.Request) kubeEventerBody {
	t.Helper()
	if !json.Valid(r.Body) {
		t.Fatalf("body is not valid JSON: %q", r.Body)
	}
	var b kubeEventerBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return b
}

var nastyMessages = []string{
	`Back-off restarting failed container "app" in pod "web-0"`,
	"line one\nline two\ttabbed\r\nwindows",
	`C:\Program Files\app\ "quoted" \\server\share`,
	"容器重启：内存不足 (OOMKilled) 🚨",
	`{"json":"inside","n":[1,2]}`,
	"</script><script>alert(1)</script> & <b>",
}

// TestWebhookDeliversNewEventsOnceFilteredWithValidJSON is the foundation scenario: a
// kube-eventer webhook flag, unchanged, against a real API server.
func TestWebhookDeliversNewEventsOnceFilteredWithValidJSON(t *testing.T) {
	client := shared.Client()
	nsA := namespace(t, shared, "team-a")
	nsB := namespace(t, shared, "team-b")

	// Existed before herald started: must not be replayed.
	old := createEvent(t, client, nsA, "before-start", "Warning", "BackOff", "old news")

	recv := harness.NewReceiver(t)
	sink := fmt.Sprintf("webhook:%s/hook?level=Warning&namespaces=%s&kinds=Pod&method=POST&header=Content-Type=application/json&header=X-Team=a",
		recv.URL, nsA)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{sink}})

	for i, msg := range nastyMessages {
		createEvent(t, client, nsA, fmt.Sprintf("warn-%d", i), "Warning", "BackOff", msg)
	}
	createEvent(t, client, nsA, "normal-0", "Normal", "Pulled", "filtered by level")
	createEvent(t, client, nsB, "other-ns", "Warning", "BackOff", "filtered by namespace")

	// A metadata-only update is not a new delivery; a count bump is.
	ev, err := client.CoreV1().Events(nsA).Get(context.Background(), "warn-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev.Labels = map[string]string{"touched": "yes"}
	if ev, err = client.CoreV1().Events(nsA).Update(context.Background(), ev, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev.Count = 2
	ev.LastTimestamp = metav1.NewTime(ev.LastTimestamp.Add(time.Second))
	if _, err = client.CoreV1().Events(nsA).Update(context.Background(), ev, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The old event repeats too: that is news.
	old.Count = 2
	old.LastTimestamp = metav1.NewTime(old.LastTimestamp.Add(time.Second))
	if _, err = client.CoreV1().Events(nsA).Update(context.Background(), old, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The source and the sink keep order, so once the sentinel arrives everything before it has.
	createEvent(t, client, nsA, "sentinel", "Warning", "Done", "sentinel")
	got := waitForMessage(t, recv, "sentinel")

	seen := map[string]int{} // message -> deliveries; every message is distinct
	for _, r := range got {
		if r.Method != "POST" || r.Path != "/hook" {
			t.Errorf("request %s %s, want POST /hook", r.Method, r.Path)
		}
		if r.Header.Get("X-Team") != "a" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("headers %v", r.Header)
		}
		if q, _ := url.ParseQuery(r.Query); q.Has("level") || q.Has("method") {
			t.Errorf("herald's parameters leaked to the receiver: %q", r.Query)
		}
		b := decode(t, r)
		seen[b.EventMessage]++
		if b.EventType != "Warning" || b.EventKind != "Pod" {
			t.Errorf("%q: type/kind %s/%s", b.EventMessage, b.EventType, b.EventKind)
		}
		if _, err := time.Parse("2006-01-02 15:04:05 -0700 MST", b.EventTime); err != nil {
			t.Errorf("%q: EventTime %q is not Go's time format, as kube-eventer prints it: %v", b.EventMessage, b.EventTime, err)
		}
	}
	// Each message decodes to what kube-eventer's default body held: the message without its
	// double quotes (kube-eventer deleted them, and receivers may rely on it), backslashes,
	// newlines and Chinese text intact, in a body that is always valid JSON (kube-eventer's
	// broke on them).
	kubeEventer := func(m string) string { return strings.ReplaceAll(m, `"`, "") }
	expect := map[string]int{"old news": 1, kubeEventer(nastyMessages[0]): 2, "sentinel": 1}
	for _, m := range nastyMessages[1:] {
		expect[kubeEventer(m)] = 1
	}
	for msg, n := range expect {
		if seen[msg] != n {
			t.Errorf("%q delivered %d times, want %d", msg, seen[msg], n)
		}
	}
	for msg := range seen {
		if _, ok := expect[msg]; !ok {
			t.Errorf("%q delivered but should have been filtered", msg)
		}
	}
	if n := h.WaitMetric(float64(len(got)), "herald_sink_events_total", `outcome="delivered"`); int(n) != len(got) {
		t.Errorf("herald_sink_events_total{outcome=delivered} = %v, receiver got %d", n, len(got))
	}
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
}

// waitForMessage waits until a body whose EventMessage (or any field) holds marker arrives.
func waitForMessage(t *testing.T, recv *harness.Receiver, marker string) []harness.Request {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got := recv.WaitFor(len(recv.Requests())+1, time.Second)
		for _, r := range got {
			if strings.Contains(string(r.Body), marker) {
				return got
			}
		}
	}
	t.Fatalf("%q never arrived; got %d requests", marker, len(recv.Requests()))
	return nil
}
