package core

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus metrics. Create them once with NewMetrics and pass them
// in; nothing is registered at package init.
type Metrics struct {
	received    prometheus.Counter
	events      *prometheus.CounterVec
	retries     *prometheus.CounterVec
	errors      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	exportTime  *prometheus.HistogramVec
	queueLength *prometheus.GaugeVec
	queueCap    *prometheus.GaugeVec
}

// Outcomes of an event offered to a sink, the "outcome" label of herald_sink_events_total.
const (
	OutcomeDelivered = "delivered"
	OutcomeFiltered  = "filtered"
	OutcomeDropped   = "dropped"
	// OutcomeSkipped is an event a resumed run replayed that this sink already had.
	OutcomeSkipped = "skipped"
)

// SkipDeliveredBefore is the reason of herald_sink_events_total{outcome="skipped"}: the sink's
// checkpoint says it had the event before the restart.
const SkipDeliveredBefore = "delivered_before"

// Reasons an event was dropped, the "reason" label of herald_sink_events_total{outcome="dropped"}.
const (
	DropQueueFull = "queue_full" // the sink's queue was full (sink slow or down)
	DropRejected  = "rejected"   // the sink answered with a permanent error
	DropShutdown  = "shutdown"   // still queued or retrying when --shutdown-timeout ran out
)

// NewMetrics creates the pipeline metrics and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_received_total",
			Help: "Events the sources handed to the pipeline.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_sink_events_total",
			Help: "Events offered to each sink, by outcome (delivered, filtered, dropped) and, for drops, reason (queue_full, rejected, shutdown).",
		}, []string{"sink", "outcome", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_sink_retries_total",
			Help: "Export attempts retried after a retryable error.",
		}, []string{"sink"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_sink_export_errors_total",
			Help: "Failed export attempts, by kind (retryable, permanent).",
		}, []string{"sink", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_latency_seconds",
			Help:    "Time from the source seeing an event to the sink acknowledging it.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"sink"}),
		exportTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_sink_export_duration_seconds",
			Help:    "Duration of one export attempt.",
			Buckets: prometheus.DefBuckets,
		}, []string{"sink"}),
		queueLength: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_sink_queue_length",
			Help: "Events waiting in each sink's queue.",
		}, []string{"sink"}),
		queueCap: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_sink_queue_capacity",
			Help: "Capacity of each sink's queue (queue_size).",
		}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.events, m.retries, m.errors, m.latency, m.exportTime, m.queueLength, m.queueCap)
	}
	return m
}
