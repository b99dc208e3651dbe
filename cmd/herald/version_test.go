package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestVersionLdflags builds herald the way the Makefile does and checks that the -X values
// reach `herald version`.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "herald")
	ldflags := "-X main.version=v9.8.7-test -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("herald version: %v\n%s", err, out)
	}
	want := "herald v9.8.7-test (commit abc1234, built 2026-01-02T03:04:05Z)\n"
	if string(out) != want {
		t.Fatalf("herald version printed %q, want %q", out, want)
	}
}
