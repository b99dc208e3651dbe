package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/heraldproject/herald/test/harness"
)

// TestCredentialRefusedForAWhile: the receiver answers 401 for 25 s (a robot key rotated, a
// token expired) while 150 events are written, then accepts again. A refused credential is an
// outage, not a verdict: herald_sink_up is 0 with reason credential meanwhile, the log says so
// once with the fix, nothing is dropped, and once the credential works all 150 arrive, once each.
func TestCredentialRefusedForAWhile(t *testing.T) {
	if testing.Short() {
		t.Skip("a 25 s outage; not in -short")
	}
	client := shared.Client()
	ns := namespace(t, shared, "cred")
	dropEventsAfter(t, ns)
	recv := harness.NewReceiver(t)
	recv.SetStatus(http.StatusUnauthorized)
	t.Setenv("HERALD_E2E_TOKEN", "tok-e2e-secret-1")
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s&header=Authorization=Bearer%%20${HERALD_E2E_TOKEN}&name=robot", recv.URL, ns)}})
	start := time.Now()
	var want []string
	for i := range 150 {
		want = append(want, createEvent(t, client, ns, fmt.Sprintf("cred-%d", i), "Warning", "BackOff", fmt.Sprintf("cred-%d", i)).Message)
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 25 * time.Second / 150)))
	}
	up, credential := h.Metric("herald_sink_up", `sink="robot"`), h.Metric("herald_sink_down_reason", `sink="robot"`, `reason="credential"`)
	refused := recv.Rejected()
	recv.SetStatus(http.StatusOK)
	fixed := time.Now()
	seen := waitForMessagesWithin(t, recv, want, 6*time.Minute)
	recovered := time.Since(fixed)
	dups := 0
	for _, m := range want {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
		dups += max(0, seen[m]-1)
	}
	if up != 0 || credential != 1 {
		t.Errorf("during the 401s: herald_sink_up %v, herald_sink_down_reason{reason=credential} %v; want 0 and 1", up, credential)
	}
	dropped := h.Metric("herald_sink_events_total", `sink="robot"`, `outcome="dropped"`)
	if dropped != 0 {
		t.Errorf("%v events dropped", dropped)
	}
	if got := h.WaitMetric(1, "herald_sink_up", `sink="robot"`); got != 1 {
		t.Errorf("herald_sink_up %v after the credential works, want 1", got)
	}
	logs := h.Logs()
	if n := strings.Count(logs, "refused the credential: "); n != 1 {
		t.Errorf("the refused credential is logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "${HERALD_E2E_TOKEN}") || !strings.Contains(logs, "Secret") {
		t.Errorf("the log does not say which Secret-backed variable to fix:\n%s", logs)
	}
	if strings.Contains(logs, "tok-e2e-secret-1") {
		t.Error("the token appears in the log")
	}
	t.Logf("401 for %s: created %d, delivered %d, duplicated %d, dropped %v; %d requests refused (backoff up to 5 min); all delivered %s after the credential worked",
		fixed.Sub(start).Round(100*time.Millisecond), len(want), len(recv.Requests()), dups, dropped, refused, recovered.Round(100*time.Millisecond))
}

// waitForMessagesWithin waits until every message in want has arrived at least once, for at most limit.
func waitForMessagesWithin(t *testing.T, recv *harness.Receiver, want []string, limit time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		seen := messages(t, recv.Requests())
		missing := 0
		for _, m := range want {
			if seen[m] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages never arrived within %s; got %v", missing, len(want), limit, seen)
		}
		recv.WaitFor(len(recv.Requests())+1, time.Second)
	}
}

// TestResumeBacklogLargerThanTheQueue: queue_size=5, and 60 events are written while herald is
// down. The resume waits for room in the queue instead of dropping: 60 of 60 arrive, once.
// Then a larger backlog (2,000 events) into a receiver that takes 2 ms per event.
func TestResumeBacklogLargerThanTheQueue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		delay time.Duration
	}{{"60-queue-5", 60, 0}, {"2000-slow-receiver-queue-5", 2000, 2 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) { testResumeBacklog(t, tc.n, tc.delay) })
	}
}

