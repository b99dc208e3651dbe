package chat

import "testing"

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
