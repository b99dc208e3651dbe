package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/test/harness"
)

// TestSinkOutage: the receiver answers 503, or refuses connections (its port closed), for 35 s
// while about 20 events a second are written. Afterwards every event has arrived exactly once,
// in order per object; the retries backed off (a handful of attempts, not one per event per
// 0.5 s); nothing was dropped.
func TestSinkOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("35 s outages; not in -short")
	}
	for _, mode := range []string{"503", "refused"} {
		t.Run(mode, func(t *testing.T) { testSinkOutage(t, mode) })
	}
}

func testSinkOutage(t *testing.T, mode string) {
	client := shared.Client()
	ns := namespace(t, shared, "outage")
	recv := harness.NewReceiver(t)
	proxy := harness.NewProxy(t, strings.TrimPrefix(recv.URL, "http://"))
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:http://%s?method=POST&namespaces=%s", proxy.Addr(), ns)}})

	const objects = 5
	var mu sync.Mutex
	var created []string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // 20 events a second, round-robin over a few objects, until stop
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			obj := fmt.Sprintf("obj-%d", i%objects)
			msg := fmt.Sprintf("%s seq-%04d", obj, i)
			now := metav1.NewTime(time.Now())
			ev := &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("outage-%d", i), Namespace: ns},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: obj, APIVersion: "v1"},
				Type:           "Warning", Reason: "BackOff", Message: msg, Count: 1,
				FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kubelet"},
			}
			if _, err := client.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
				t.Errorf("create %s: %v", msg, err)
				return
			}
			mu.Lock()
			created = append(created, msg)
			mu.Unlock()
		}
	}()

	time.Sleep(2 * time.Second)
	if mode == "503" {
		recv.SetStatus(http.StatusServiceUnavailable)
	} else {
		proxy.Refuse()
	}
	retries0 := h.Metric("herald_sink_retries_total")
	outageStart := time.Now()
	time.Sleep(35 * time.Second)
	retriesDuring := h.Metric("herald_sink_retries_total") - retries0
	if mode == "503" {
		recv.SetStatus(http.StatusOK)
	} else {
		proxy.Restore()
	}
	recovered := time.Now()
	outage := recovered.Sub(outageStart)
	time.Sleep(3 * time.Second)
	close(stop)
	<-done
	mu.Lock()
	want := append([]string(nil), created...)
	mu.Unlock()

	seen := waitForMessages(t, recv, want)
	var lastAt time.Time
	for _, r := range recv.Requests() {
		if r.At.After(lastAt) {
			lastAt = r.At
		}
	}
	dups := 0
	for _, m := range want {
		if seen[m] != 1 {
			t.Errorf("%q arrived %d times, want 1", m, seen[m])
			dups += max(0, seen[m]-1)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct messages arrived, %d created", len(seen), len(want))
	}
	// In order per object: each object's sequence numbers only rise.
	last := map[string]int{}
	for _, r := range recv.Requests() {
		msg := decode(t, r).EventMessage
		obj, seq, _ := strings.Cut(msg, " seq-")
		n, _ := strconv.Atoi(seq)
		if p, ok := last[obj]; ok && n < p {
			t.Errorf("%s: seq %d arrived after %d", obj, n, p)
		}
		last[obj] = n
	}
	// Backoff, not hammering: 0.5 s doubling to 10 s makes about 8 attempts in 35 s. Without
	// backoff a retry every 0.5 s would be 70, and per-event retries hundreds.
	rejected := recv.Rejected()
	if mode == "503" && (rejected == 0 || rejected > 15) {
		t.Errorf("the receiver refused %d requests during a %s outage; want a few (exponential backoff)", rejected, outage.Round(time.Second))
	}
	if retriesDuring == 0 || retriesDuring > 15 {
		t.Errorf("herald retried %v times during a %s outage (%s); want a few (exponential backoff)", retriesDuring, outage.Round(time.Second), mode)
	}
	retries := h.Metric("herald_sink_retries_total")
	dropped := h.Metric("herald_sink_events_total", `outcome="dropped"`)
	if retries == 0 {
		t.Error("herald_sink_retries_total = 0")
	}
	if dropped != 0 {
		t.Errorf("%v events dropped with the default queue", dropped)
	}
	t.Logf("outage (%s) %s: created %d, delivered %d, duplicated %d, dropped %v; refused requests %d, retries during the outage %v; all delivered %s after the receiver recovered",
		mode, outage.Round(100*time.Millisecond), len(want), len(recv.Requests()), dups, dropped, rejected, retriesDuring, lastAt.Sub(recovered).Round(100*time.Millisecond))
}