func testResumeBacklog(t *testing.T, n int, delay time.Duration) {
	client := shared.Client()
	ns := namespace(t, shared, "backlog")
	dropEventsAfter(t, ns)
	recv := harness.NewReceiver(t)
	target := recv.URL
	if delay > 0 {
		slow := httpDelay(t, recv.URL, delay)
		target = slow
	}
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	opts := harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s&queue_size=5&name=small", target, ns)},
		Args:  []string{"--checkpoint=file:" + cpPath}}
	h := harness.Start(t, opts)
	first := createEvents(t, client, ns, "first", 3)
	waitForMessages(t, recv, first)
	if err := h.Stop(); err != nil {
		t.Fatalf("herald exit after SIGTERM: %v", err)
	}
	down := createEventsFast(t, ns, "down", n)
	start := time.Now()
	h2 := harness.Start(t, opts)
	seen := waitForMessagesWithin(t, recv, down, 5*time.Minute)
	took := time.Since(start)
	dups := 0
	for _, m := range append(first, down...) {
		if seen[m] != 1 {
			t.Errorf("%s arrived %d times, want 1", m, seen[m])
		}
		dups += max(0, seen[m]-1)
	}
	dropped := h2.Metric("herald_sink_events_total", `outcome="dropped"`)
	waits := h2.Metric("herald_sink_backpressure_waits_total", `sink="small"`)
	if dropped != 0 {
		t.Errorf("%v events dropped during the resume", dropped)
	}
	if waits == 0 {
		t.Errorf("herald_sink_backpressure_waits_total = 0: a backlog of %d never met a full queue of 5?", n)
	}
	t.Logf("resume of %d events into queue_size=5 (receiver delay %s): created %d, delivered %d, duplicated %d, dropped %v, backpressure waits %v; all delivered %s after the restart",
		n, delay, n, len(recv.Requests())-len(first), dups, dropped, waits, took.Round(100*time.Millisecond))
}

