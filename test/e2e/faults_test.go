package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/cluster"
	"github.com/heraldproject/herald/test/harness"
)

// TestNetworkCut: the connection between herald and the API server is cut for 15 s (every open
// connection closed, new ones accepted and closed at once, as a dead load balancer does) while
// events are written. client-go retries a watch for about 10 s before it gives up, so the cut
// outlasts its retries: herald must see the failure itself. /readyz says not-ready during the
// cut; afterwards every event arrives exactly once, nothing written before is repeated, and
// herald did not spin while it could not connect.
func TestNetworkCut(t *testing.T) {
	testCut(t, shared, 15*time.Second, false)
}

// TestWatchExpired: a 5 s cut, and etcd is compacted during it, so the watch herald resumes
// when the link is back is answered "410 Gone (too old resource version)" and herald must list
// again, delivering what was written meanwhile once. The API server runs with its watch cache
// off for events, so the watch reads etcd directly, as it does once a busy API server's cache
// has moved past herald's resourceVersion.
func TestWatchExpired(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own API server; not in -short")
	}
	c := cluster.ForTestWith(t, cluster.Options{APIServerFlags: []string{"--watch-cache-sizes=events#0"}})
	testCut(t, c, 5*time.Second, true)
}

func testCut(t *testing.T, c *cluster.Cluster, cutFor time.Duration, compact bool) {
	client := c.Client()
	ns := namespace(t, c, "cut")
	recv := harness.NewReceiver(t)
	proxy := harness.NewProxy(t, strings.TrimPrefix(c.URL, "https://"))
	h := harness.Start(t, harness.Options{Kubeconfig: proxy.Kubeconfig(c.Kubeconfig, c.URL),
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)},
		Args:  []string{"--checkpoint=off"}})

	const n = 20
	before := createEvents(t, client, ns, "before", n)
	waitForMessages(t, recv, before)
	relists0 := h.Metric("herald_source_relists_total")

	cpu0 := h.CPUTime()
	cutAt := time.Now()
	proxy.Cut()
	notReady := ""
	for deadline := time.Now().Add(60 * time.Second); notReady == ""; {
		if ok, body := h.Ready(); !ok {
			notReady = body
		} else if time.Now().After(deadline) {
			t.Fatal("/readyz still says ready 60 s into the cut")
		}
		time.Sleep(50 * time.Millisecond)
	}
	detected := time.Since(cutAt)
	during := createEvents(t, client, ns, "during", n)
	compactedAt := int64(0)
	if compact {
		rev, err := c.Compact(context.Background())
		if err != nil {
			t.Fatalf("compact etcd: %v", err)
		}
		compactedAt = rev
	}
	time.Sleep(time.Until(cutAt.Add(cutFor)))
	cpuCut := h.CPUTime() - cpu0
	cutFor = time.Since(cutAt)
	proxy.Restore()

	restoredAt := time.Now()
	waitForMessages(t, recv, during)
	recovered := time.Since(restoredAt)
	h.WaitReady()
	after := createEvents(t, client, ns, "after", 5)
	seen := waitForMessages(t, recv, after)

	dups := 0
	for _, m := range append(append(append([]string(nil), before...), during...), after...) {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
		dups += max(0, seen[m]-1)
	}
	if len(seen) != 2*n+5 {
		t.Errorf("%d distinct messages arrived, want %d", len(seen), 2*n+5)
	}
	if dropped := h.Metric("herald_sink_events_total", `outcome="dropped"`); dropped != 0 {
		t.Errorf("%v events counted as dropped", dropped)
	}
	relists := h.Metric("herald_source_relists_total") - relists0
	if compact && (relists < 1 || !strings.Contains(h.Logs(), "expired")) {
		t.Errorf("etcd was compacted during the cut at revision %d, yet herald did not meet the 410 and list again (herald_source_relists_total +%v)", compactedAt, relists)
	}
	if !compact && h.Metric("herald_source_watch_errors_total") < 1 {
		t.Errorf("a %s cut was not counted in herald_source_watch_errors_total", cutFor)
	}
	// A spinning reconnect loop would use about a CPU second per second of the cut; backoff
	// uses a few milliseconds. Half the cut is far above the one and far below the other.
	if cpuCut > cutFor/2 {
		t.Errorf("herald used %s of CPU during a %s cut: it spins instead of backing off", cpuCut, cutFor.Round(time.Second))
	}
	if !strings.Contains(notReady, "watch") {
		t.Errorf("/readyz during the cut said %q; want it to name the event watch", notReady)
	}
	t.Logf("cut %s (compacted: %v, relists %v): created %d, delivered %d, duplicated %d, dropped 0; not-ready %s after the cut (%q); all written during the cut delivered %s after it ended; CPU during the cut %s",
		cutFor.Round(100*time.Millisecond), compact, relists, 2*n+5, len(recv.Requests()), dups, detected.Round(10*time.Millisecond), strings.TrimSpace(notReady), recovered.Round(10*time.Millisecond), cpuCut)
}

