package file_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/file"
)

// benchEvents are batch copies of the sample event (about 1 KB of JSON each).
func benchEvents(batch int) []*core.Event {
	out := make([]*core.Event, batch)
	for i := range out {
		out[i] = template.SampleEvent()
	}
	return out
}

// BenchmarkExport appends herald.event/v1 lines through Export, one fdatasync per batch, as the
// pipeline drives it (batch_size 500 by default). One op is one event.
func BenchmarkExport(b *testing.B) {
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := newSink(b, file.Config{Path: filepath.Join(b.TempDir(), "events.log"), Format: file.FormatJSON, MaxSize: 100 << 20, MaxBackups: 2}, nil)
			evs := benchEvents(batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if err := s.Export(context.Background(), evs[:min(batch, b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkLumberjack writes the same lines through lumberjack.Logger, for comparison: without a
// sync (what kubernetes-event-exporter's file receiver does), and with the only sync lumberjack
// allows from outside, opening the path again and fsyncing that per batch (which misses the
// lines of a file rotated away within the batch).
func BenchmarkLumberjack(b *testing.B) {
	for _, mode := range []string{"nosync", "fsync-by-path"} {
		b.Run(mode+"/batch=500", func(b *testing.B) {
			const batch = 500
			path := filepath.Join(b.TempDir(), "events.log")
			l := &lumberjack.Logger{Filename: path, MaxSize: 100, MaxBackups: 2}
			defer l.Close()
			evs := benchEvents(batch)
			var buf bytes.Buffer
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				buf.Reset()
				for _, e := range evs[:min(batch, b.N-i)] {
					if err := file.AppendRecord(&buf, e, now); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := l.Write(buf.Bytes()); err != nil {
					b.Fatal(err)
				}
				if mode == "fsync-by-path" {
					f, err := os.OpenFile(path, os.O_WRONLY, 0)
					if err != nil {
						b.Fatal(err)
					}
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