// httpDelay puts a proxy in front of url that holds each request for delay.
func httpDelay(t *testing.T, url string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		req, _ := http.NewRequest(r.Method, url+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// createEventsFast is createEvents with 8 writers, for large backlogs.
func createEventsFast(t *testing.T, ns, prefix string, n int) []string {
	t.Helper()
	cfg := shared.RESTConfig()
	cfg.QPS, cfg.Burst = 2000, 2000
	client := clientFor(t, cfg)
	out := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				name := fmt.Sprintf("%s-%d", prefix, i)
				ev := newEvent(ns, name)
				if _, err := client.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				out[i] = name
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return out
}

// TestTwoInstancesInOneNamespace: two installs (--instance=team-a, --instance=team-b) with leader
// election in one namespace: each holds its own Lease and saves its own checkpoint ConfigMap,
// both deliver every event of theirs, neither stands by. Two installs that forget --instance
// (both "herald", different sinks): the one standing by says so in /readyz and
// herald_instance_conflict.
func TestTwoInstancesInOneNamespace(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "twoinst")
	leaseArgs := []string{"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}
	start := func(instance, name string, recv *harness.Receiver) *harness.Herald {
		args := append([]string{"--leader-elect", "--instance=" + instance}, leaseArgs...)
		h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Env: []string{"POD_NAMESPACE=" + ns},
			Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s&name=%s", recv.URL, ns, name)}, Args: args, NoWaitReady: true})
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if resp, err := http.Get(h.URL("/healthz")); err == nil {
				resp.Body.Close()
				return h
			}
			if time.Now().After(deadline) {
				t.Fatalf("herald %s never served /healthz\n%s", instance, h.Logs())
			}
		}
	}
	ra, rb := harness.NewReceiver(t), harness.NewReceiver(t)
	a, b := start("team-a", "a", ra), start("team-b", "b", rb)
	waitLeader(t, a)
	waitLeader(t, b)
	// Leading comes before the initial list: an event written in between is recorded as present
	// at start, not delivered. Ready means the watch is up.
	a.WaitReady()
	b.WaitReady()
	evs := createEvents(t, client, ns, "both", 20)
	seenA, seenB := waitForMessages(t, ra, evs), waitForMessages(t, rb, evs)
	for _, m := range evs {
		if seenA[m] != 1 || seenB[m] != 1 {
			t.Errorf("%s arrived %d times at team-a and %d at team-b; want 1 and 1", m, seenA[m], seenB[m])
		}
	}
	for _, name := range []string{"team-a", "team-b"} {
		if _, err := client.CoordinationV1().Leases(ns).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			t.Errorf("Lease %s: %v", name, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := client.CoreV1().ConfigMaps(ns).Get(context.Background(), name+"-checkpoint", metav1.GetOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("ConfigMap %s-checkpoint: %v", name, err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if a.Metric("herald_instance_conflict")+b.Metric("herald_instance_conflict") != 0 {
		t.Error("two instances with their own names report a conflict")
	}

	// Both "herald": one leads, the other stands by under a leader of another configuration.
	rc, rd := harness.NewReceiver(t), harness.NewReceiver(t)
	c := start("herald", "c", rc)
	waitLeader(t, c)
	d := start("herald", "d", rd)
	deadline := time.Now().Add(90 * time.Second)
	for d.Metric("herald_instance_conflict") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the standby under another install's leader never reported a conflict\n%s", d.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	ok, body := d.Ready()
	if ok || !strings.Contains(body, "instance conflict") || !strings.Contains(body, "--instance") {
		t.Errorf("/readyz of the standby in conflict: ready %v, %q; want 503 naming the conflict and the fix", ok, body)
	}
	if !strings.Contains(d.Logs(), "instance conflict: the Lease "+ns+"/herald is held by") {
		t.Errorf("no conflict in the standby's log:\n%s", d.Logs())
	}
	t.Logf("two instances: team-a delivered %d, team-b %d of %d each, 0 duplicated; same instance name: the standby reported %q", len(ra.Requests()), len(rb.Requests()), len(evs), body)
}

// TestHungReceiversDoNotHoldShutdown: a Kafka broker, a MySQL server and a webhook receiver that
// accept connections and never answer. With --shutdown-timeout=3s herald exits soon after SIGTERM
// (before: over 91 s for the Kafka broker), with its final checkpoint saved below the events it
// could not deliver.
func TestHungReceiversDoNotHoldShutdown(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "hung")
	hung := hungListener(t)
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{
			fmt.Sprintf("kafka:?brokers=%s&eventstopic=events&namespaces=%s&name=kafka", hung, ns),
			fmt.Sprintf("webhook:http://%s/?method=POST&namespaces=%s&name=webhook", hung, ns),
			fmt.Sprintf("mysql:?herald:pw@tcp(%s)/herald&namespaces=%s&name=mysql", hung, ns),
		},
		Args: []string{"--shutdown-timeout=3s", "--checkpoint=file:" + cpPath}})
	first := createEvent(t, client, ns, "first", "Warning", "BackOff", "first")
	createEvents(t, client, ns, "hung", 4)
	time.Sleep(3 * time.Second) // every sink is inside an export that never gets an answer
	stop := time.Now()
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
	took := time.Since(stop)
	// The contract of the flag, with room for a loaded machine: not a speed measurement.
	if took > 3*time.Second+15*time.Second {
		t.Errorf("herald took %s to exit after SIGTERM with --shutdown-timeout=3s", took.Round(100*time.Millisecond))
	}
	logs := h.Logs()
	if !strings.Contains(logs, "stopped") {
		t.Errorf("no orderly stop in the log:\n%s", logs)
	}
	cp := readCheckpoint(t, cpPath)
	for _, key := range []string{"name=kafka", "name=webhook", "name=mysql"} {
		if rv, _ := strconv.ParseUint(first.ResourceVersion, 10, 64); cp.Sink(key) == 0 || cp.Sink(key) >= rv {
			t.Errorf("checkpoint %+v: %s must be positioned below the first undelivered event (resourceVersion %d)", cp, key, rv)
		}
	}
	t.Logf("hung Kafka broker, MySQL server and webhook receiver: exited %s after SIGTERM with --shutdown-timeout=3s; checkpoint %+v", took.Round(100*time.Millisecond), cp)
}

// hungListener accepts TCP connections on 127.0.0.1 and never writes a byte.
func hungListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestGarbledCheckpointIsAGap: a checkpoint file herald cannot read is an error in the log and a
// gap in herald_source_gaps_total, never a silent "none saved yet"; herald still starts.
func TestGarbledCheckpointIsAGap(t *testing.T) {
	ns := namespace(t, shared, "garbled")
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	if err := os.WriteFile(cpPath, []byte(`{"positions":[1,2,3]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&namespaces=%s", recv.URL, ns)},
		Args:  []string{"--checkpoint=file:" + cpPath}})
	if got := h.Metric("herald_source_gaps_total"); got != 1 {
		t.Errorf("herald_source_gaps_total = %v, want 1", got)
	}
	logs := h.Logs()
	if strings.Contains(logs, "none saved yet") || !strings.Contains(logs, "herald cannot resume from it") || !strings.Contains(logs, cpPath) {
		t.Errorf("the log does not report the unreadable checkpoint as an error naming it:\n%s", logs)
	}
	createEvent(t, shared.Client(), ns, "after", "Warning", "BackOff", "after")
	waitForMessage(t, recv, "after")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if cp := readCheckpoint(t, cpPath); cp.ResourceVersion == 0 {
		t.Error("the garbled checkpoint was not replaced by a good one")
	}
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newEvent is a Warning event about a Pod, worded as its name, as createEvent writes it.
func newEvent(ns, name string) *corev1.Event {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "pod-" + name, APIVersion: "v1"},
		Type:           "Warning", Reason: "BackOff", Message: name,
		Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}
}

// dropEventsAfter deletes ns's events when the test ends: the shared cluster has no namespace
// controller, and thousands of events about as many pods would crowd later tests' pod event
// history (it covers the 1,000 most recently active pods).
func dropEventsAfter(t *testing.T, ns string) {
	t.Cleanup(func() {
		_ = shared.Client().CoreV1().Events(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
	})
}
