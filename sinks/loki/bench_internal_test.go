package loki

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// BenchmarkEncode is the sink's own work for one batch, without HTTP: each event to an entry
// (labels, the event as JSON, the timestamp), sorted, grouped into streams and encoded as
// snappy protobuf or JSON. Its allocs/event are the sink's alone.
func BenchmarkEncode(b *testing.B) {
	start := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	for _, format := range []string{FormatProtobuf, FormatJSON} {
		for _, batch := range []int{100, 500} {
			b.Run(fmt.Sprintf("%s/batch=%d", format, batch), func(b *testing.B) {
				built, err := sinks.Build(1, "loki:http://127.0.0.1:9?format="+format, sinks.Env{Now: func() time.Time { return start }})
				if err != nil {
					b.Fatal(err)
				}
				s := built.Sink.(*Sink)
				evs := chattest.StormEvents(batch, start, time.Millisecond)
				b.ReportAllocs()
				for b.Loop() {
					var out core.Outcomes
					list := s.entries(evs, &out)
					groups := streams(list)
					if format == FormatJSON {
						if _, err := encodeJSON(groups); err != nil {
							b.Fatal(err)
						}
					} else {
						var body []byte
						body, s.raw = encodeProtobuf(s.raw, groups)
						_ = body
					}
					clear(s.pending) // as a delivered batch leaves it
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
					var out core.Outcomes
					list := s.entries(evs, &out)
					groups := streams(list)
					if format == FormatJSON {
						_, _ = encodeJSON(groups)
					} else {
						_, s.raw = encodeProtobuf(s.raw, groups)
					}
					clear(s.pending)
				}))/float64(batch), "allocs/event")
			})
		}
	}
}
