package routes

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/routes/api"
)

// Parse reads a --config file: YAML documents, each a Receiver, a Route, or a List of them
// (as kubectl get -o yaml writes), apiVersion herald.dev/v1alpha1. An object without a
// namespace is in defaultNS (herald's own). Unknown fields are errors, named with the object.
func Parse(data []byte, defaultNS string) (Snapshot, error) {
	var snap Snapshot
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	seen := map[string]bool{}
	for n := 1; ; n++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Snapshot{}, fmt.Errorf("document %d: %v", n, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || onlyComments(doc) {
			continue
		}
		if err := parseDoc(doc, n, defaultNS, &snap, seen); err != nil {
			return Snapshot{}, err
		}
	}
	return snap, nil
}

func onlyComments(doc []byte) bool {
	for _, l := range strings.Split(string(doc), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && l != "---" {
			return false
		}
	}
	return true
}

func parseDoc(doc []byte, n int, defaultNS string, snap *Snapshot, seen map[string]bool) error {
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json2yamlObject `json:"items"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("document %d: %v", n, err)
	}
	where := fmt.Sprintf("document %d (%s %s)", n, head.Kind, head.Metadata.Name)
	switch head.Kind {
	case "List", "ReceiverList", "RouteList":
		for i, item := range head.Items {
			if err := parseDoc(item, n, defaultNS, snap, seen); err != nil {
				return fmt.Errorf("%s items[%d]: %v", head.Kind, i, err)
			}
		}
		return nil
	case "Receiver", "Route":
	default:
		return fmt.Errorf("document %d: kind %q: a --config file holds Receivers and Routes (apiVersion %s); see docs/routes.md", n, head.Kind, api.APIVersion)
	}
	if head.APIVersion != api.APIVersion {
		return fmt.Errorf("%s: apiVersion %q: write %s", where, head.APIVersion, api.APIVersion)
	}
	if head.Metadata.Name == "" {
		return fmt.Errorf("%s: metadata.name is empty", where)
	}
	// decode reads the object strictly into obj, puts it in defaultNS when it names none, and
	// refuses a second object of the same kind and name.
	decode := func(obj any, meta *metav1.ObjectMeta) error {
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return fmt.Errorf("%s: %s", where, decodeError(err))
		}
		if meta.Namespace == "" {
			meta.Namespace = defaultNS
		}
		k := head.Kind + "/" + meta.Namespace + "/" + meta.Name
		if seen[k] {
			return fmt.Errorf("%s: a second %s %s/%s", where, head.Kind, meta.Namespace, meta.Name)
		}
		seen[k] = true
		return nil
	}
	switch head.Kind {
	case "Receiver":
		var r api.Receiver
		if err := decode(&r, &r.ObjectMeta); err != nil {
			return err
		}
		snap.Receivers = append(snap.Receivers, r)
	case "Route":
		var r api.Route
		if err := decode(&r, &r.ObjectMeta); err != nil {
			return err
		}
		snap.Routes = append(snap.Routes, r)
	}
	return nil
}

// decodeError drops the decoder's layers from err ("error unmarshaling JSON: while decoding
// JSON: json: unknown field ...").
func decodeError(err error) string {
	msg := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// json2yamlObject keeps a List item as its own YAML (JSON is YAML) for parseDoc.
type json2yamlObject []byte

func (o *json2yamlObject) UnmarshalJSON(b []byte) error {
	*o = append((*o)[:0], b...)
	return nil
}

// FileMetrics count --config reloads.
type FileMetrics struct {
	reloads     *prometheus.CounterVec
	lastOK      prometheus.Gauge
	lastSuccess prometheus.Gauge
}

// NewFileMetrics registers the --config metrics with reg (nil: not registered).
func NewFileMetrics(reg prometheus.Registerer) *FileMetrics {
	m := &FileMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_config_reloads_total",
			Help: "Loads of the --config file (at start, on change, on SIGHUP; not the 30-s resyncs that re-read Secrets), by result: success, or failure (the file did not parse or validate; the last good configuration stays)."}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_config_last_reload_successful",
			Help: "1 when the last load of the --config file succeeded, 0 when herald runs with an older configuration because the file on disk does not validate."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_config_last_reload_success_timestamp_seconds",
			Help: "When the --config file was last loaded successfully (Unix seconds)."}),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	if reg != nil {
		reg.MustRegister(m.reloads, m.lastOK, m.lastSuccess)
	}
	return m
}

// File is a --config file applied to a Manager, reloaded when its content changes (checked
// every Interval: a ConfigMap volume updates by swapping a symlink, which no inotify watch on
// the file sees) and on Reload (SIGHUP).
type File struct {
	Path      string
	Namespace string // for objects without one
	Manager   *Manager
	Metrics   *FileMetrics
	// Interval between checks of the file (default 2 s).
	Interval time.Duration
	// Resync is how often the file is applied again even when unchanged, so a Secret that was
	// rotated reaches its Receivers (default 30 s).
	Resync time.Duration
	// OnStatus receives every object's status after each load that applied.
	OnStatus func([]Status)

	mu   sync.Mutex
	last [32]byte
	read bool
}

// Load reads and applies the file. A file that does not parse or validate is refused: herald
// keeps the configuration it runs with (none at start) and the error says what to fix.
func (f *File) Load() error { return f.load(false) }

func (f *File) load(quiet bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return f.failed(quiet, fmt.Errorf("--config=%s: %v", f.Path, err))
	}
	f.last, f.read = sha256.Sum256(data), true
	snap, err := Parse(data, f.Namespace)
	if err != nil {
		return f.failed(quiet, fmt.Errorf("--config=%s: %v", f.Path, err))
	}
	statuses, err := f.Manager.Apply(snap, true)
	if err != nil {
		return f.failed(quiet, fmt.Errorf("--config=%s: %v", f.Path, err))
	}
	if f.Metrics != nil {
		if !quiet {
			f.Metrics.reloads.WithLabelValues("success").Inc()
		}
		f.Metrics.lastOK.Set(1)
		f.Metrics.lastSuccess.SetToCurrentTime()
	}
	if !quiet {
		glog.Infof("--config=%s: loaded %d Receiver(s) and %d Route(s)", f.Path, len(snap.Receivers), len(snap.Routes))
	}
	if f.OnStatus != nil {
		f.OnStatus(statuses)
	}
	return nil
}

// failed counts a load that failed; a resync (quiet) sets the gauge only, so the counter
// counts loads of the file (start, change, SIGHUP).
func (f *File) failed(quiet bool, err error) error {
	if f.Metrics != nil {
		if !quiet {
			f.Metrics.reloads.WithLabelValues("failure").Inc()
		}
		f.Metrics.lastOK.Set(0)
	}
	return err
}

// changed reports whether the file's content differs from the last one read.
func (f *File) changed() bool {
	data, err := os.ReadFile(f.Path)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		return false // reported by the next Load (SIGHUP), not every Interval
	}
	return !f.read || sha256.Sum256(data) != f.last
}

// Run reloads the file when its content changes or reload receives, until ctx ends. A failed
// reload is logged with what to fix; herald goes on with the last good configuration.
func (f *File) Run(ctx context.Context, reload <-chan os.Signal) {
	every := f.Interval
	if every <= 0 {
		every = 2 * time.Second
	}
	resync := f.Resync
	if resync <= 0 {
		resync = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastApply := time.Now()
	failing := false
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-reload:
			why = "SIGHUP"
		case <-t.C:
			switch {
			case f.changed():
				why = "the file changed"
			case time.Since(lastApply) >= resync:
				why = "resync" // Secrets may have changed
			default:
				continue
			}
		}
		lastApply = time.Now()
		// A resync that keeps failing the same way is logged once, not every 30 s.
		err := f.load(why == "resync")
		switch {
		case err != nil && (why != "resync" || !failing):
			glog.Errorf("reloading --config (%s): %v; herald keeps running with the last configuration that loaded (herald_config_last_reload_successful is 0)", why, err)
		case err == nil && why != "resync":
			glog.Infof("reloaded --config (%s)", why)
		case err == nil && failing:
			glog.Infof("--config=%s loads again", f.Path)
		}
		failing = err != nil
	}
}
