package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/cluster"
)

// opsReceiver counts deliveries per event name; it can answer 503 (an outage) and take a delay
// per request (a slow receiver).
type opsReceiver struct {
	delay time.Duration
	down  atomic.Bool
	mu    sync.Mutex
	got   map[string]int
	n     atomic.Int64
	// start, when set, makes the receiver keep the times of every delivery of a name that
	// arrives more than once (first and repeats), as offsets from start: a soak reports when
	// each duplicate came, beside its faults.
	start  time.Time
	first  map[string]time.Duration
	repeat map[string][]time.Duration
}

func (r *opsReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.down.Load() {
		http.Error(w, "outage", http.StatusServiceUnavailable)
		return
	}
	time.Sleep(r.delay)
	var b struct{ Name string }
	if json.Unmarshal(body, &b) != nil {
		http.Error(w, "bad json", 400)
		return
	}
	r.mu.Lock()
	r.got[b.Name]++
	if !r.start.IsZero() {
		at := time.Since(r.start)
		if r.got[b.Name] == 1 {
			r.first[b.Name] = at
		} else {
			r.repeat[b.Name] = append(r.repeat[b.Name], at)
		}
	}
	r.mu.Unlock()
	r.n.Add(1)
}

// repeats describes each name delivered more than once: when it came first and again.
func (r *opsReceiver) repeats() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name, again := range r.repeat {
		var at []string
		for _, d := range again {
			at = append(at, d.Round(time.Millisecond).String())
		}
		out = append(out, fmt.Sprintf("%s first at %s, again at %s", name, r.first[name].Round(time.Millisecond), strings.Join(at, ", ")))
	}
	sort.Strings(out)
	return out
}

// count returns how many of names arrived, and the duplicates among all deliveries.
func (r *opsReceiver) count(names map[string]bool) (delivered, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, n := range r.got {
		if names[name] {
			delivered++
		}
		dups += n - 1
	}
	return delivered, dups
}

// opsHerald is a herald process for the ops scenarios.
type opsHerald struct {
	cmd  *exec.Cmd
	port int
	log  string
}

