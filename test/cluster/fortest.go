package cluster

import (
	"strings"
	"testing"
)

// ForTest starts a cluster for t in t.TempDir() and stops it when t ends. If the servers cannot
// be had (no binaries, a failed build, a server that does not start), t fails with the reason:
// a test that needs a real API server never skips silently, on CI or anywhere else.
//
// The first call on a fresh machine builds the binaries (about 6 min on 2 cores), longer than
// go test's default 10 min budget allows for a package of such tests; CI runs
// hack/kube-binaries.sh first and exports HERALD_KUBE_BIN.
func ForTest(t testing.TB) *Cluster {
	t.Helper()
	return ForTestWith(t, Options{})
}

// ForTestWith is ForTest with options (its Dir is always t.TempDir()).
func ForTestWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	opts.Dir = t.TempDir()
	c, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("cannot start the test Kubernetes API server (kube-apiserver + etcd from $%s or hack/kube-binaries.sh): %v", BinDirEnv, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			// The logs live in t.TempDir(), which is removed after this: show their ends now.
			for _, path := range c.Logs() {
				t.Logf("last lines of %s:\n%s", path, tail(path, 30))
			}
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop the test cluster: %v", strings.TrimSpace(err.Error()))
		}
	})
	return c
}
