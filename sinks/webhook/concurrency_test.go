package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// TestConcurrencyOverlapsRequestsAndKeepsEachObjectInOrder runs the webhook sink in the real
// pipeline with concurrency=4 against a receiver that holds each request until a second one is
// in flight (or 5 s pass): with one lane the receiver never sees two at once; with four it does,
// and every object's events still arrive in the order they were pushed.
func TestConcurrencyOverlapsRequestsAndKeepsEachObjectInOrder(t *testing.T) {
	for _, tc := range []struct {
		param   string
		overlap bool
	}{{"&concurrency=1", false}, {"", true}} {
		t.Run("concurrency"+tc.param, func(t *testing.T) {
			var (
				mu       sync.Mutex
				inFlight int
				most     int
				order    = map[string][]string{}
				got      int
				second   = make(chan struct{})
				once     sync.Once
			)
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var b struct{ EventKind, EventMessage string }
				if err := json.Unmarshal(body, &b); err != nil {
					t.Errorf("body %q: %v", body, err)
				}
				mu.Lock()
				inFlight++
				most = max(most, inFlight)
				if inFlight >= 2 {
					once.Do(func() { close(second) })
				}
				mu.Unlock()
				if tc.overlap {
					select {
					case <-second:
					case <-time.After(5 * time.Second):
					}
				}
				mu.Lock()
				inFlight--
				obj, seq := "", ""
				fmt.Sscanf(b.EventMessage, "%s %s", &obj, &seq)
				order[obj] = append(order[obj], seq)
				got++
				mu.Unlock()
			}))
			defer rc.Close()

			b, err := sinks.Build(1, "webhook:"+rc.URL+"/hook?level=Normal"+tc.param, sinks.Env{Ctx: context.Background()})
			if err != nil {
				t.Fatal(err)
			}
			p := core.NewPipeline(core.PipelineConfig{Metrics: core.NewMetrics(prometheus.NewRegistry())})
			p.Add(b.ID, b.Sink, b.Filter, b.Options)
			p.Start()
			const objects, each = 8, 5
			for i := range each {
				for o := range objects {
					e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e-%d-%d", o, i), Namespace: "default"},
						InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: fmt.Sprintf("pod-%d", o)},
						Type:           "Normal", Reason: "Pulled", Message: fmt.Sprintf("pod-%d %02d", o, i)}
					p.Push(&core.Event{Event: e, Observed: time.Now()})
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got != objects*each {
				t.Fatalf("receiver got %d requests, want %d", got, objects*each)
			}
			if tc.overlap && most < 2 {
				t.Errorf("at most %d request(s) in flight with concurrency 4, want several", most)
			}
			if !tc.overlap && most != 1 {
				t.Errorf("%d requests in flight with concurrency=1, want 1", most)
			}
			for obj, seqs := range order {
				if !slices.IsSorted(seqs) || len(seqs) != each {
					t.Errorf("%s: events arrived as %v, want %d in order", obj, seqs, each)
				}
			}
		})
	}
}
