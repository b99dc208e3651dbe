package otlp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/otlp"
	"github.com/heraldproject/herald/sinks/otlp/otlptest"
)

func benchEvents(n int) []*core.Event {
	events := make([]*core.Event, n)
	for i := range events {
		e := event("BackOff", "shop", "Pod", fmt.Sprintf("web-%d", i%50), int32(i%7+1))
		e.Message = "Back-off restarting failed container web in pod web-1_shop(4f1c0a2e-9b1d-4c55-a1a3-0f1e2d3c4b5a)"
		events[i] = e
	}
	return events
}

func benchExport(b *testing.B, url, params string, n int) {
	s := build(b, "otlp:"+url+"?level=Normal"+params, env())
	events := benchEvents(n)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Export(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkExport500 sends batches of 500 to the test receiver, which decompresses and decodes
// each request as the Collector does; the allocations are the sink's and the receiver's.
func BenchmarkExport500(b *testing.B) {
	rc := otlptest.New(b)
	benchExport(b, rc.URL, "", 500)
	if len(rc.Requests()) == 0 {
		b.Fatal("the receiver took nothing")
	}
}

// BenchmarkExport500Plain is the same without compression.
func BenchmarkExport500Plain(b *testing.B) {
	rc := otlptest.New(b)
	benchExport(b, rc.URL, "&compression=none", 500)
}

// BenchmarkExport500Discard measures the sink alone: the receiver reads and drops the body and
// answers an empty ExportLogsServiceResponse.
func BenchmarkExport500Discard(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", otlp.ContentType)
	}))
	b.Cleanup(srv.Close)
	benchExport(b, srv.URL, "", 500)
}

// BenchmarkRecords500 is the encoding alone: 500 events to log records and one request's
// protobuf, no compression, no network.
func BenchmarkRecords500(b *testing.B) {
	s := build(b, "otlp:http://127.0.0.1:9?level=Normal", env()).(*otlp.Sink)
	events := benchEvents(500)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		records, _, _, _ := s.Records(events)
		raw, err := protoMarshal(s.Request(records))
		if err != nil {
			b.Fatal(err)
		}
		size = len(raw)
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/500, "bytes/event")
}

func protoMarshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }
