// Command load measures herald end to end: it creates events against a real API server at a
// given rate (or as fast as the server accepts them), runs the herald binary with a webhook sink
// to a local receiver, and reports delivered/created, duplicates, creation-to-delivery latency,
// drain lag, herald's CPU time and peak RSS. `make load` runs the standard scenarios.
package main

import (
	"context"
	"encoding/json"
	"flag"
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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/cluster"
)

type scenario struct {
	Name    string
	Events  int
	Rate    float64 // events/s; 0 = as fast as possible
	Workers int
}

type result struct {
	Scenario        string  `json:"scenario"`
	Created         int     `json:"created"`
	Delivered       int     `json:"delivered"`
	Duplicates      int     `json:"duplicates"`
	CreateSeconds   float64 `json:"create_seconds"`
	P50ms           float64 `json:"p50_ms"`
	P90ms           float64 `json:"p90_ms"`
	P99ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	DrainLagMs      float64 `json:"drain_lag_ms"`
	CPUSecPer1000   float64 `json:"herald_cpu_seconds_per_1000_events"`
	PeakRSSMiB      float64 `json:"herald_peak_rss_mib"`
	CreateRateAchvd float64 `json:"achieved_create_rate"`
}

func main() {
	bin := flag.String("herald", "bin/herald", "the herald binary to measure")
	out := flag.String("out", "_output/load", "directory for results.md and results.json")
	only := flag.String("scenario", "", "run only this scenario (steady-200, burst-5000)")
	steadySeconds := flag.Int("steady-seconds", 30, "length of the steady scenario")
	flag.Parse()

	scenarios := []scenario{
		{Name: "steady-200", Events: 200 * *steadySeconds, Rate: 200, Workers: 4},
		{Name: "burst-5000", Events: 5000, Rate: 0, Workers: 8},
	}
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		fail("start cluster: %v", err)
	}
	defer c.Stop()
	var results []result
	for _, s := range scenarios {
		if *only != "" && s.Name != *only {
			continue
		}
		r, err := run(ctx, c, *bin, s)
		if err != nil {
			_ = c.Stop()
			fail("%s: %v", s.Name, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%s: %+v\n", s.Name, r)
	}
	if err := write(*out, results); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(1)
}

// receiver records, per event name, the delivery times.
type receiver struct {
	mu   sync.Mutex
	got  map[string][]time.Time
	last time.Time
	n    atomic.Int64
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	var b struct{ Name string }
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, "bad json", 400)
		return
	}
	r.mu.Lock()
	r.got[b.Name] = append(r.got[b.Name], now)
	r.last = now
	r.mu.Unlock()
	r.n.Add(1)
}

func run(ctx context.Context, c *cluster.Cluster, bin string, s scenario) (result, error) {
	ns := fmt.Sprintf("load-%s-%d", s.Name, time.Now().Unix()%100000)
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		return result{}, err
	}
	recv := &receiver{got: map[string][]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: recv}
	go srv.Serve(ln)
	defer srv.Close()

	port := freePort()
	body := `{"Name":"{{ .InvolvedObject.Name }}"}`
	sink := fmt.Sprintf("webhook:http://%s/?method=POST&namespaces=%s&body_template=%s", ln.Addr(), ns, urlEscape(body))
	cmd := exec.Command(bin, "--source=kubernetes:https://kubernetes.default?inClusterConfig=false&auth="+c.Kubeconfig,
		"--sink="+sink, "--healthz-ip=127.0.0.1", "--healthz-port="+strconv.Itoa(port))
	logf, _ := os.CreateTemp("", "herald-load-*.log")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}()
	if err := waitReady(port); err != nil {
		return result{}, fmt.Errorf("%v (log: %s)", err, logf.Name())
	}

	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 5000, 5000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return result{}, err
	}
	created := make([]time.Time, s.Events)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var createErr atomic.Value
	for range s.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= s.Events {
					return
				}
				if s.Rate > 0 {
					due := start.Add(time.Duration(float64(i) / s.Rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				t := time.Now()
				if err := create(ctx, client, ns, i); err != nil {
					createErr.Store(err)
					return
				}
				created[i] = t
			}
		}()
	}
	wg.Wait()
	createDone := time.Now()
	if err, _ := createErr.Load().(error); err != nil {
		return result{}, err
	}
	// Wait for delivery: until everything arrived, or nothing new for 20 s.
	lastN, lastChange := int64(-1), time.Now()
	for recv.n.Load() < int64(s.Events) && time.Since(lastChange) < 20*time.Second {
		if n := recv.n.Load(); n != lastN {
			lastN, lastChange = n, time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // late duplicates
	cpu, rss := procStats(cmd.Process.Pid)

	recv.mu.Lock()
	defer recv.mu.Unlock()
	var lat []float64
	r := result{Scenario: s.Name, Created: s.Events, CreateSeconds: createDone.Sub(start).Seconds()}
	for i := range s.Events {
		times := recv.got[fmt.Sprintf("obj-%d", i)]
		if len(times) == 0 {
			continue
		}
		r.Delivered++
		r.Duplicates += len(times) - 1
		lat = append(lat, float64(times[0].Sub(created[i]).Microseconds())/1000)
	}
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	r.P50ms, r.P90ms, r.P99ms = pct(0.50), pct(0.90), pct(0.99)
	if len(lat) > 0 {
		r.MaxMs = lat[len(lat)-1]
	}
	r.DrainLagMs = float64(recv.last.Sub(createDone).Microseconds()) / 1000
	r.CPUSecPer1000 = cpu / float64(s.Events) * 1000
	r.PeakRSSMiB = rss
	r.CreateRateAchvd = float64(s.Events) / r.CreateSeconds
	return r, nil
}

func create(ctx context.Context, client kubernetes.Interface, ns string, i int) error {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("ev-%d", i), Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("obj-%d", i)},
		Type:           "Warning", Reason: "BackOff", Message: "load test event", Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
	}
	_, err := client.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

// procStats returns the CPU seconds (user+system) and peak RSS (MiB) of pid so far.
func procStats(pid int) (float64, float64) {
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	var cpu float64
	if len(fields) > 12 {
		ut, _ := strconv.ParseFloat(fields[11], 64)
		st, _ := strconv.ParseFloat(fields[12], 64)
		cpu = (ut + st) / 100 // USER_HZ
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var rss float64
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			rss = kb / 1024
		}
	}
	return cpu, rss
}

func waitReady(port int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("herald not ready after 2 minutes")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20", "{", "%7B", "}", "%7D", `"`, "%22")
	return r.Replace(s)
}

func write(dir string, results []result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "results.json"), j, 0o644); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("| scenario | created | delivered | duplicates | create rate/s | p50 ms | p90 ms | p99 ms | max ms | drain lag ms | CPU s/1000 ev | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %.3f | %.1f |\n",
			r.Scenario, r.Created, r.Delivered, r.Duplicates, r.CreateRateAchvd, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.DrainLagMs, r.CPUSecPer1000, r.PeakRSSMiB)
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(b.String()), 0o644)
}
