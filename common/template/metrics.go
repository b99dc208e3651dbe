package template

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts ConfigMap template reloads. Create one per registry and share it between
// sinks; nil Metrics count nothing.
type Metrics struct {
	reloads *prometheus.CounterVec
}

// NewMetrics registers herald_template_reloads_total{sink,result="applied|rejected"} with reg.
// A registry that already holds it is fine: the registered counter is reused. A nil reg gives
// counters that are kept but not exported.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_template_reloads_total",
		Help: "Edits of a body template ConfigMap, by sink and result: applied, or rejected (the last good template stays in use).",
	}, []string{"sink", "result"})
	if reg != nil {
		if err := reg.Register(reloads); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			reloads = existing
		}
	}
	return &Metrics{reloads: reloads}, nil
}

// Result values of herald_template_reloads_total.
const (
	ReloadApplied  = "applied"
	ReloadRejected = "rejected"
)

// init creates both series for sink at zero, so a dashboard sees them before the first edit.
func (m *Metrics) init(sink string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(sink, ReloadApplied)
	m.reloads.WithLabelValues(sink, ReloadRejected)
}

func (m *Metrics) reload(sink, result string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(sink, result).Inc()
}