// TestResumePerSink: two sinks, one answering 503. herald is stopped with a short shutdown
// timeout, so the failing sink's events are cut off; the checkpoint keeps a position per sink.
// After the restart (the receiver healthy again) the failing sink gets every event it missed,
// once, and the healthy one gets no repeat of what it already had.
func TestResumePerSink(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "persink")
	good, bad := harness.NewReceiver(t), harness.NewReceiver(t)
	bad.SetStatus(503)
	cpPath := t.TempDir() + "/checkpoint"
	opts := harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{
			fmt.Sprintf("webhook:%s?method=POST&namespaces=%s&name=good", good.URL, ns),
			fmt.Sprintf("webhook:%s?method=POST&namespaces=%s&name=bad", bad.URL, ns),
		},
		Args: []string{"--checkpoint=file:" + cpPath, "--shutdown-timeout=2s"}}
	h := harness.Start(t, opts)
	const n = 15
	before := createEvents(t, client, ns, "before", n)
	waitForMessages(t, good, before)
	for deadline := time.Now().Add(30 * time.Second); bad.Rejected() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failing sink was never tried")
		}
	}
	if err := h.Stop(); err != nil {
		t.Fatalf("herald exit after SIGTERM: %v", err)
	}
	cp := readCheckpoint(t, cpPath)
	if !strings.Contains(h.Logs(), "the next run delivers them to this sink") {
		t.Errorf("the shutdown log does not say the bad sink's events wait for the next run:\n%s", h.Logs())
	}
	if cp.Sink("name=good") <= cp.Sink("name=bad") {
		t.Errorf("checkpoint %+v: the healthy sink's position should be past the failing one's", cp)
	}

	bad.SetStatus(200)
	down := createEvents(t, client, ns, "down", 5)
	h2 := harness.Start(t, opts)
	all := append(append([]string(nil), before...), down...)
	seenBad := waitForMessages(t, bad, all)
	seenGood := waitForMessages(t, good, all)
	for _, m := range all {
		if seenGood[m] != 1 || seenBad[m] != 1 {
			t.Errorf("%s arrived %d times at the healthy sink and %d at the one that had failed; want 1 and 1", m, seenGood[m], seenBad[m])
		}
	}
	skipped := h2.Metric("herald_sink_events_total", `sink="good"`, `outcome="skipped"`)
	if skipped != n {
		t.Errorf("the healthy sink skipped %v replayed events, want the %d it had", skipped, n)
	}
	t.Logf("per-sink resume: created %d; healthy sink delivered %d (duplicated 0, skipped %v on resume); failing sink: %d refused before the stop, %d delivered after the restart, duplicated 0",
		n+5, len(good.Requests()), skipped, bad.Rejected(), len(bad.Requests()))
}

// TestResumeWithAQuietNamespace: herald watches two namespaces one by one (namespaces=busy,quiet);
// nothing happens in quiet, so its watch's position moves only with the API server's bookmarks
// (about once a minute). The checkpoint keeps a position per namespace, so a restart repeats
// nothing of busy's events and still delivers what was written in either while herald was down.
func TestResumeWithAQuietNamespace(t *testing.T) {
	client := shared.Client()
	busy, quiet := namespace(t, shared, "busy"), namespace(t, shared, "quiet")
	recv := harness.NewReceiver(t)
	cpPath := t.TempDir() + "/checkpoint"
	opts := harness.Options{Kubeconfig: shared.Kubeconfig, SourceParams: "namespaces=" + busy + "," + quiet,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST", recv.URL)},
		Args:  []string{"--checkpoint=file:" + cpPath}}
	h := harness.Start(t, opts)
	before := createEvents(t, client, busy, "before", 15)
	waitForMessages(t, recv, before)
	if err := h.Stop(); err != nil {
		t.Fatalf("herald exit after SIGTERM: %v", err)
	}
	cp := readCheckpoint(t, cpPath)
	if cp.Scope(busy) <= cp.Scope(quiet) {
		t.Errorf("checkpoint %+v: the busy namespace's position should be past the quiet one's", cp)
	}
	down := []string{
		createEvent(t, client, busy, "down-busy", "Warning", "BackOff", "down-busy").Message,
		createEvent(t, client, quiet, "down-quiet", "Warning", "BackOff", "down-quiet").Message}
	h2 := harness.Start(t, opts)
	all := append(append([]string(nil), before...), down...)
	seen := waitForMessages(t, recv, all)
	dups := 0
	for _, m := range all {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
		dups += max(0, seen[m]-1)
	}
	t.Logf("quiet namespace: created %d, delivered %d, duplicated %d; positions busy %d, quiet %d; skipped on resume %v",
		len(all), len(recv.Requests()), dups, cp.Scope(busy), cp.Scope(quiet), h2.Metric("herald_sink_events_total", `outcome="skipped"`))
}

// createEvents creates n Warning events in ns named and worded PREFIX-0 ... PREFIX-(n-1), and
// returns their messages.
func createEvents(t *testing.T, client kubernetes.Interface, ns, prefix string, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = createEvent(t, client, ns, name, "Warning", "BackOff", name).Message
	}
	return out
}