func startOpsHerald(bin string, c *cluster.Cluster, sink string, extra ...string) (*opsHerald, error) {
	port := freePort()
	args := append([]string{"--source=kubernetes:https://kubernetes.default?inClusterConfig=false&auth=" + c.Kubeconfig,
		"--healthz-ip=127.0.0.1", "--healthz-port=" + strconv.Itoa(port), "--sink=" + sink}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.CreateTemp("", "herald-ops-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); logf.Close() }()
	h := &opsHerald{cmd: cmd, port: port, log: logf.Name()}
	if err := waitReady(port, "/readyz"); err != nil {
		return nil, fmt.Errorf("%v (log %s)", err, h.log)
	}
	return h, nil
}

func (h *opsHerald) stop(sig syscall.Signal) {
	_ = h.cmd.Process.Signal(sig)
	for i := 0; i < 600 && h.cmd.ProcessState == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *opsHerald) rss() float64 {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func listenReceiver(r *opsReceiver) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: r}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// runResume: herald is stopped, n events are written, and herald resumes from its checkpoint
// into a receiver that takes delay per request, with queue_size=1000: every event must arrive
// once, none dropped (the resume waits for room in the queue).
func runResume(ctx context.Context, c *cluster.Cluster, bin string, n int, delay time.Duration) (string, error) {
	ns := fmt.Sprintf("load-resume-%d", time.Now().Unix()%100000)
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		return "", err
	}
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 5000, 5000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	recv := &opsReceiver{delay: delay, got: map[string]int{}}
	url, closeRecv, err := listenReceiver(recv)
	if err != nil {
		return "", err
	}
	defer closeRecv()
	cp := filepath.Join(os.TempDir(), ns+"-checkpoint")
	sink := fmt.Sprintf("webhook:%s/?method=POST&namespaces=%s&queue_size=1000&body_template=%s", url, ns, urlEscape(`{"Name":"{{ .InvolvedObject.Name }}"}`))
	h, err := startOpsHerald(bin, c, sink, "--checkpoint=file:"+cp)
	if err != nil {
		return "", err
	}
	s := scenario{Workers: 16, Gen: func(int, []string) evSpec { return evSpec{NS: ns, Reason: "BackOff", Type: "Warning"} }}
	if err := createAll(ctx, client, s, []string{ns}, 0, 1, 0, nil); err != nil {
		return "", err
	}
	for recv.n.Load() < 1 {
		time.Sleep(50 * time.Millisecond)
	}
	h.stop(syscall.SIGTERM)
	t0 := time.Now()
	if err := createAll(ctx, client, s, []string{ns}, 1, n+1, 0, nil); err != nil {
		return "", err
	}
	created := time.Since(t0)
	start := time.Now()
	h, err = startOpsHerald(bin, c, sink, "--checkpoint=file:"+cp)
	if err != nil {
		return "", err
	}
	defer h.stop(syscall.SIGTERM)
	want := map[string]bool{}
	for i := 1; i <= n; i++ {
		want[fmt.Sprintf("obj-%d", i)] = true
	}
	peak := 0.0
	last, lastChange := int64(-1), time.Now()
	for time.Since(lastChange) < 60*time.Second {
		if d, _ := recv.count(want); d == n {
			break
		}
		if v := recv.n.Load(); v != last {
			last, lastChange = v, time.Now()
		}
		peak = max(peak, h.rss())
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(2 * time.Second)
	delivered, dups := recv.count(want)
	m := scrape(h.port)
	dropped := m.get("herald_sink_events_total", "webhook#1", `outcome="dropped"`)
	waits := m.get("herald_sink_backpressure_waits_total", "webhook#1", "")
	_, hwm := procStats(h.cmd.Process.Pid)
	return fmt.Sprintf("| resume-%d | %d created while herald was down (in %.0f s) | %d | %d | %.0f | %.0f | %.1f s | %.1f | %.1f |",
		n, n, created.Seconds(), delivered, dups, dropped, waits, took.Seconds(), peak, hwm), nil
}

// runSoak writes 50 events/s for d, with a 60 s sink outage (503) every 10 minutes, an API
// server restart at d/3 and a herald SIGKILL (restarted at once, resuming from its checkpoint
// file) at 2d/3; it reports created, delivered, duplicates and herald's RSS every minute.
func runSoak(ctx context.Context, c *cluster.Cluster, bin string, d time.Duration) (string, error) {
	ns := fmt.Sprintf("load-soak-%d", time.Now().Unix()%100000)
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		return "", err
	}
	client, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return "", err
	}
	recv := &opsReceiver{got: map[string]int{}, first: map[string]time.Duration{}, repeat: map[string][]time.Duration{}}
	url, closeRecv, err := listenReceiver(recv)
	if err != nil {
		return "", err
	}
	defer closeRecv()
	cp := filepath.Join(os.TempDir(), ns+"-checkpoint")
	sink := fmt.Sprintf("webhook:%s/?method=POST&namespaces=%s&body_template=%s", url, ns, urlEscape(`{"Name":"{{ .InvolvedObject.Name }}"}`))
	var hmu sync.Mutex
	h, err := startOpsHerald(bin, c, sink, "--checkpoint=file:"+cp)
	if err != nil {
		return "", err
	}
	defer func() {
		hmu.Lock()
		if h != nil { // nil when a restart failed
			h.stop(syscall.SIGTERM)
		}
		hmu.Unlock()
	}()
	s := scenario{Workers: 2, Gen: func(int, []string) evSpec { return evSpec{NS: ns, Reason: "BackOff", Type: "Warning"} }}
	const rate = 50
	total := int(d.Seconds()) * rate
	var rssLog []string
	var events []string
	done := make(chan error, 1)
	start := time.Now()
	recv.mu.Lock()
	recv.start = start
	recv.mu.Unlock()
	go func() {
		// Errors while the API server restarts are retried by creating the event again.
		for i := 0; i < total; i++ {
			due := start.Add(time.Duration(i) * time.Second / rate)
			time.Sleep(time.Until(due))
			for {
				if err := create(ctx, client, s.Gen(i, nil), i); err == nil || strings.Contains(err.Error(), "already exists") {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		done <- nil
	}()
	restarted, killed := false, false
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for minute := 1; ; minute++ {
		select {
		case <-done:
			goto drained
		case <-tick.C:
		}
		el := time.Since(start)
		hmu.Lock()
		rssLog = append(rssLog, fmt.Sprintf("%d min: %.1f MiB", minute, h.rss()))
		hmu.Unlock()
		if minute%10 == 5 { // an outage of the receiver, every 10 minutes
			recv.down.Store(true)
			events = append(events, fmt.Sprintf("%s: receiver 503 for 60 s", el.Round(time.Millisecond)))
			time.AfterFunc(time.Minute, func() { recv.down.Store(false) })
		}
		if !restarted && el >= d/3 {
			restarted = true
			if err := c.StopAPIServer(); err != nil {
				return "", err
			}
			stopped := time.Since(start)
			if err := c.StartAPIServer(ctx); err != nil {
				return "", err
			}
			events = append(events, fmt.Sprintf("%s: API server stopped, serving again at %s", stopped.Round(time.Millisecond), time.Since(start).Round(time.Millisecond)))
		}
		if !killed && el >= 2*d/3 {
			killed = true
			hmu.Lock()
			h.stop(syscall.SIGKILL)
			killedAt := time.Since(start)
			h, err = startOpsHerald(bin, c, sink, "--checkpoint=file:"+cp)
			hmu.Unlock()
			events = append(events, fmt.Sprintf("%s: herald SIGKILL, restarted from its checkpoint file, ready at %s", killedAt.Round(time.Millisecond), time.Since(start).Round(time.Millisecond)))
			if err != nil {
				return "", fmt.Errorf("restarting herald after its SIGKILL: %v", err)
			}
		}
	}
drained:
	want := map[string]bool{}
	for i := 0; i < total; i++ {
		want[fmt.Sprintf("obj-%d", i)] = true
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if n, _ := recv.count(want); n == total {
			break
		}
	}
	time.Sleep(3 * time.Second)
	delivered, dups := recv.count(want)
	dupLog := "none"
	if r := recv.repeats(); len(r) > 0 {
		dupLog = strings.Join(r, "; ")
	}
	return fmt.Sprintf("soak %s at %d events/s: created %d, delivered %d, duplicated %d\nevents (offsets from the first creation): %s\nduplicates: %s\nherald RSS per minute: %s",
		d, rate, total, delivered, dups, strings.Join(events, "; "), dupLog, strings.Join(rssLog, ", ")), nil
}
