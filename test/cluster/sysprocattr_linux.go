package cluster

import "syscall"

// sysProcAttr puts a server in its own process group, so Stop can signal all of it, and asks the
// kernel to kill it if the test process dies first (a go test timeout skips every Cleanup).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
