package podrestart

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pod restart source's Prometheus metrics. Create one with NewMetrics; nothing
// is registered behind the caller's back.
type Metrics struct {
	detected   prometheus.Counter
	reported   prometheus.Counter
	throttled  prometheus.Counter
	unenriched prometheus.Counter
	logFails   *prometheus.CounterVec
	requests   *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not registered):
//
//	herald_podrestart_restarts_total{outcome="detected|reported|throttled|unenriched"}
//	herald_podrestart_log_fetch_failures_total{log="previous|current",reason="gone|forbidden|unavailable|timeout|error"}
//	herald_podrestart_api_requests_total{request="log|replicaset"}
func NewMetrics(reg prometheus.Registerer) *Metrics {
	restarts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_podrestart_restarts_total",
		Help: `Container restarts, by outcome: "detected" (restartCount rose), "reported" (an event was emitted), "throttled" (folded into the next report by --restart-repeat), "unenriched" (reported without logs because the enrichment queue was full).`,
	}, []string{"outcome"})
	m := &Metrics{
		detected:   restarts.WithLabelValues("detected"),
		reported:   restarts.WithLabelValues("reported"),
		throttled:  restarts.WithLabelValues("throttled"),
		unenriched: restarts.WithLabelValues("unenriched"),
		logFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_podrestart_log_fetch_failures_total",
			Help: "Log tails that could not be fetched for a restart report (the report carries a LogNote instead), by log and reason.",
		}, []string{"log", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_podrestart_api_requests_total",
			Help: "API requests made to explain restarts (pod watch excluded): log tails and ReplicaSet lookups (cached).",
		}, []string{"request"}),
	}
	if reg != nil {
		reg.MustRegister(restarts, m.logFails, m.requests)
	}
	return m
}
