package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/test/harness"
)

func readyz(t *testing.T, h *harness.Herald) string {
	t.Helper()
	resp, err := http.Get(h.URL("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

func waitLeader(t *testing.T, h *harness.Herald) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for h.Metric("herald_leader") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("never became the leader\n%s", h.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLeaderElection: two herald processes share a Lease and a ConfigMap checkpoint. Exactly one
// delivers. The leader is killed (SIGKILL, so it cannot release the lease); the standby takes
// over once the lease expires and resumes from the checkpoint: every event written during the
// hand-over arrives once, and nothing the dead leader delivered is sent again.
func TestLeaderElection(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "ha")
	recv := harness.NewReceiver(t)
	const lease = 4 * time.Second
	opts := harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)},
		Args: []string{"--leader-elect", "--leader-elect-namespace=" + ns, "--checkpoint=configmap:" + ns + "/herald-checkpoint",
			"--leader-elect-lease-duration=" + lease.String(), "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}}
	h1 := harness.Start(t, opts)
	waitLeader(t, h1)
	h1.WaitReady()
	h2 := harness.Start(t, opts)
	time.Sleep(2 * time.Second) // several retry periods: a second leader would show by now
	if h2.Metric("herald_leader") != 0 {
		t.Fatal("both processes lead")
	}
	if got := readyz(t, h2); !strings.HasPrefix(got, "200") || !strings.Contains(got, "standby") {
		t.Errorf("standby /readyz = %q, want 200 ... standby", got)
	}
	if got := readyz(t, h1); got != "200 ok: leader" {
		t.Errorf("leader /readyz = %q", got)
	}

	rvOf := map[string]uint64{}
	create := func(prefix string, i int) string {
		msg := fmt.Sprintf("%s-%d", prefix, i)
		ev := createEvent(t, client, ns, msg, "Warning", "BackOff", msg)
		rvOf[msg], _ = strconv.ParseUint(ev.ResourceVersion, 10, 64)
		return msg
	}
	const n = 20
	var before, down, after []string
	for i := range n {
		before = append(before, create("before", i))
	}
	waitForMessages(t, recv, before)
	if d1, d2 := h1.WaitMetric(n, "herald_sink_events_total", `outcome="delivered"`), h2.Metric("herald_sink_events_total", `outcome="delivered"`); d1 != n || d2 != 0 {
		t.Errorf("delivered by leader %v, by standby %v; want %d, 0", d1, d2, n)
	}

	savedCheckpoint := func() checkpoint.Checkpoint {
		cm, err := client.CoreV1().ConfigMaps(ns).Get(context.Background(), "herald-checkpoint", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the leader saved no checkpoint ConfigMap: %v", err)
		}
		saved, err := checkpoint.Decode([]byte(cm.Data[checkpoint.ConfigMapKey]))
		if err != nil {
			t.Fatal(err)
		}
		return saved
	}
	// Kill at any moment after the leader saved the checkpoint of its last delivery (at most
	// --checkpoint-interval, 1 s, after it). A kill inside that second repeats what was
	// delivered in it; TestResumeAfterRestart/SIGKILL-in-flight shows that case exactly.
	last := rvOf[before[n-1]]
	for deadline := time.Now().Add(30 * time.Second); savedCheckpoint().ResourceVersion < last; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint ConfigMap never reached the last delivery (%d): %+v", last, savedCheckpoint())
		}
	}
	h1.Kill()
	killed := time.Now()
	saved := savedCheckpoint()
	for i := range n {
		down = append(down, create("down", i))
	}
	waitLeader(t, h2)
	takeover := time.Since(killed)
	waitForMessages(t, recv, down)
	recovered := time.Since(killed)
	for i := range 5 {
		after = append(after, create("after", i))
	}
	seen := waitForMessages(t, recv, append(append([]string(nil), down...), after...))

	dups := 0
	for _, m := range before {
		want := 1
		if rvOf[m] > saved.ResourceVersion {
			want = 2
		}
		if seen[m] != want {
			t.Errorf("%s (resourceVersion %d, checkpoint %d) arrived %d times, want %d", m, rvOf[m], saved.ResourceVersion, seen[m], want)
		}
		dups += seen[m] - 1
	}
	if dups != 0 {
		t.Errorf("%d events delivered before the kill were delivered again by the new leader", dups)
	}
	for _, m := range append(append([]string(nil), down...), after...) {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
	}
	if len(seen) != 2*n+5 {
		t.Errorf("%d distinct messages arrived, want %d", len(seen), 2*n+5)
	}
	if !strings.Contains(h2.Logs(), fmt.Sprintf("resuming after resourceVersion %d", saved.ResourceVersion)) {
		t.Errorf("the new leader does not say it resumes from %d:\n%s", saved.ResourceVersion, h2.Logs())
	}
	dropped := h2.Metric("herald_sink_events_total", `outcome="dropped"`)
	t.Logf("hand-over after SIGKILL: created %d, delivered %d, duplicated %d, dropped %v; lease %s; new leader after %s; all events written during the hand-over delivered %s after the kill",
		2*n+5, len(recv.Requests()), dups, dropped, lease, takeover.Round(100*time.Millisecond), recovered.Round(100*time.Millisecond))

	// A clean stop releases the lease for the next replica at once.
	if err := h2.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
	l, err := client.CoordinationV1().Leases(ns).Get(context.Background(), "herald", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
		t.Errorf("after SIGTERM the lease is still held by %q", *l.Spec.HolderIdentity)
	}
}
