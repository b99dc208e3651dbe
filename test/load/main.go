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

// evSpec says where an event goes and what it says; the ten-sinks scenario varies these so that
// each sink's filter selects a known subset.
type evSpec struct {
	NS     string
	Reason string
	Type   string
}

// sinkSpec is one webhook sink: its extra URI parameters (filters, queue_size), whether its
// receiver answers 503 to everything, and which events its filter must select.
type sinkSpec struct {
	Name   string
	Params string
	Dead   bool
	// Delay is how long the receiver takes to answer each request (a small app behind the hook).
	Delay time.Duration
	Match func(evSpec) bool
}

type scenario struct {
	Name      string
	Events    int
	Rate      float64 // events/s; 0 = as fast as possible
	Workers   int
	Precreate int        // events created before herald starts (start-up scenario)
	Named     bool       // run only when -scenario names it
	Sinks     []sinkSpec // nil: one live sink selecting every event
	NS        []string   // namespace suffixes; events go round-robin unless Gen says otherwise
	Gen       func(i int, ns []string) evSpec
	Plot      bool // write latency.svg from this scenario
	// Anchor: run this scenario against the -anchor binary too.
	Anchor bool
}

// forwarder is the binary a scenario runs: herald, or the anchor it is compared with.
type forwarder struct {
	Kind string // "herald" or "kube-eventer"
	Bin  string
}

type result struct {
	Scenario        string  `json:"scenario"`
	Sink            string  `json:"sink"`
	Created         int     `json:"created"`
	Expected        int     `json:"expected"`
	Delivered       int     `json:"delivered"`
	Duplicates      int     `json:"duplicates"`
	Unexpected      int     `json:"unexpected"`
	CreateSeconds   float64 `json:"create_seconds"`
	P50ms           float64 `json:"p50_ms"`
	P90ms           float64 `json:"p90_ms"`
	P99ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	DrainLagMs      float64 `json:"drain_lag_ms"`
	CPUSecPer1000   float64 `json:"herald_cpu_seconds_per_1000_events"`
	PeakRSSMiB      float64 `json:"herald_peak_rss_mib"`
	CreateRateAchvd float64 `json:"achieved_create_rate"`
	// Dead-sink figures, read from herald's /metrics.
	MetricDropped   float64 `json:"metric_dropped,omitempty"`
	MetricDelivered float64 `json:"metric_delivered,omitempty"`
	MetricQueued    float64 `json:"metric_queue_length,omitempty"`
	// Start-up figures.
	Precreated  int     `json:"precreated,omitempty"`
	ReadyMs     float64 `json:"ready_ms,omitempty"`
	RSSReadyMiB float64 `json:"rss_after_ready_mib,omitempty"`
	Replayed    int     `json:"replayed"`
}

