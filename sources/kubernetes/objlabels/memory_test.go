package objlabels

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// bytesPerEntry fills a Lookup with n cached pods as a busy cluster's events would: every
// string is a fresh copy (decoded from a response), with the four labels a Deployment's pod
// typically has. It returns the heap the cache holds per entry.
func bytesPerEntry(t *testing.T, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := newFixture(t, Config{MaxEntries: n}).lookup
	for i := range n {
		name := fmt.Sprintf("checkout-7d9f8c6b5-%05d", i)
		l.store(&entry{
			key: key{namespace: strings.Clone("payments"), kind: strings.Clone("Pod"), name: name},
			labels: map[string]string{
				strings.Clone("app.kubernetes.io/name"):     strings.Clone("checkout"),
				strings.Clone("app.kubernetes.io/instance"): strings.Clone("checkout-prod"),
				strings.Clone("pod-template-hash"):          strings.Clone("7d9f8c6b5"),
				strings.Clone("team"):                       strings.Clone("payments"),
			},
			uid: types.UID(fmt.Sprintf("6f1c2f9e-3b1e-4c8e-9a57-%012d", i)),
		})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(l)
	if l.Len() != n {
		t.Fatalf("Len() = %d, want %d", l.Len(), n)
	}
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// A full cache at the default MaxEntries must stay within about 10 MiB (measured: under 900
// bytes per object with four labels), so that its bound is harmless next to the rest of herald.
func TestMemoryPerEntry(t *testing.T) {
	per := bytesPerEntry(t, DefaultMaxEntries)
	t.Logf("%.0f bytes per cached object with 4 labels; %.1f MiB at DefaultMaxEntries (%d)", per, per*DefaultMaxEntries/(1<<20), DefaultMaxEntries)
	if per > 1500 {
		t.Errorf("%.0f bytes per cached object, want under 1500", per)
	}
}
