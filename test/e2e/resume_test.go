package e2e

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/test/harness"
)

// messages counts the deliveries of each EventMessage.
func messages(t *testing.T, got []harness.Request) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		seen[decode(t, r).EventMessage]++
	}
	return seen
}

// waitForMessages waits until every message in want has arrived at least once.
func waitForMessages(t *testing.T, recv *harness.Receiver, want []string) map[string]int {
	t.Helper()
	return waitForMessagesWithin(t, recv, want, 90*time.Second)
}

func readCheckpoint(t *testing.T, path string) checkpoint.Checkpoint {
	t.Helper()
	cp, err := (&checkpoint.File{Path: path}).Load()
	if err != nil {
		t.Fatalf("read checkpoint: %v", err)
	}
	return cp
}

// pollCheckpoint is readCheckpoint for a wait loop: a checkpoint not saved yet is an empty one
// (the file is written just after the delivery the receiver has already seen).
func pollCheckpoint(t *testing.T, path string) checkpoint.Checkpoint {
	t.Helper()
	cp, err := (&checkpoint.File{Path: path}).Load()
	if err != nil && !errors.Is(err, checkpoint.ErrNotFound) {
		t.Fatalf("read checkpoint: %v", err)
	}
	return cp
}

// TestResumeAfterRestart: herald is stopped while events keep being written, and started again
// 5 s later from its checkpoint file. Every event written while it was down arrives exactly
// once. Nothing delivered before the stop is sent again after SIGTERM, nor after a SIGKILL that
// lands once the delivery's checkpoint is saved (a file is saved right after each delivered
// batch). A SIGKILL at the very moment of a delivery, before its save, repeats exactly the
// events above the saved checkpoint: the batch in flight.
func TestResumeAfterRestart(t *testing.T) {
	for _, mode := range []string{"SIGTERM", "SIGKILL", "SIGKILL-in-flight"} {
		t.Run(mode, func(t *testing.T) { testResume(t, mode) })
	}
}

func testResume(t *testing.T, mode string) {
	client := shared.Client()
	ns := namespace(t, shared, "resume")
	recv := harness.NewReceiver(t)
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	opts := harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)},
		Args:  []string{"--checkpoint=file:" + cpPath}}
	h := harness.Start(t, opts)
	if !strings.Contains(h.Logs(), "none saved yet") {
		t.Errorf("the first start does not say it has no checkpoint:\n%s", h.Logs())
	}

	const n = 20
	rvOf := map[string]uint64{}
	create := func(prefix string, i int) string {
		msg := fmt.Sprintf("%s-%d", prefix, i)
		ev := createEvent(t, client, ns, msg, "Warning", "BackOff", msg)
		rv, err := strconv.ParseUint(ev.ResourceVersion, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		rvOf[msg] = rv
		return msg
	}
	var before, down, after []string
	for i := range n {
		before = append(before, create("before", i))
	}
	waitForMessages(t, recv, before)

	switch mode {
	case "SIGTERM":
		if err := h.Stop(); err != nil {
			t.Fatalf("herald exit after SIGTERM: %v", err)
		}
	case "SIGKILL":
		// Any moment after the checkpoint of the last delivery is saved.
		last := slices.Max(slices.Collect(maps.Values(rvOf)))
		for deadline := time.Now().Add(30 * time.Second); pollCheckpoint(t, cpPath).ResourceVersion < last; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the checkpoint file never reached the last delivered event (%d): %+v", last, readCheckpoint(t, cpPath))
			}
		}
		h.Kill()
	case "SIGKILL-in-flight":
		h.Kill() // right after the last delivery: its checkpoint may not be saved yet
	}
	saved := readCheckpoint(t, cpPath)
	stopped := time.Now()

	for i := range n {
		down = append(down, create("down", i))
	}
	time.Sleep(5 * time.Second)

	started := time.Now()
	h2 := harness.Start(t, opts)
	if !strings.Contains(h2.Logs(), fmt.Sprintf("resuming after resourceVersion %d", saved.ResourceVersion)) {
		t.Errorf("the restart does not say it resumes from %d:\n%s", saved.ResourceVersion, h2.Logs())
	}
	waitForMessages(t, recv, down)
	recovered := time.Since(started)
	for i := range 5 {
		after = append(after, create("after", i))
	}
	seen := waitForMessages(t, recv, append(append([]string(nil), after...), down...))

	// Expected deliveries: once each, plus, after SIGKILL, a repeat of each event delivered
	// after the last save (resourceVersion above the checkpoint).
	dups, wantDups := 0, 0
	for _, m := range before {
		want := 1
		if rvOf[m] > saved.ResourceVersion {
			want = 2
			wantDups++
		}
		if seen[m] != want {
			t.Errorf("%s (resourceVersion %d, checkpoint %d) arrived %d times, want %d", m, rvOf[m], saved.ResourceVersion, seen[m], want)
		}
		dups += seen[m] - 1
	}
	if mode != "SIGKILL-in-flight" && wantDups != 0 {
		t.Errorf("after %s the checkpoint (%d) is behind events already delivered (%d of them)", mode, saved.ResourceVersion, wantDups)
	}
	for _, m := range append(append([]string(nil), down...), after...) {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
	}
	if len(seen) != 2*n+5 {
		t.Errorf("%d distinct messages arrived, want %d: %v", len(seen), 2*n+5, seen)
	}
	dropped := h2.Metric("herald_sink_events_total", `outcome="dropped"`)
	if dropped != 0 {
		t.Errorf("%v events counted as dropped", dropped)
	}
	t.Logf("%s: created %d, delivered %d, duplicated %d (events after the last checkpoint save), dropped %v; down %s; recovered (all events written while down delivered) %s after the restart",
		mode, 2*n+5, len(recv.Requests()), dups, dropped, started.Sub(stopped).Round(100*time.Millisecond), recovered.Round(100*time.Millisecond))
	if err := h2.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
	if cp := readCheckpoint(t, cpPath); cp.ResourceVersion < rvOf[after[len(after)-1]] {
		t.Errorf("final checkpoint %d is below the last delivered event's resourceVersion %d", cp.ResourceVersion, rvOf[after[len(after)-1]])
	}
}

// TestResumeReportsExpiredGap: a checkpoint older than --event-ttl means events written in
// between may have expired; herald says so in its log and its metrics, and still starts.
func TestResumeReportsExpiredGap(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "gap")
	probe := createEvent(t, client, ns, "probe", "Warning", "BackOff", "probe")
	rv, _ := strconv.ParseUint(probe.ResourceVersion, 10, 64)
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	if err := (&checkpoint.File{Path: cpPath}).Save(checkpoint.Checkpoint{ResourceVersion: rv, Time: time.Now().Add(-3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)},
		Args:  []string{"--checkpoint=file:" + cpPath, "--event-ttl=1h"}})
	if got := h.Metric("herald_source_gaps_total"); got != 1 {
		t.Errorf("herald_source_gaps_total = %v, want 1", got)
	}
	if got := h.Metric("herald_source_gap_seconds_total"); got < 3600 {
		t.Errorf("herald_source_gap_seconds_total = %v, want at least the 2 h beyond the TTL minus the newest events", got)
	}
	if !strings.Contains(h.Logs(), "have expired from the API server") {
		t.Errorf("no gap in the log:\n%s", h.Logs())
	}
	createEvent(t, client, ns, "after-gap", "Warning", "BackOff", "after-gap")
	waitForMessage(t, recv, "after-gap")
}
