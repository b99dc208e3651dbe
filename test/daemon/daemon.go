// Package daemon runs a test server process (InfluxDB, ZincSearch, MariaDB): in its own process
// group, killed with the test process if nobody stops it, ready once a probe passes, stopped
// with SIGTERM and then SIGKILL, with the end of its log in every error.
package daemon

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a running server.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start starts cmd as name. logPath is the server's log: where its stdout and stderr go unless
// cmd sets them (a server that writes its own log file names it here too), and what errors quote.
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	if cmd.Stdout == nil && cmd.Stderr == nil {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", cmd.Path, err)
	}
	p := &Process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// WaitReady calls probe every 50 ms until it succeeds, the process exits, or timeout passes;
// what names the probe in the error ("answer /ping").
func (p *Process) WaitReady(timeout time.Duration, what string, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up; %s", p.name, p.LogTail())
		default:
		}
		err := probe()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not %s within %s (%v); %s", p.name, what, timeout, err, p.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM, then SIGKILL after grace, and waits for the process to exit.
func (p *Process) Stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// LogTail is the last 15 lines of the log, for errors.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "its log ends with:\n" + strings.Join(lines, "\n")
}

// HTTPStatus is a probe: GET url answers want.
func HTTPStatus(url string, want int) func() error {
	return func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("%s answered %s", url, resp.Status)
		}
		return nil
	}
}
