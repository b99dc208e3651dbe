package influxdb

import (
	"context"
	"fmt"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/test/influxdb"
)

// BenchmarkExportInfluxDB18 measures events/s into InfluxDB 1.8.10 through /write, batches of
// 500 (the pipeline's default), each batch new points, in each layout.
func BenchmarkExportInfluxDB18(b *testing.B) {
	for _, layout := range []string{"withfields=false", "withfields=true", "layout=herald"} {
		b.Run(layout, func(b *testing.B) { benchExport(b, layout) })
	}
}

func benchExport(b *testing.B, params string) {
	srv := influxdb.ForTest(b)
	s := build(b, "influxdb:"+srv.URL+"?db=bench&"+params)
	const n = 500
	for i := 0; b.Loop(); i++ {
		evs := make([]*core.Event, n)
		for j := range evs {
			evs[j] = event(i*n+j, 1, fmt.Sprintf("Back-off restarting failed container %d", j))
		}
		if err := s.Export(context.Background(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
