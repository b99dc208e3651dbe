package sls_test

import (
	"context"
	"testing"

	"github.com/heraldproject/herald/core"
)

// BenchmarkExport500 writes a default-sized batch (500 events, one PutLogs request) to the local
// receiver, which decompresses, decodes and re-signs it.
func BenchmarkExport500(b *testing.B) {
	rc := newReceiver(b)
	s := build(b, sinkValue(rc, "&label=ClusterId,c1234"))
	var batch []*core.Event
	for i := range 500 {
		batch = append(batch, event("BackOff", "Pod", "web-1", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Export(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
