package discord_test

import "testing"

// BenchmarkDigestWorstCase merges a full batch (500 events in 50 namespaces) whose messages
// are at chat's 64 KiB cap into one digest.
func BenchmarkDigestWorstCase(b *testing.B) {
	kit.BenchmarkDigestWorstCase(b, "discord:http://127.0.0.1:9/api/webhooks/1/x")
}
