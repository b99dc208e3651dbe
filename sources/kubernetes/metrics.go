package kubernetes

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the event source's Prometheus metrics. Create one per process with NewMetrics and
// share it between sources; nothing is registered behind the caller's back.
type Metrics struct {
	delivered   prometheus.Counter
	unchanged   prometheus.Counter
	initial     prometheus.Counter
	skipped     prometheus.Counter
	watchErrors prometheus.Counter
	relists     prometheus.Counter
	tracked     prometheus.Gauge
	gaps        prometheus.Counter
	gapSeconds  prometheus.Counter
}

// NewMetrics creates the source's metrics and registers them with reg (nil: not registered,
// for tests and tools):
//
//	herald_source_events_total{outcome="delivered|unchanged|initial|skipped"}
//	herald_source_watch_errors_total
//	herald_source_relists_total
//	herald_source_tracked_events
//	herald_source_gaps_total
//	herald_source_gap_seconds_total
func NewMetrics(reg prometheus.Registerer) *Metrics {
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_source_events_total",
		Help: `Event notifications the source received, by outcome: "delivered" (new, or count/lastTimestamp/series advanced), "unchanged" (an update or relist that changed nothing that matters), "initial" (present when herald started; recorded, not replayed), "skipped" (not a v1 Event, or no UID).`,
	}, []string{"outcome"})
	m := &Metrics{
		delivered: events.WithLabelValues("delivered"),
		unchanged: events.WithLabelValues("unchanged"),
		initial:   events.WithLabelValues("initial"),
		skipped:   events.WithLabelValues("skipped"),
		watchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_source_watch_errors_total",
			Help: "Failed list or watch requests for events (the source retries with backoff; 410 Gone expiries are counted as relists instead).",
		}),
		relists: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_source_relists_total",
			Help: "Full lists of events after the initial one (after a 410 Gone or a long disconnect).",
		}),
		tracked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_source_tracked_events",
			Help: "Events the source currently remembers (a few dozen bytes each) to tell repeats from changes.",
		}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_source_gaps_total",
			Help: "Resumes from a checkpoint that could not be complete: herald was down longer than the API server keeps events (--event-ttl), or the checkpoint belongs to another etcd. Each is logged with its time window.",
		}),
		gapSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_source_gap_seconds_total",
			Help: "Length of the time windows whose events expired from the API server before herald could deliver them.",
		}),
	}
	if reg != nil {
		reg.MustRegister(events, m.watchErrors, m.relists, m.tracked, m.gaps, m.gapSeconds)
	}
	return m
}

// CountGap counts a resume that could not be complete for a reason found outside the source: a
// checkpoint that could not be read, so the positions it held are lost.
func (m *Metrics) CountGap() { m.gaps.Inc() }
