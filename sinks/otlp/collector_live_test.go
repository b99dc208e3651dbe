//go:build collector

package otlp_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
)

// TestAgainstCollector sends through a running OpenTelemetry Collector's OTLP/HTTP receiver, the
// one testdata/otelcol builds, named by HERALD_OTLP_COLLECTOR (http://127.0.0.1:PORT); its logs
// consumer answers a record whose body is "throttle" with Unavailable and a 7 s RetryInfo, and
// one whose body is "reject" with a permanent error. Building the Collector takes minutes on 2
// cores, so this test is behind the collector build tag and make test does not run it;
// make test-otlp-collector builds the Collector (cached) and runs it.
func TestAgainstCollector(t *testing.T) {
	url := os.Getenv("HERALD_OTLP_COLLECTOR")
	if url == "" {
		t.Fatal("HERALD_OTLP_COLLECTOR is not set: run make test-otlp-collector, which builds and starts the Collector")
	}
	s := build(t, "otlp:"+url+"?level=Normal", env())
	var batch []*core.Event
	for _, reason := range []string{"BackOff", "Pulled", "OOMKilling"} {
		batch = append(batch, event(reason, "shop", "Pod", "web-1", 2))
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatalf("the Collector refused herald's request: %v", err)
	}
	throttle := event("BackOff", "shop", "Pod", "web-1", 1)
	throttle.Message = "throttle"
	err := s.Export(context.Background(), []*core.Event{throttle})
	httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 503, Want: httpxtest.Retry, Wait: 7 * time.Second}, err)
	reject := event("BackOff", "shop", "Pod", "web-1", 1)
	reject.Message = "reject"
	err = s.Export(context.Background(), []*core.Event{reject})
	httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 400, Want: httpxtest.Permanent}, err)
}
