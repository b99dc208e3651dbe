package eventexporter

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: any bytes are read as a config or refused with an error, never a panic; a config
// that is read converts and prints (Verify through herald's own --sink parser, the flags, the
// Helm values, the report) without a panic.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed configs in testdata: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"route:\n  routes:\n    - match: [\n",
		"route:\n  routes: yes\nreceivers: []\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  config.yaml: |\n    route: {}\n",
		"route: &r {routes: [*r]}\n",
		"route: {match: [{receiver: a, minCount: x}]}\nreceivers: [{name: a, webhook: {endpoint: '%zz'}}]\n",
		"leaderElection: {enabled: maybe}\nmaxEventAgeSeconds: 1e9\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(data, "config.yaml")
		if err != nil {
			if m != nil {
				t.Fatalf("an error and a migration: %v", err)
			}
			return
		}
		m.Verify()
		m.WriteArgs(io.Discard)
		m.WriteHelm(io.Discard, "herald-secrets")
		m.Report(io.Discard)
	})
}
