package image

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// GoZoneinfo is the path of the Go toolchain's lib/time/zoneinfo.zip. The toolchain's root comes
// from `go env GOROOT`: runtime.GOROOT is empty in a binary built with -trimpath, which is how
// make test builds everything.
func GoZoneinfo() string {
	root := runtime.GOROOT()
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		root = strings.TrimSpace(string(out))
	}
	return filepath.Join(root, "lib", "time", "zoneinfo.zip")
}
