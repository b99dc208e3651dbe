package alertmanager_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// BenchmarkExport500 posts a default-sized batch (500 Warning events, one request) to the local
// receiver, which validates every alert and stores it by label set.
func BenchmarkExport500(b *testing.B) {
	rc := newReceiver(b)
	bt, err := sinks.Build(1, "alertmanager:"+rc.URL, sinks.Env{Ctx: context.Background(), Cluster: "prod"})
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Sink.Close()
	var batch []*core.Event
	for i := range 500 {
		batch = append(batch, event("BackOff", "shop", "Pod", fmt.Sprintf("web-%d", i), 3, t0))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := bt.Sink.Export(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
