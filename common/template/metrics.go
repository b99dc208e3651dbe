package template

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts ConfigMap template reloads and failed renders. Create one per registry and
// share it between sinks; nil Metrics count nothing.
type Metrics struct {
	reloads  *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics registers herald_template_reloads_total{sink,result="applied|rejected"} and
// herald_template_render_failures_total{sink,reason="timeout|too_large|error"} with reg. A
// registry that already holds them is fine: the registered counters are reused. A nil reg
// gives counters that are kept but not exported.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	reloads, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_template_reloads_total",
		Help: "Edits of a body template ConfigMap, by sink and result: applied, or rejected (the last good template stays in use).",
	}, []string{"sink", "result"}))
	if err != nil {
		return nil, err
	}
	failures, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_template_render_failures_total",
		Help: "Events a sink's body template could not render, by sink and reason: timeout (past body_template_timeout), too_large (a body over 1 MiB), error (the template fails on the event).",
	}, []string{"sink", "reason"}))
	if err != nil {
		return nil, err
	}
	return &Metrics{reloads: reloads, failures: failures}, nil
}

// register registers c with reg, or returns the counter reg already holds under its name.
func register(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		return existing, nil
	}
	return c, nil
}

// Result values of herald_template_reloads_total.
const (
	ReloadApplied  = "applied"
	ReloadRejected = "rejected"
)

// Reason values of herald_template_render_failures_total.
const (
	FailureTimeout  = "timeout"
	FailureTooLarge = "too_large"
	FailureError    = "error"
)

// init creates both reload series for sink at zero, so a dashboard sees them before the first
// edit.
func (m *Metrics) init(sink string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(sink, ReloadApplied)
	m.reloads.WithLabelValues(sink, ReloadRejected)
}

// initFailures creates the failure series for sink at zero, so increase() sees the first one.
func (m *Metrics) initFailures(sink string) {
	if m == nil {
		return
	}
	for _, r := range []string{FailureTimeout, FailureTooLarge, FailureError} {
		m.failures.WithLabelValues(sink, r)
	}
}

// failure counts a render that failed for reason.
func (m *Metrics) failure(sink, reason string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(sink, reason).Inc()
}

func (m *Metrics) reload(sink, result string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(sink, result).Inc()
}
