//go:build unix && !linux

package cluster

import "syscall"

// sysProcAttr puts a server in its own process group, so Stop can signal all of it.
// Only Linux can also tie the server's life to the test process (Pdeathsig).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
