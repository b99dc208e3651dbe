// Package harness runs the herald binary in end-to-end tests: it builds it once, starts it
// against a test cluster with given sinks, waits until it is ready, reads its metrics and logs,
// and stops it (SIGTERM or SIGKILL).
package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldproject/herald/test/cluster"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/herald once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := cluster.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "herald")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/herald")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/herald: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Herald is one running herald process.
type Herald struct {
	t       testing.TB
	cmd     *exec.Cmd
	logPath string
	Port    int
	done    chan struct{}
	exitErr error
}

// Options start a herald.
type Options struct {
	Kubeconfig string
	// Sinks are --sink values.
	Sinks []string
	// Args are further flags.
	Args []string
	// Env is added to the process environment.
	Env []string
	// NoWaitReady returns as soon as the process has started.
	NoWaitReady bool
	// SourceParams are added to the --source URI's query (e.g. "namespaces=a,b").
	SourceParams string
}

// SourceFlag is the --source value for a kubeconfig-based test cluster.
func SourceFlag(kubeconfig string) string {
	return "--source=kubernetes:https://kubernetes.default?inClusterConfig=false&auth=" + kubeconfig
}

// Start runs herald and waits until /readyz answers 200. The process is killed at test cleanup
// if still running.
func Start(t testing.TB, o Options) *Herald {
	t.Helper()
	port := freePort(t)
	source := SourceFlag(o.Kubeconfig)
	if o.SourceParams != "" {
		source += "&" + o.SourceParams
	}
	args := []string{source, "--healthz-ip=127.0.0.1", "--healthz-port=" + strconv.Itoa(port), "--v=1"}
	for _, s := range o.Sinks {
		args = append(args, "--sink="+s)
	}
	args = append(args, o.Args...)
	logFile, err := os.CreateTemp("", "herald-log-")
	if err != nil {
		t.Fatal(err)
	}
	h := &Herald{t: t, logPath: logFile.Name(), Port: port, done: make(chan struct{})}
	h.cmd = exec.Command(Binary(t), args...)
	h.cmd.Stdout = logFile
	h.cmd.Stderr = logFile
	h.cmd.Env = append(os.Environ(), o.Env...)
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		h.exitErr = h.cmd.Wait()
		logFile.Close()
		close(h.done)
	}()
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("herald log (%s):\n%s", h.logPath, h.Logs())
		}
	})
	if !o.NoWaitReady {
		h.WaitReady()
	}
	return h
}

// WaitReady waits until /readyz answers 200 (at most 2 minutes), failing the test if herald
// exits first.
func (h *Herald) WaitReady() {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-h.done:
			h.t.Fatalf("herald exited before becoming ready: %v\n%s", h.exitErr, h.Logs())
		default:
		}
		resp, err := http.Get(h.URL("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("herald not ready after 2 minutes\n%s", h.Logs())
}

// URL is a URL on herald's health/metrics server.
func (h *Herald) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", h.Port, path)
}

// Logs returns everything herald wrote so far.
func (h *Herald) Logs() string {
	b, _ := os.ReadFile(h.logPath)
	return string(b)
}

// Stop sends SIGTERM and waits for exit (at most 60 s); it returns the exit error.
func (h *Herald) Stop() error {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(60 * time.Second):
		h.Kill()
		return fmt.Errorf("herald did not exit within 60s of SIGTERM")
	}
	return h.exitErr
}

// Kill sends SIGKILL and waits for exit.
func (h *Herald) Kill() {
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Kill()
	<-h.done
}

// Metric returns the sum of the samples of a metric whose labels include every given
// label="value" pair (e.g. Metric("herald_sink_events_total", `outcome="dropped"`)).
func (h *Herald) Metric(name string, labels ...string) float64 {
	h.t.Helper()
	resp, err := http.Get(h.URL("/metrics"))
	if err != nil {
		h.t.Fatalf("scrape metrics: %v", err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// Run runs the herald binary to completion (herald check, bad flags) and returns its combined
// output and exit code.
func Run(t testing.TB, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitMetric polls Metric until it reaches at least want (at most 30 s) and returns its last
// value. A receiver records a request before herald has read the answer, so a count taken the
// moment the receiver has everything may still be one batch short.
func (h *Herald) WaitMetric(want float64, name string, labels ...string) float64 {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := h.Metric(name, labels...)
		if v >= want || time.Now().After(deadline) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CPUTime is the CPU time (user + system) herald has used so far, from /proc (Linux).
func (h *Herald) CPUTime() time.Duration {
	h.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", h.cmd.Process.Pid))
	if err != nil {
		h.t.Fatalf("herald's CPU time: %v", err)
	}
	// Fields after the command name (which may hold spaces, so cut at its closing paren):
	// state is field 3; utime and stime are fields 14 and 15, in clock ticks (100 a second).
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		h.t.Fatalf("herald's CPU time: cannot read %q", rest)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Ready reports whether /readyz answers 200, and its body.
func (h *Herald) Ready() (bool, string) {
	resp, err := http.Get(h.URL("/readyz"))
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK, string(body)
}

// Signal sends sig to the herald process (SIGHUP: reload --config).
func (h *Herald) Signal(sig os.Signal) error { return h.cmd.Process.Signal(sig) }
