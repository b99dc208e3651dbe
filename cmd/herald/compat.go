package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// timeZone is the zone every rendered time is shown in: --timezone when given, else what Go made
// of TZ (or /etc/localtime), as kube-eventer's times were. A TZ that names no zone is a warning:
// Go then falls back to UTC silently.
func (o *options) timeZone() (*time.Location, error) {
	if o.explicit["timezone"] || o.timezone != "" {
		loc, err := time.LoadLocation(o.timezone)
		if err != nil {
			return nil, fmt.Errorf("--timezone=%q: %v; write an IANA name such as UTC or Asia/Shanghai", o.timezone, err)
		}
		return loc, nil
	}
	if tz := os.Getenv("TZ"); tz != "" {
		if err := checkTZ(tz); err != nil {
			o.warnings = append(o.warnings, fmt.Sprintf("TZ=%q: %v; kube-eventer (Go) then showed times in UTC, and so does herald; write an IANA name such as Asia/Shanghai, or give --timezone", tz, err))
			return time.UTC, nil
		}
	}
	return time.Local, nil
}

// checkTZ reports whether Go can load the zone TZ names: a name, or a file path, with an
// optional leading ":" (as Go's time package reads TZ).
func checkTZ(tz string) error {
	name := strings.TrimPrefix(tz, ":")
	if strings.HasPrefix(name, "/") {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cannot read the zone file: %v", err)
		}
		_, err = time.LoadLocationFromTZData(name, data)
		return err
	}
	_, err := time.LoadLocation(name)
	return err
}

// serviceAccountNamespaceFile is where Kubernetes mounts the pod's namespace next to its
// ServiceAccount token; a variable so tests can point it elsewhere.
var serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// podNamespace is the namespace herald runs in: $POD_NAMESPACE (the manifests set it from the
// downward API), else the ServiceAccount mount's (kube-eventer's manifests do not set
// POD_NAMESPACE), else "" when herald does not run in a pod.
func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile(serviceAccountNamespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// configReport is what the daemon starts with despite it: warnings (herald runs, reading a
// value as kube-eventer did, or differently and saying how) and the --sink values it could not
// build and runs without, as kube-eventer's sink factory did.
type configReport struct {
	warnings []string
	failed   []error
}

// build builds every --sink value and logs each problem: one WARNING per warning, one ERROR per
// sink left out. The daemon runs with what was built; none left is for the caller to refuse.
func (r *configReport) build(raws []string, env sinks.Env) []*sinks.Built {
	built, failed := sinks.BuildEach(raws, env)
	r.failed = failed
	for _, b := range built {
		r.warnings = append(r.warnings, b.Warnings...)
	}
	return built
}

// log writes each problem once.
func (r *configReport) log() {
	for _, w := range r.warnings {
		glog.Warning(w)
	}
	for _, err := range r.failed {
		glog.Errorf("%v; herald runs without this sink, as kube-eventer ran without a sink it could not create (herald check lists every problem)", err)
	}
}

// register exports the counts as gauges, so an alert can tell that herald runs with a
// configuration it reads differently, or without some of its sinks.
func (r *configReport) register(reg prometheus.Registerer) {
	warnings := prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_config_warnings",
		Help: "Configuration warnings at start-up: herald runs, but reads a flag or parameter as kube-eventer did or differently from it (logged as WARNING; herald check fails on them)."})
	failed := prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_config_errors",
		Help: "--sink values herald could not build at start-up and runs without (logged as ERROR)."})
	warnings.Set(float64(len(r.warnings)))
	failed.Set(float64(len(r.failed)))
	reg.MustRegister(warnings, failed)
}

// eventMetrics wraps the source's emit function with kube-eventer's event counters when
// --event-metrics is on (the default, as in kube-eventer). Only the event watch is counted, as
// in kube-eventer; herald's pod-restart events are not.
func eventMetrics(o *options, reg prometheus.Registerer, emit func(*core.Event), emitWait func(*core.Event) bool) (func(*core.Event), func(*core.Event) bool) {
	if !o.eventMetrics {
		return emit, emitWait
	}
	m := kubesource.NewEventMetrics(reg)
	m.SeriesTTL, m.MaxSeries = o.eventSeriesTTL, o.eventMaxSeries
	return m.Wrap(emit), m.WrapWait(emitWait)
}
