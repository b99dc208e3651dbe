package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// benchSink builds a webhook sink posting to a local receiver that answers 200 at once.
func benchSink(b *testing.B) core.Sink {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	b.Cleanup(srv.Close)
	built, err := sinks.Build(1, "webhook:"+srv.URL+"/hook?method=POST&level=Normal", sinks.Env{Ctx: context.Background()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = built.Sink.Close() })
	return built.Sink
}

func benchExport(b *testing.B, n int) {
	sink := benchSink(b)
	events := make([]*core.Event, n)
	for i := range events {
		events[i] = event("BackOff", "Back-off restarting failed container web in pod web-1_shop(4f1c)")
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := sink.Export(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkExport measures one webhook delivery (render + request + reply) against a local
// receiver, over keep-alive connections.
func BenchmarkExport(b *testing.B) { benchExport(b, 1) }

// BenchmarkExport500 is a batch of 500 (one request per event, as kube-eventer), comparable
// with the kafka and mysql sinks' BenchmarkExport500.
func BenchmarkExport500(b *testing.B) { benchExport(b, 500) }
