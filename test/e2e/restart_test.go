package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/heraldproject/herald/test/cluster"
	"github.com/heraldproject/herald/test/harness"
)

// TestAPIServerRestartLosesAndRepeatsNothing restarts the real API server under a running
// herald: events before and after arrive exactly once, and /readyz says not-ready meanwhile.
func TestAPIServerRestartLosesAndRepeatsNothing(t *testing.T) {
	c := cluster.ForTest(t) // its own cluster: restarting the shared one would disturb others
	client := c.Client()
	ns := namespace(t, c, "restart")
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: c.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)}})

	for i := range 10 {
		createEvent(t, client, ns, fmt.Sprintf("before-%d", i), "Warning", "BackOff", fmt.Sprintf("before-%d", i))
	}
	waitForMessage(t, recv, "before-9")

	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for ready(h) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz stayed ready while the API server was down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		createEvent(t, client, ns, fmt.Sprintf("after-%d", i), "Warning", "BackOff", fmt.Sprintf("after-%d", i))
	}
	createEvent(t, client, ns, "sentinel", "Warning", "Done", "sentinel")
	got := waitForMessage(t, recv, "sentinel")

	seen := map[string]int{}
	for _, r := range got {
		var b struct{ EventMessage string }
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("invalid JSON %q", r.Body)
		}
		seen[b.EventMessage]++
	}
	if len(seen) != 21 {
		t.Errorf("%d distinct events arrived, want 21: %v", len(seen), seen)
	}
	for msg, n := range seen {
		if n != 1 {
			t.Errorf("%q arrived %d times", msg, n)
		}
	}
	deadline = time.Now().Add(60 * time.Second)
	for !ready(h) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after the API server came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ready(h *harness.Herald) bool {
	resp, err := http.Get(h.URL("/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
