package chat

import (
	"strings"
	"testing"
)

// BenchmarkFitDigest merges a full batch (500 events) into a 4096-byte message.
func BenchmarkFitDigest(b *testing.B) {
	events := storm(500)
	b.ReportAllocs()
	for b.Loop() {
		d := Summarize(events, "prod", nil)
		if _, _, err := FitDigest(d, FitOptions{Limit: 4096}, textLayout); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFencedTail cuts a 16 KiB log (MaxLogBytes) with entities to a Slack section.
func BenchmarkFencedTail(b *testing.B) {
	log := strings.Repeat("2026-11-23T18:53:10Z GET /a?x=1&y=<2> ``` 200\n", MaxLogBytes/48)
	esc := func(s string) string { return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s) }
	for b.Loop() {
		if FencedTail(log, 3000, esc) == "" {
			b.Fatal("empty")
		}
	}
}
