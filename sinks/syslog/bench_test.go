package syslog_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// BenchmarkTCPExport sends RFC 5424 messages, octet-counted, over one TCP connection into the
// strict local receiver, which parses every one; the time includes the receiver's taking the
// last message. One op is one event.
func BenchmarkTCPExport(b *testing.B) {
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rc := newReceiver(b, receiverOptions{network: "tcp"})
			s := build(b, "syslog://"+rc.Addr+"?network=tcp&level=Normal", sinks.Env{})
			evs := make([]*core.Event, batch)
			for i := range evs {
				evs[i] = template.SampleEvent()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if err := s.Export(context.Background(), evs[:min(batch, b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
			rc.wait(b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkTCPExportSinkOnly is BenchmarkTCPExport into a listener that discards the bytes, so
// that the allocations and time are the sink's alone (formatting, framing, the write).
func BenchmarkTCPExportSinkOnly(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	const batch = 500
	s := build(b, "syslog://"+l.Addr().String()+"?network=tcp&level=Normal", sinks.Env{})
	evs := make([]*core.Event, batch)
	for i := range evs {
		evs[i] = template.SampleEvent()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		if err := s.Export(context.Background(), evs[:min(batch, b.N-i)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
