package core

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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
	up          *prometheus.GaugeVec
	downReason  *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	waits       *prometheus.CounterVec
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
	DropRemoved   = "removed"    // still queued when the sink was removed (its Receiver deleted)
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
			Help: "Failed export attempts, by kind (retryable; credential: the receiver refused herald's credential, retried; permanent: the events were refused).",
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
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_sink_up",
			Help: "1 while the sink works (from start, and after every successful export), 0 from a failed export until the next success; herald_sink_down_reason says why.",
		}, []string{"sink"}),
		downReason: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_sink_down_reason",
			Help: "1 for the reason a sink is down (credential: the receiver refuses herald's credential; timeout; error), absent while it is up.",
		}, []string{"sink", "reason"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_sink_last_success_timestamp_seconds",
			Help: "When the sink last delivered an export (Unix seconds); herald's start until its first delivery.",
		}, []string{"sink"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_sink_backpressure_waits_total",
			Help: "Times a catch-up (a resume from the checkpoint, a relist) waited for room in the sink's full queue instead of dropping.",
		}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.events, m.retries, m.errors, m.latency, m.exportTime, m.queueLength, m.queueCap,
			m.up, m.downReason, m.lastSuccess, m.waits)
	}
	return m
}

// SinkCounts returns what sink id has delivered, the export attempts that failed, and the events
// it dropped (every reason), since herald started: the counts a Receiver's status shows.
func (m *Metrics) SinkCounts(id string) (delivered, failed, dropped int64) {
	read := func(c prometheus.Counter) int64 {
		var d dto.Metric
		if c.Write(&d) != nil || d.Counter == nil {
			return 0
		}
		return int64(d.Counter.GetValue())
	}
	delivered = read(m.events.WithLabelValues(id, OutcomeDelivered, ""))
	for _, kind := range []string{ErrorRetryable, ErrorCredential, ErrorPermanent} {
		failed += read(m.errors.WithLabelValues(id, kind))
	}
	for _, reason := range []string{DropQueueFull, DropRejected, DropShutdown, DropRemoved} {
		dropped += read(m.events.WithLabelValues(id, OutcomeDropped, reason))
	}
	return delivered, failed, dropped
}

// deleteSink deletes the gauges of a removed sink, so that no alert fires on a sink that is
// gone (herald_sink_up, the last success). Its counters stay: what it delivered and dropped,
// including what its removal dropped, stays visible to increase() and rate().
func (m *Metrics) deleteSink(id string) {
	l := prometheus.Labels{"sink": id}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.queueLength, m.queueCap, m.up, m.downReason, m.lastSuccess,
	} {
		v.DeletePartialMatch(l)
	}
}

// initSink creates a sink's series at 0, so that a rate or an increase over them counts from
// herald's start: a sink broken from the start has a delivered series to compare with, and the
// first burst of drops shows in increase().
func (m *Metrics) initSink(id string) {
	m.events.WithLabelValues(id, OutcomeDelivered, "")
	for _, reason := range []string{DropQueueFull, DropRejected, DropShutdown} {
		m.events.WithLabelValues(id, OutcomeDropped, reason)
	}
	for _, kind := range []string{ErrorRetryable, ErrorCredential, ErrorPermanent} {
		m.errors.WithLabelValues(id, kind)
	}
	m.retries.WithLabelValues(id)
	m.queueLength.WithLabelValues(id)
	m.waits.WithLabelValues(id)
}
