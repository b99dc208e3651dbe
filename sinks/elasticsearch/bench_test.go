package elasticsearch

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/test/zincsearch"
)

// BenchmarkExportZinc measures events/s into ZincSearch, batches of 500 (the pipeline's
// default), each batch new documents.
func BenchmarkExportZinc(b *testing.B) {
	srv := zincsearch.ForTest(b)
	s := build(b, zincURI(srv, "&index=bench-%25Y.%25m.%25d"))
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

// BenchmarkEncode measures building the bulk body alone, batches of 500.
func BenchmarkEncode(b *testing.B) {
	s := build(b, "elasticsearch:http://127.0.0.1:9?index=bench-%25Y.%25m.%25d")
	evs := batch(0, 500)
	for b.Loop() {
		buf := bytes.NewBuffer(make([]byte, 0, 1<<20))
		for _, e := range evs {
			a, err := s.action(e)
			if err != nil {
				b.Fatal(err)
			}
			s.writeAction(buf, a, server{major: 8})
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}
