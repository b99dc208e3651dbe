package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// BinDirEnv names the environment variable that points at a directory holding kube-apiserver
// and etcd. When it is unset, the binaries come from hack/kube-binaries.sh, which builds them
// once into a cache outside the clone.
const BinDirEnv = "HERALD_KUBE_BIN"

var binDirCache struct {
	sync.Mutex
	dir string
}

// binDir returns the directory holding kube-apiserver and etcd: explicit, then $HERALD_KUBE_BIN,
// then whatever hack/kube-binaries.sh prints (building the binaries if the cache lacks them).
func binDir(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		return explicit, checkBinDir(explicit, "Options.BinDir")
	}
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, checkBinDir(dir, "$"+BinDirEnv)
	}

	binDirCache.Lock()
	defer binDirCache.Unlock()
	if binDirCache.dir != "" {
		return binDirCache.dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "hack", "kube-binaries.sh")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout = &stdout
	// Progress (the first build takes minutes) is shown as it happens and kept for the error.
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed (%v); set $%s to a directory holding kube-apiserver and etcd, or fix the build:\n%s",
			script, err, BinDirEnv, stderr.String())
	}
	dir := strings.TrimSpace(stdout.String())
	if err := checkBinDir(dir, script); err != nil {
		return "", err
	}
	binDirCache.dir = dir
	return dir, nil
}

func checkBinDir(dir, from string) error {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s (from %s) has no %s: %w", dir, from, name, err)
		}
		if info.Mode()&0o111 == 0 {
			return fmt.Errorf("%s (from %s) is not executable", filepath.Join(dir, name), from)
		}
	}
	return nil
}

// RepoRoot is the herald clone's root directory, for tests that read its files (hack/kwok/...)
// or build its commands; it works under -trimpath, where source file names are not paths.
func RepoRoot() (string, error) { return repoRoot() }

// repoRoot finds the herald clone: upwards from the working directory (a test runs in its
// package directory), then upwards from this source file (a binary built in the clone).
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "hack", "kube-binaries.sh")); err == nil {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("cannot find hack/kube-binaries.sh above the working directory; " +
		"run from inside the herald clone or set $" + BinDirEnv + " to a directory holding kube-apiserver and etcd")
}
