package loki_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/loki/lokitest"
)

// BenchmarkPushIntoReceiver exports batches of realistic events (StormEvents: five reasons,
// three namespaces, kubelet and scheduler messages) into lokitest over loopback HTTP, which
// decodes and validates every push. events/s is what one sink delivers end to end; allocs/event
// counts both sides, since the receiver runs in this process (BenchmarkEncode is the sink's
// share).
func BenchmarkPushIntoReceiver(b *testing.B) {
	for _, format := range []string{"protobuf", "json"} {
		for _, batch := range []int{100, 500} {
			b.Run(fmt.Sprintf("%s/batch=%d", format, batch), func(b *testing.B) {
				rc := lokitest.New(b, lokitest.Options{Unordered: true, Discard: true, RejectOldSamplesMaxAge: -1, CreationGracePeriod: 1000 * time.Hour})
				s := build(b, "loki:"+rc.URL+"?format="+format)
				evs := chattest.StormEvents(batch, t0, time.Millisecond)
				ctx := context.Background()
				if err := s.Export(ctx, evs); err != nil { // warm: connection, stream state
					b.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for b.Loop() {
					if err := s.Export(ctx, evs); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				events := float64(b.N * batch)
				b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
				if got := rc.Received(); got != (b.N+1)*batch {
					b.Fatalf("the receiver decoded %d entries, want %d", got, (b.N+1)*batch)
				}
			})
		}
	}
}
