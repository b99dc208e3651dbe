package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// BenchmarkExport measures one webhook delivery (render + request + reply) against a local
// receiver, over keep-alive connections.
func BenchmarkExport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	built, err := sinks.Build(1, "webhook:"+srv.URL+"/hook?method=POST&level=Normal", sinks.Env{Ctx: context.Background()})
	if err != nil {
		b.Fatal(err)
	}
	defer built.Sink.Close()
	events := []*core.Event{event("BackOff", "Back-off restarting failed container web in pod web-1_shop(4f1c)")}
	b.ReportAllocs()
	for b.Loop() {
		if err := built.Sink.Export(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
}
