package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one server binary run in its own process group, its output appended to a log file.
type process struct {
	name    string // "etcd", "kube-apiserver": for messages
	path    string
	args    []string
	logPath string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited and been reaped
	waitErr  error         // set before done is closed
	stopping bool          // true once stop was called: an exit after it is expected
}

// start runs the binary. The log file is truncated when truncate is set (a fresh cluster) and
// appended to otherwise (a restart keeps the earlier run's lines).
func (p *process) start(truncate bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	logFile, err := os.OpenFile(p.logPath, flags, 0o644)
	if err != nil {
		return fmt.Errorf("open the %s log: %w", p.name, err)
	}
	fmt.Fprintf(logFile, "==== %s: starting %s %s\n", time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))

	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s (%s): %w", p.name, p.path, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.waitErr, p.stopping = cmd, done, nil, false
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// running reports whether the process was started and has not exited. Callers hold p.mu.
func (p *process) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exited returns a channel closed when the current run ends (nil before the first start).
func (p *process) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// stop sends SIGTERM to the process group, waits up to grace, then sends SIGKILL. It returns an
// error if the process had already exited on its own, since a server dying under a test is news.
func (p *process) stop(grace time.Duration) error {
	p.mu.Lock()
	if p.done == nil || p.stopping {
		p.mu.Unlock()
		return nil
	}
	p.stopping = true
	done, pid := p.done, p.cmd.Process.Pid
	select {
	case <-done:
		err := p.waitErr
		p.mu.Unlock()
		return fmt.Errorf("%s had exited on its own (%v); last lines of %s:\n%s", p.name, err, p.logPath, tail(p.logPath, 20))
	default:
	}
	p.mu.Unlock()

	// The process leads its own group (Setpgid): -pid reaches it and anything it started.
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	return nil
}

// exitError describes an unexpected exit, with the end of the log.
func (p *process) exitError() error {
	p.mu.Lock()
	err := p.waitErr
	p.mu.Unlock()
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited during start-up (%v); last lines of %s:\n%s", p.name, err, p.logPath, tail(p.logPath, 20))
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return "    " + strings.Join(lines, "\n    ")
}
