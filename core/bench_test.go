package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/filter"
)

// renderSink renders every event with kube-eventer's default body in JSON mode, as the
// webhook sink does before it sends, and counts them.
type renderSink struct {
	body *template.Body
	mu   sync.Mutex
	n    int
	done chan struct{}
	want int
}

func (s *renderSink) Name() string { return "render" }
func (s *renderSink) Export(_ context.Context, events []*core.Event) error {
	for _, e := range events {
		if _, err := s.body.Render(e); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.n += len(events)
	if s.n >= s.want {
		close(s.done)
	}
	s.mu.Unlock()
	return nil
}
func (s *renderSink) Close() error { return nil }

// BenchmarkPipeline measures events/s through Push → filter → queue → batch → template render,
// with allocations per event.
func BenchmarkPipeline(b *testing.B) { benchmarkPipeline(b, false) }

// BenchmarkPipelineTracked is BenchmarkPipeline with every event carrying a Position, as the
// kubernetes source sets it: the cost of the checkpoint watermark.
func BenchmarkPipelineTracked(b *testing.B) { benchmarkPipeline(b, true) }

func benchmarkPipeline(b *testing.B, tracked bool) {
	body, err := template.New(context.Background(), template.Options{Owner: "bench", Default: template.KubeEventerDefault, JSON: true, Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	p := uri.NewParams("bench", map[string][]string{"level": {"Normal"}, "namespaces": {"prod,/^team-/"}, "exclude_reason": {"^Pulled$"}}, filter.Params)
	f := filter.FromParams(p, filter.Herald)
	if err := p.Err(); err != nil {
		b.Fatal(err)
	}
	events := make([]*core.Event, 1024)
	now := time.Now()
	for i := range events {
		events[i] = &core.Event{Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("web-%d.1", i), Namespace: "prod"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "prod", Name: fmt.Sprintf("web-%d", i)},
			Type:           "Warning", Reason: "BackOff", Count: 3,
			Message:       `Back-off restarting failed container "app" in pod "web-0": 容器重启`,
			LastTimestamp: metav1.NewTime(now),
		}, Observed: now}
		if tracked {
			events[i].Position = uint64(i + 1)
		}
	}
	sink := &renderSink{body: body, done: make(chan struct{}), want: b.N}
	pl := core.NewPipeline(core.PipelineConfig{})
	pl.Add("render", sink, f, core.SinkOptions{QueueSize: 1 << 20, BatchSize: 500, FlushInterval: time.Millisecond})
	pl.Start()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pl.Push(events[i%len(events)])
	}
	<-sink.done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	_ = pl.Shutdown(context.Background())
}

// BenchmarkFilter measures the filter alone.
func BenchmarkFilter(b *testing.B) {
	p := uri.NewParams("bench", map[string][]string{"namespaces": {"prod,/^team-/"}, "reason": {"BackOff|Failed"}, "exclude_kinds": {"Lease"}}, filter.Params)
	f := filter.FromParams(p, filter.Herald)
	e := &core.Event{Event: &corev1.Event{Type: "Warning", Reason: "BackOff",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "team-a"}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !f.Match(e) {
			b.Fatal("no match")
		}
	}
}
