package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/golang/glog"
)

// cgroupMemoryFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryLimitShare is the part of the container's limit Go's heap may use before the garbage
// collector works harder; the rest is stacks, buffers and what the runtime does not count.
const memoryLimitShare = 0.9

// setMemoryLimit sets Go's soft memory limit (GOMEMLIMIT) to 90% of the container's memory
// limit, read from the cgroup, unless GOMEMLIMIT is set or there is no limit. Without it the
// garbage collector lets the heap double before collecting, and a start-up list that briefly
// needs much memory can take the process past its limit (OOMKilled) although the live heap fits.
func setMemoryLimit(files []string) string {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return "GOMEMLIMIT=" + v + " (from the environment)"
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		n, err := strconv.ParseInt(v, 10, 64)
		if v == "max" || err != nil || n <= 0 || n >= 1<<60 {
			return "no container memory limit (" + f + ": " + v + "); GOMEMLIMIT not set"
		}
		limit := int64(float64(n) * memoryLimitShare)
		debug.SetMemoryLimit(limit)
		return fmt.Sprintf("GOMEMLIMIT=%dMiB: %.0f%% of the container's memory limit of %dMiB (%s)", limit>>20, memoryLimitShare*100, n>>20, f)
	}
	return "no cgroup memory limit found; GOMEMLIMIT not set"
}

func logMemoryLimit() { glog.Infof("memory: %s", setMemoryLimit(cgroupMemoryFiles)) }