func main() {
	bin := flag.String("herald", "bin/herald", "the herald binary to measure")
	out := flag.String("out", "_output/load", "directory for results.md, results.json and latency.svg")
	only := flag.String("scenario", "", "run only these scenarios, comma-separated (steady-200, burst-5000, slow-receiver-5000, storm-20000, storm-20000-batch, dead-sink, ten-sinks, startup-50000; and startup-100000, run only when named)")
	steadySeconds := flag.Int("steady-seconds", 60, "length of the steady scenario")
	resumeN := flag.Int("resume-events", 0, "run the resume scenario instead: herald stopped, this many events written, herald resumes into a slow receiver (2 ms per event, queue_size=1000); e.g. 100000")
	eventTTL := flag.Duration("event-ttl", 0, "the test API server's --event-ttl (default: its own, 1h); a soak longer than it shows herald's memory once events expire as fast as they are created, e.g. -soak 15m -event-ttl 4m")
	anchor := flag.String("anchor", "", "also run the one-sink scenarios (steady-200, burst-5000, slow-receiver-5000, storm-20000) against kube-eventer, for figures side by side: kube-eventer=PATH to its binary. It gets the same events and the same receiver, with its own flags: the body from a ConfigMap (custom_body_configmap), its default 30 s --frequency")
	soak := flag.Duration("soak", 0, "run the soak scenario instead for this long (50 events/s, a 60 s receiver outage every 10 minutes, an API server restart at 1/3, a herald SIGKILL at 2/3); e.g. 1h")
	flag.BoolVar(&profile, "profile", false, "run herald with --profiling and save a CPU profile of each scenario's creation phase and a heap profile after it to OUT/SCENARIO.{cpu,heap}.pprof")
	floor := flag.Float64("http-floor", 0, "measure instead what a bare net/http client costs: POST 20,000 bodies like the storm's, paced at this many per second over 4 connections, to a loopback receiver, and print the client process's CPU per 10,000 requests (the floor under any sink that sends one request per event); e.g. 1150")
	floorClient := flag.String("http-floor-client", "", "internal: the client process of -http-floor, posting to this address")
	flag.Parse()
	if *floorClient != "" {
		floorPost(*floorClient, *floor)
		return
	}
	if *floor > 0 {
		line, err := measureFloor(*floor)
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(line)
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail("%v", err)
	}

	all := func(evSpec) bool { return true }
	roundRobin := func(i int, ns []string) evSpec {
		return evSpec{NS: ns[0], Reason: "BackOff", Type: "Warning"}
	}
	reasons := []string{"BackOff", "Failed", "Pulled", "Unhealthy"}
	tenGen := func(i int, ns []string) evSpec {
		t := "Warning"
		if i%5 == 0 {
			t = "Normal"
		}
		return evSpec{NS: ns[i%len(ns)], Reason: reasons[(i/3)%len(reasons)], Type: t}
	}
	nsIs := func(n string) func(evSpec) bool {
		return func(e evSpec) bool { return strings.HasSuffix(e.NS, "-"+n) }
	}
	warn := func(e evSpec) bool { return e.Type == "Warning" }
	// The webhook delivers every event type unless level= says otherwise (kube-eventer's
	// webhook did too), so the sinks meant for Warnings say level=Warning.
	ten := []sinkSpec{
		{Name: "all-normal", Params: "level=Normal", Match: all},
		{Name: "warnings", Params: "level=Warning", Match: warn},
		{Name: "ns-a", Params: "level=Normal&namespaces=NS-a", Match: nsIs("a")},
		{Name: "ns-bc-warn", Params: "level=Warning&namespaces=NS-b,NS-c", Match: func(e evSpec) bool { return warn(e) && !nsIs("a")(e) }},
		{Name: "backoff", Params: "level=Normal&reason=^BackOff$", Match: func(e evSpec) bool { return e.Reason == "BackOff" }},
		{Name: "failed-or-unhealthy", Params: "level=Warning&reason=Failed|Unhealthy", Match: func(e evSpec) bool { return warn(e) && (e.Reason == "Failed" || e.Reason == "Unhealthy") }},
		{Name: "not-pulled", Params: "level=Normal&exclude_reason=^Pulled$", Match: func(e evSpec) bool { return e.Reason != "Pulled" }},
		{Name: "ns-c-backoff", Params: "level=Warning&namespaces=NS-c&reason=BackOff", Match: func(e evSpec) bool { return warn(e) && nsIs("c")(e) && e.Reason == "BackOff" }},
		{Name: "not-ns-b", Params: "level=Normal&exclude_namespaces=NS-b", Match: func(e evSpec) bool { return !nsIs("b")(e) }},
		{Name: "pods-only-normal", Params: "level=Normal&kinds=Pod&exclude_reason=^Unhealthy$", Match: func(e evSpec) bool { return e.Reason != "Unhealthy" }},
	}
	scenarios := []scenario{
		{Name: "steady-200", Events: 200 * *steadySeconds, Rate: 200, Workers: 4, Plot: true, Anchor: true},
		{Name: "burst-5000", Events: 5000, Workers: 8, Anchor: true},
		// A receiver that takes 2 ms a request (a small web app): one request at a time caps a
		// sink at ~300 events/s; concurrency=4 (the default) lanes the deliveries.
		{Name: "slow-receiver-5000", Events: 5000, Rate: 600, Workers: 8, Sinks: []sinkSpec{{Name: "webhook", Delay: 2 * time.Millisecond, Match: all}}, Anchor: true},
		{Name: "storm-20000", Events: 20000, Workers: 16, Anchor: true},
		// The same storm into a receiver that takes a JSON array (batch=true): one request per
		// lane batch instead of one per event.
		{Name: "storm-20000-batch", Events: 20000, Workers: 16, Sinks: []sinkSpec{{Name: "webhook", Params: "batch=true", Match: all}}},
		{Name: "storm-20000-linger", Events: 20000, Workers: 16, Named: true, Sinks: []sinkSpec{{Name: "webhook", Params: "batch=true&flush=interval", Match: all}}},
		{Name: "dead-sink", Events: 20000, Workers: 16, Sinks: []sinkSpec{
			{Name: "live", Match: all},
			{Name: "dead", Params: "queue_size=5000", Dead: true, Match: all},
		}},
		{Name: "ten-sinks", Events: 4000, Rate: 200, Workers: 4, Sinks: ten, NS: []string{"a", "b", "c"}, Gen: tenGen},
		// Last: it leaves 50,000 more events in the cluster, which every later herald would list.
		{Name: "startup-50000", Precreate: 50000, Workers: 16},
		// Not in a plain make load (two minutes of creation, and it would follow the 50,000
		// above): run it on a fresh cluster with -scenario startup-100000.
		{Name: "startup-100000", Precreate: 100000, Workers: 16, Named: true},
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	ctx := context.Background()
	var opts cluster.Options
	if *eventTTL > 0 {
		opts.APIServerFlags = []string{"--event-ttl=" + eventTTL.String()}
	}
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		fail("start cluster: %v", err)
	}
	defer c.Stop()
	if *resumeN > 0 || *soak > 0 {
		var line string
		if *resumeN > 0 {
			line, err = runResume(ctx, c, *bin, *resumeN, 2*time.Millisecond)
			line = "| scenario | backlog | delivered | duplicated | dropped | backpressure waits | all delivered after restart | peak RSS MiB (sampled) | VmHWM MiB |\n|---|---|---|---|---|---|---|---|---|\n" + line
		} else {
			line, err = runSoak(ctx, c, *bin, *soak)
		}
		if err != nil {
			_ = c.Stop()
			fail("%v", err)
		}
		fmt.Println(line)
		_ = os.WriteFile(filepath.Join(*out, "ops.md"), []byte(line+"\n"), 0o644)
		return
	}
	var results []result
	for _, s := range scenarios {
		if (len(want) > 0 || s.Named) && !want[s.Name] {
			continue
		}
		if s.Sinks == nil {
			s.Sinks = []sinkSpec{{Name: "webhook", Match: all}}
		}
		if s.NS == nil {
			s.NS = []string{"x"}
		}
		if s.Gen == nil {
			s.Gen = roundRobin
		}
		runs := []forwarder{{Kind: "herald", Bin: *bin}}
		if kind, path, ok := strings.Cut(*anchor, "="); ok && s.Anchor {
			if kind != "kube-eventer" {
				fail("-anchor %q: write kube-eventer=PATH", *anchor)
			}
			runs = append(runs, forwarder{Kind: kind, Bin: path})
		}
		for _, fw := range runs {
			rs, err := run(ctx, c, fw, *out, s)
			if err != nil {
				_ = c.Stop()
				fail("%s (%s): %v", s.Name, fw.Kind, err)
			}
			results = append(results, rs...)
			for _, r := range rs {
				fmt.Fprintf(os.Stderr, "%s: %+v\n", s.Name, r)
			}
		}
	}
	if err := write(*out, results); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(1)
}

