// Package chattest holds what the tests of every chat sink share: a storm of realistic
// events, a driver that feeds them to a sink the way the pipeline's worker does on a fake
// clock, and the sliding-window count a robot's rate limit applies.
package chattest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

// Start is the fake clock's start in chat sink tests.
var Start = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

var (
	reasons    = []string{"BackOff", "FailedScheduling", "Unhealthy", "FailedMount", "OOMKilling"}
	namespaces = []string{"shop", "payments", "batch"}
	messages   = []string{
		`Back-off restarting failed container "app" in pod "%s"`,
		"0/12 nodes are available: 3 Insufficient memory, 9 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/12 nodes are available",
		`Readiness probe failed: Get "http://10.0.3.7:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
		`MountVolume.SetUp failed for volume "secrets" : secret "db-credentials" not found`,
		"Memory cgroup out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:2097152kB; 容器内存不足",
	}
)

// StormEvents returns n Warning events, one every spacing from start, spread over reasons,
// namespaces and pods, with messages like the kubelet's and the scheduler's.
func StormEvents(n int, start time.Time, spacing time.Duration) []*core.Event {
	out := make([]*core.Event, n)
	for i := range n {
		at := start.Add(time.Duration(i) * spacing)
		pod := fmt.Sprintf("web-%d-%04x", i%40, i*7919%65536)
		msg := messages[i%len(messages)]
		if i%len(messages) == 0 {
			msg = fmt.Sprintf(msg, pod)
		}
		ns := namespaces[i%len(namespaces)]
		out[i] = &core.Event{
			Event: &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", pod, i)},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod},
				Reason:         reasons[i%len(reasons)],
				Message:        msg,
				Type:           corev1.EventTypeWarning,
				Count:          int32(1 + i%4),
				Source:         corev1.EventSource{Component: "kubelet", Host: fmt.Sprintf("node-%d", i%6)},
				LastTimestamp:  metav1.NewTime(at),
			},
			Cluster:  "prod",
			Observed: at,
		}
	}
	return out
}

// StormResult is what Storm observed.
type StormResult struct {
	// Exports is how many times Export was called; Delivered and Failed count the events of
	// the batches that succeeded and failed.
	Exports, Delivered, Failed int
	// Errors are the errors Export returned.
	Errors []error
	// End is the fake time when the last batch was done.
	End time.Time
}

// Storm feeds events to sink as the pipeline's worker does with flush_interval=0: at each
// turn it hands over every event that has arrived (Observed <= now), at most batchSize, and
// waits for Export; it moves clk on only while Export waits on it (the pacer) or while no
// event is due, so a receiver that reads clk sees the times the sink meant. A batch that
// fails is not retried (the pipeline would; a chat sink under test should not fail). Storm
// gives up after limit of fake time.
func Storm(t testing.TB, clk *clocktesting.FakeClock, sink core.Sink, events []*core.Event, batchSize int, limit time.Duration) StormResult {
	t.Helper()
	var res StormResult
	deadline := clk.Now().Add(limit)
	next := 0
	for next < len(events) {
		if clk.Now().After(deadline) {
			t.Fatalf("storm: %d of %d events still undelivered after %s of fake time", len(events)-next, len(events), limit)
		}
		end := next
		for end < len(events) && end-next < batchSize && !events[end].Observed.After(clk.Now()) {
			end++
		}
		if end == next {
			clk.SetTime(events[next].Observed)
			continue
		}
		batch := events[next:end]
		next = end
		res.Exports++
		err := export(clk, sink, batch)
		if err != nil {
			res.Errors = append(res.Errors, err)
			res.Failed += len(batch)
			continue
		}
		res.Delivered += len(batch)
	}
	res.End = clk.Now()
	return res
}

// export runs sink.Export, stepping clk while it waits on it.
func export(clk *clocktesting.FakeClock, sink core.Sink, batch []*core.Event) error {
	done := make(chan error, 1)
	go func() { done <- sink.Export(context.Background(), batch) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if clk.HasWaiters() {
			clk.Step(10 * time.Millisecond)
		} else {
			runtime.Gosched()
		}
	}
}

// MaxInWindow is the largest number of times that fall within one window [t, t+w).
func MaxInWindow(times []time.Time, w time.Duration) int {
	worst := 0
	for i, start := range times {
		n := 0
		for _, x := range times[i:] {
			if x.Sub(start) < w && !x.Before(start) {
				n++
			}
		}
		worst = max(worst, n)
	}
	return worst
}

// FuzzEvents builds n events (at least one) from fuzzer input: messages split on \x1e, and
// reason and name used as given (invalid UTF-8, NULs and all), spread over a few namespaces.
func FuzzEvents(msgs, reason, name string, n int) []*core.Event {
	parts := strings.Split(msgs, "\x1e")
	n = max(n, 1)
	out := make([]*core.Event, n)
	for i := range n {
		r := reason
		if i%3 == 1 {
			r += "-2"
		}
		ns := fmt.Sprintf("ns-%d", i%4)
		out[i] = &core.Event{Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("e.%d", i)},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("%s-%d", name, i)},
			Reason:         r,
			Message:        parts[i%len(parts)],
			Type:           corev1.EventTypeWarning,
			Count:          int32(i%3 + 1),
			LastTimestamp:  metav1.NewTime(Start.Add(time.Duration(i) * time.Second)),
		}, Cluster: name, Observed: Start}
	}
	return out
}
