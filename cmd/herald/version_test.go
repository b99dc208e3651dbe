package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// heraldBinary builds herald once per test run, the way the Makefile does, with version
// values in its ldflags, and returns its path.
func heraldBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the herald binary (-short skips it)")
	}
	binOnce.Do(func() {
		dir, err := exec.Command("mktemp", "-d").Output()
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(string(dir[:len(dir)-1]), "herald")
		ldflags := "-X main.version=v9.8.7-test -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z"
		binOut, binErr = exec.Command("go", "build", "-ldflags", ldflags, "-o", binPath, ".").CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binOut)
	}
	return binPath
}

// TestVersionLdflags checks that the -X values reach `herald version` and --version, with the
// Go version and platform a bug report needs.
func TestVersionLdflags(t *testing.T) {
	bin := heraldBinary(t)
	want := "herald v9.8.7-test (commit abc1234, built 2026-01-02T03:04:05Z, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("herald %v: %v\n%s", args, err, out)
		}
		if string(out) != want {
			t.Errorf("herald %v printed %q, want %q", args, out, want)
		}
	}
}