// receiver records, per event name, the delivery times. A dead receiver answers 503.
type receiver struct {
	dead  bool
	delay time.Duration
	mu    sync.Mutex
	got   map[string][]time.Time
	last  time.Time
	n     atomic.Int64
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.dead {
		http.Error(w, "down for the load test", http.StatusServiceUnavailable)
		return
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	now := time.Now()
	// One body, or a JSON array of them (batch=true).
	var bs []struct{ Name string }
	if len(body) > 0 && body[0] == '[' {
		if err := json.Unmarshal(body, &bs); err != nil {
			http.Error(w, "bad json array", 400)
			return
		}
	} else {
		bs = append(bs, struct{ Name string }{})
		if err := json.Unmarshal(body, &bs[0]); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
	}
	r.mu.Lock()
	for _, b := range bs {
		r.got[b.Name] = append(r.got[b.Name], now)
	}
	r.last = now
	r.mu.Unlock()
	r.n.Add(int64(len(bs)))
}

// createAll creates events [from, to) with workers goroutines, paced at rate (0: unpaced), and
// records each creation time in created.
func createAll(ctx context.Context, client kubernetes.Interface, s scenario, nss []string, from, to int, rate float64, created []time.Time) error {
	start := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var createErr atomic.Value
	for range s.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i-from) / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				t := time.Now()
				if err := create(ctx, client, s.Gen(i, nss), i); err != nil {
					createErr.Store(err)
					return
				}
				if created != nil {
					created[i] = t
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := createErr.Load().(error); err != nil {
		return err
	}
	return nil
}

// profile is -profile: save CPU and heap profiles of herald per scenario.
var profile bool

// fetchProfile saves herald's /debug/pprof/PATH to file.
func fetchProfile(port int, path, file string) error {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", port, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func run(ctx context.Context, c *cluster.Cluster, fw forwarder, out string, s scenario) ([]result, error) {
	bin := fw.Bin
	base := fmt.Sprintf("load-%s-%d", s.Name, time.Now().Unix()%100000)
	var nss []string
	for _, suf := range s.NS {
		ns := base + "-" + suf
		if err := c.EnsureNamespace(ctx, ns); err != nil {
			return nil, err
		}
		nss = append(nss, ns)
	}
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 5000, 5000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if s.Precreate > 0 {
		t := time.Now()
		if err := createAll(ctx, client, s, nss, 0, s.Precreate, 0, nil); err != nil {
			return nil, fmt.Errorf("pre-create: %v", err)
		}
		fmt.Fprintf(os.Stderr, "%s: pre-created %d events in %.1f s\n", s.Name, s.Precreate, time.Since(t).Seconds())
	}

	body := `{"Name":"{{ .InvolvedObject.Name }}"}`
	nsParam := strings.Join(nss, ",")
	port := freePort()
	args := []string{"--source=kubernetes:https://kubernetes.default?inClusterConfig=false&auth=" + c.Kubeconfig,
		"--healthz-ip=127.0.0.1", "--healthz-port=" + strconv.Itoa(port)}
	anchor := fw.Kind != "herald"
	if anchor {
		// kube-eventer's webhook takes its body only from a ConfigMap.
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "load-body", Namespace: nss[0]}, Data: map[string]string{"content": body}}
		if _, err := client.CoreV1().ConfigMaps(nss[0]).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("body ConfigMap: %v", err)
		}
	}
	if profile && !anchor {
		args = append(args, "--profiling")
	}
	recvs := make([]*receiver, len(s.Sinks))
	for k, sk := range s.Sinks {
		recvs[k] = &receiver{dead: sk.Dead, delay: sk.Delay, got: map[string][]time.Time{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: recvs[k]}
		go srv.Serve(ln)
		defer srv.Close()
		extra := strings.ReplaceAll(sk.Params, "NS-", base+"-")
		if !strings.Contains(extra, "namespaces=") {
			extra += "&namespaces=" + nsParam
		}
		if anchor {
			args = append(args, fmt.Sprintf("--sink=webhook:http://%s/?level=Warning&method=POST&custom_body_configmap=load-body&custom_body_configmap_namespace=%s&%s",
				ln.Addr(), nss[0], strings.TrimPrefix(extra, "&")))
			continue
		}
		args = append(args, fmt.Sprintf("--sink=webhook:http://%s/?name=%s&method=POST&body_template=%s&%s",
			ln.Addr(), sk.Name, urlEscape(body), strings.TrimPrefix(extra, "&")))
	}
	cmd := exec.Command(bin, args...)
	logf, _ := os.CreateTemp("", "herald-load-*.log")
	cmd.Stdout, cmd.Stderr = logf, logf
	startT := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}()
	ready := "/readyz"
	if anchor {
		ready = "/healthz" // kube-eventer has no /readyz
	}
	if err := waitReady(port, ready); err != nil {
		return nil, fmt.Errorf("%v (log: %s)", err, logf.Name())
	}
	readyMs := float64(time.Since(startT).Microseconds()) / 1000
	_, rssReady := procStats(cmd.Process.Pid)
	cpu0, _ := procStats(cmd.Process.Pid)

	total := s.Precreate + s.Events
	created := make([]time.Time, total+1)
	start := time.Now()
	from, to := s.Precreate, total
	if s.Precreate > 0 {
		to = total + 1 // one sentinel event after ready
	}
	var cpuProfile chan error
	if profile {
		// A CPU profile over the creation phase, where herald does its work.
		cpuProfile = make(chan error, 1)
		secs := max(5, int(float64(to-from)/max(s.Rate, 1000))+5)
		go func() {
			cpuProfile <- fetchProfile(port, fmt.Sprintf("profile?seconds=%d", secs), filepath.Join(out, s.Name+".cpu.pprof"))
		}()
	}
	if err := createAll(ctx, client, s, nss, from, to, s.Rate, created); err != nil {
		return nil, err
	}
	createDone := time.Now()
	// Expected sets per sink.
	expected := make([]map[string]bool, len(s.Sinks))
	for k, sk := range s.Sinks {
		expected[k] = map[string]bool{}
		for i := from; i < to; i++ {
			if sk.Match(s.Gen(i, nss)) {
				expected[k][fmt.Sprintf("obj-%d", i)] = true
			}
		}
	}
	// Wait for delivery: until every live sink has its expected count, or nothing new for 20 s,
	// or 5 minutes in all.
	done := func() bool {
		for k := range s.Sinks {
			if !s.Sinks[k].Dead && recvs[k].n.Load() < int64(len(expected[k])) {
				return false
			}
		}
		return true
	}
	sum := func() int64 {
		var n int64
		for _, r := range recvs {
			n += r.n.Load()
		}
		return n
	}
	lastN, lastChange, deadline := int64(-1), time.Now(), time.Now().Add(5*time.Minute)
	for !done() && time.Since(lastChange) < 20*time.Second && time.Now().Before(deadline) {
		if n := sum(); n != lastN {
			lastN, lastChange = n, time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // late duplicates or replays
	cpu, rss := procStats(cmd.Process.Pid)
	if profile {
		if err := <-cpuProfile; err != nil {
			fmt.Fprintf(os.Stderr, "%s: cpu profile: %v\n", s.Name, err)
		}
		if err := fetchProfile(port, "heap", filepath.Join(out, s.Name+".heap.pprof")); err != nil {
			fmt.Fprintf(os.Stderr, "%s: heap profile: %v\n", s.Name, err)
		}
	}
	metrics := scrape(port)

	var rs []result
	for k, sk := range s.Sinks {
		rv := recvs[k]
		rv.mu.Lock()
		name := sk.Name
		if anchor {
			name = fw.Kind
		}
		r := result{Scenario: s.Name, Sink: name, Created: to - from, Expected: len(expected[k]),
			CreateSeconds: createDone.Sub(start).Seconds()}
		var lat []float64
		var pts [][2]float64
		for name, times := range rv.got {
			if !expected[k][name] {
				r.Unexpected += len(times)
				if s.Precreate > 0 {
					r.Replayed += len(times)
				}
				continue
			}
			i, _ := strconv.Atoi(strings.TrimPrefix(name, "obj-"))
			r.Delivered++
			r.Duplicates += len(times) - 1
			l := float64(times[0].Sub(created[i]).Microseconds()) / 1000
			lat = append(lat, l)
			pts = append(pts, [2]float64{created[i].Sub(start).Seconds(), l})
		}
		if !rv.last.IsZero() {
			r.DrainLagMs = float64(rv.last.Sub(createDone).Microseconds()) / 1000
		}
		rv.mu.Unlock()
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
		r.CPUSecPer1000 = (cpu - cpu0) / float64(to-from) * 1000
		r.PeakRSSMiB = rss
		r.CreateRateAchvd = float64(to-from) / r.CreateSeconds
		r.MetricDropped = metrics.get("herald_sink_events_total", sk.Name, `outcome="dropped"`)
		r.MetricDelivered = metrics.get("herald_sink_events_total", sk.Name, `outcome="delivered"`)
		r.MetricQueued = metrics.get("herald_sink_queue_length", sk.Name, "")
		if s.Precreate > 0 {
			r.Precreated, r.ReadyMs, r.RSSReadyMiB = s.Precreate, readyMs, rssReady
			r.CPUSecPer1000 = cpu / float64(s.Precreate) * 1000 // start-up CPU per 1000 existing events
		}
		if s.Plot && k == 0 {
			if err := writeSVG(filepath.Join(out, "latency.svg"), s.Name, pts); err != nil {
				return nil, err
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// metricLines is herald's /metrics text.
type metricLines []string

func scrape(port int) metricLines {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Split(string(b), "\n")
}

// get sums the samples of metric whose labels include sink="sink" and the extra label pair.
func (m metricLines) get(metric, sink, extra string) float64 {
	var sum float64
	for _, l := range m {
		if !strings.HasPrefix(l, metric+"{") || !strings.Contains(l, `sink="`+sink+`"`) || !strings.Contains(l, extra) {
			continue
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

func create(ctx context.Context, client kubernetes.Interface, e evSpec, i int) error {
	ns := e.NS
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("ev-%d", i), Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("obj-%d", i)},
		Type:           e.Type, Reason: e.Reason, Message: "load test event", Count: 1,
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

func waitReady(port int, path string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready (%s) after 2 minutes", path)
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
	b.WriteString("| scenario | sink | created | expected | delivered | duplicates | unexpected | create rate/s | p50 ms | p90 ms | p99 ms | max ms | drain lag ms | CPU s/1000 ev | peak RSS MiB | dropped (metric) | queued (metric) | ready ms | RSS after ready MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %.3f | %.1f | %.0f | %.0f | %.0f | %.1f |\n",
			r.Scenario, r.Sink, r.Created, r.Expected, r.Delivered, r.Duplicates, r.Unexpected, r.CreateRateAchvd, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.DrainLagMs, r.CPUSecPer1000, r.PeakRSSMiB, r.MetricDropped, r.MetricQueued, r.ReadyMs, r.RSSReadyMiB)
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(b.String()), 0o644)
}
