package teams_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/teams"
)

// BenchmarkDigestWorstCase merges a full batch (500 events in 50 namespaces) whose messages
// are at chat's 64 KiB cap into one digest.
func BenchmarkDigestWorstCase(b *testing.B) {
	cfg, err := teams.ParseConfig(target(b, "teams:http://127.0.0.1:9/workflows/x?sig=abcdefghij"), sinks.Env{Cluster: "prod"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := teams.NewSink(cfg, sinks.Env{Ctx: context.Background(), Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	events := make([]*core.Event, 500)
	for i := range events {
		events[i] = event(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("pod-%d", i), fmt.Sprint("Reason", i%3), strings.Repeat("容器😀<&>", 8000))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.PreviewDigest(events); err != nil {
			b.Fatal(err)
		}
	}
}
