// Package golden compares what a test produced with a reviewed file: the expected output of a
// command or a converter, kept beside its input under testdata. With HERALD_UPDATE_GOLDEN=1 in
// the environment, Check writes what the test produced into the file first; review the diff
// before committing it. (An environment variable, not a test flag: cmd/herald's flags live on
// the same flag.CommandLine as the test's.)
package golden

import (
	"os"
	"testing"
)

// Update reports whether HERALD_UPDATE_GOLDEN=1 asks Check to rewrite the files.
func Update() bool { return os.Getenv("HERALD_UPDATE_GOLDEN") == "1" }

// Check fails t, showing both, when got differs from the file at path; what names the output
// in the message ("herald migrate event-exporter testdata/x.yaml").
func Check(t testing.TB, path, got, what string) {
	t.Helper()
	if Update() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with HERALD_UPDATE_GOLDEN=1 to write it, then review it)", err)
	}
	if got != string(want) {
		t.Errorf("%s printed\n%s\nwant (%s)\n%s", what, got, path, want)
	}
}
