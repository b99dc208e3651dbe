package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestSetMemoryLimitFromTheCgroup(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	dir := t.TempDir()
	v2 := filepath.Join(dir, "memory.max")
	if err := os.WriteFile(v2, []byte("536870912\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := setMemoryLimit([]string{filepath.Join(dir, "absent"), v2})
	if got := debug.SetMemoryLimit(-1); got != 536870912*9/10 || !strings.Contains(msg, "512MiB") {
		t.Errorf("limit %d (%s), want 90%% of 512 MiB", got, msg)
	}
	if err := os.WriteFile(v2, []byte("max\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := setMemoryLimit([]string{v2}); !strings.Contains(msg, "no container memory limit") {
		t.Errorf("unlimited cgroup: %s", msg)
	}
	t.Setenv("GOMEMLIMIT", "100MiB")
	if msg := setMemoryLimit([]string{v2}); !strings.Contains(msg, "from the environment") {
		t.Errorf("GOMEMLIMIT set: %s", msg)
	}
}
