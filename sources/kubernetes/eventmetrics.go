package kubernetes

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// EventMetrics are kube-eventer's event counters (--event-metrics, on by default there and here),
// under kube-eventer's names and labels, so dashboards and alerts built on them keep working:
//
//	eventer_events_error_total{reason, kind, name, namespace}    an event kube-eventer classifies
//	                                                             as a known failure; reason is
//	                                                             the class (PodOOM, NodeNotReady...)
//	eventer_events_warning_total{reason, kind, name, namespace}  any other Warning event
//	eventer_events_normal_total{reason, namespace, kind}         any other event
//
// kind, name and namespace are the involved object's, except namespace of the normal counter,
// which is the Event's own (kube-eventer's labels, kept as they were). The name label made the
// error and warning counters grow with every object that ever had a Warning in kube-eventer (a
// memory leak of about 1 KiB a series: 4 MiB a minute at 50 Warnings a second about new pods).
// herald bounds them: a series not counted for SeriesTTL is deleted (the API server forgets the
// Event after its --event-ttl, one hour by default, too), and beyond MaxSeries the least recently
// counted ones are; herald_event_metrics_series_evicted_total counts both.
//
// The warning and error series are kept in the bounded table itself and written out at scrape
// time, rather than in prometheus CounterVecs beside it: a storm of Warnings about new objects
// fills the table, and each series then holds about 300 bytes of heap instead of 1 KiB
// (BenchmarkEventMetricsStorm), and counting one needs no label hashing.
type EventMetrics struct {
	normal  *prometheus.CounterVec
	evicted prometheus.Counter
	// warningDesc and errorDesc describe the per-object series written by Collect.
	warningDesc, errorDesc *prometheus.Desc

	// SeriesTTL and MaxSeries bound the warning and error series (set before the first Record).
	SeriesTTL time.Duration
	MaxSeries int
	now       func() time.Time

	mu        sync.Mutex
	series    map[seriesKey]*list.Element // of *seriesEntry
	lru       *list.List                  // most recently counted at the front
	lastSweep time.Time
}

// Defaults for EventMetrics' bounds.
const (
	DefaultEventSeriesTTL = time.Hour
	DefaultEventMaxSeries = 10000
)

type seriesKey struct {
	failure                       bool // eventer_events_error_total, else warning
	reason, kind, name, namespace string
}

type seriesEntry struct {
	key   seriesKey
	last  time.Time
	count float64
}

// NewEventMetrics creates kube-eventer's counters and registers them with reg.
func NewEventMetrics(reg prometheus.Registerer) *EventMetrics {
	objectLabels := []string{"reason", "kind", "name", "namespace"}
	m := &EventMetrics{
		SeriesTTL: DefaultEventSeriesTTL,
		MaxSeries: DefaultEventMaxSeries,
		now:       time.Now,
		series:    map[seriesKey]*list.Element{},
		lru:       list.New(),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "herald_event_metrics_series_evicted_total",
			Help: "eventer_events_warning_total and eventer_events_error_total series deleted because their object had no event for --event-metrics-ttl, or to stay within --event-metrics-max-series."}),
		normal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventer_events_normal_total",
			Help: "kube-eventer's counter of events that are neither Warning nor a known failure, by reason, the Event's namespace and the object's kind."},
			[]string{"reason", "namespace", "kind"}),
		warningDesc: prometheus.NewDesc("eventer_events_warning_total",
			"kube-eventer's counter of Warning events that are not a known failure, by reason and object.", objectLabels, nil),
		errorDesc: prometheus.NewDesc("eventer_events_error_total",
			"kube-eventer's counter of events it classifies as a known failure; reason is the class (PodOOM, PodCrash, NodeNotReady, ...).", objectLabels, nil),
	}
	reg.MustRegister(m.normal, m.evicted, m)
	return m
}

// Describe implements prometheus.Collector for the warning and error counters.
func (m *EventMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.warningDesc
	ch <- m.errorDesc
}

// Collect implements prometheus.Collector: one counter per kept warning or error series. The
// values are copied under the lock and written out after it, so a scrape holds up counting
// only for the copy.
func (m *EventMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	kept := make([]seriesEntry, 0, m.lru.Len())
	for el := m.lru.Front(); el != nil; el = el.Next() {
		kept = append(kept, *el.Value.(*seriesEntry))
	}
	m.mu.Unlock()
	for _, e := range kept {
		desc := m.warningDesc
		if e.key.failure {
			desc = m.errorDesc
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, e.count, e.key.reason, e.key.kind, e.key.name, e.key.namespace)
	}
}

// Record counts one event delivery, as kube-eventer counted each event it received.
func (m *EventMetrics) Record(e *corev1.Event) {
	o := e.InvolvedObject
	if class := failureClass(e); class != "" {
		m.count(seriesKey{failure: true, reason: class, kind: o.Kind, name: o.Name, namespace: o.Namespace})
		return
	}
	if e.Type == corev1.EventTypeWarning {
		m.count(seriesKey{reason: e.Reason, kind: o.Kind, name: o.Name, namespace: o.Namespace})
		return
	}
	m.normal.WithLabelValues(e.Reason, e.Namespace, o.Kind).Inc()
}

// Series is how many warning and error series are kept now.
func (m *EventMetrics) Series() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// count adds one to k's series and marks it counted now, then deletes the series idle longer
// than SeriesTTL (checked at most every SeriesTTL/10) and the least recently counted ones
// beyond MaxSeries.
func (m *EventMetrics) count(k seriesKey) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.series[k]; ok {
		se := el.Value.(*seriesEntry)
		se.last = now
		se.count++
		m.lru.MoveToFront(el)
	} else {
		m.series[k] = m.lru.PushFront(&seriesEntry{key: k, last: now, count: 1})
	}
	for m.MaxSeries > 0 && m.lru.Len() > m.MaxSeries {
		m.evict(m.lru.Back())
	}
	if m.SeriesTTL > 0 && now.Sub(m.lastSweep) >= m.SeriesTTL/10 {
		m.lastSweep = now
		for el := m.lru.Back(); el != nil && now.Sub(el.Value.(*seriesEntry).last) > m.SeriesTTL; el = m.lru.Back() {
			m.evict(el)
		}
	}
}

func (m *EventMetrics) evict(el *list.Element) {
	m.lru.Remove(el)
	delete(m.series, el.Value.(*seriesEntry).key)
	m.evicted.Inc()
}

// Wrap returns an emit function that counts each event and then passes it on.
func (m *EventMetrics) Wrap(emit func(*core.Event)) func(*core.Event) {
	return func(e *core.Event) {
		if e != nil && e.Event != nil {
			m.Record(e.Event)
		}
		emit(e)
	}
}

// WrapWait is Wrap for the catch-up path, whose emit waits for room and reports whether the
// event was taken.
func (m *EventMetrics) WrapWait(emit func(*core.Event) bool) func(*core.Event) bool {
	return func(e *core.Event) bool {
		if e != nil && e.Event != nil {
			m.Record(e.Event)
		}
		return emit(e)
	}
}

// failureClasses are the reasons kube-eventer maps to a failure class whatever the message says.
var failureClasses = map[string]string{
	"Evicted": "PodEvict", "OOMKilling": "PodOOM", "PodOOMKilling": "PodOOM",
	"FailedMount": "VolumeFailMount", "FailedAttachVolume": "VolumeFailMount",
	"SystemOOM": "NodeOOM", "Rebooted": "NodeRebooted", "NodeHasDiskPressure": "NodeDiskPressure",
	"DockerHung": "NodeDockerHung", "PSProcessIsHung": "NodePSHung", "NodeHasNvidiaXidError": "NodeGPUXIPError",
	"NodeHasFDPressure": "NodeFDPressure", "PIDPressure": "NodeFDPressure", "NodeHasPIDPressure": "NodeFDPressure",
	"NTPIsDown": "NodeNPTDown", "ConntrackFull": "ConnTrackFull",
	"SyncLoadBalancerFailed": "CcmSLBSyncFail", "DeleteLoadBalancerFailed": "CcmSLBDeleteFail",
	"CreateRouteFailed": "CcmCreateRouteFail", "SYncRouteFailed": "CcmSyncRouteFail",
	"AddNodeFailed": "CcmAddNodeFail", "DeteleNodeFailed": "CcmDeleteNodeFail",
	"UnAvailableLoadBalancer": "CcmSLBUnavailable", "AnnotationChanged": "CcmSLBAnnotationChanged",
	"ServiceSpecChanged": "CcmSLBSpecChanged", "SlowIO": "CSISlowIO", "DeviceBusy": "CSIDeviceBusy",
	"IOHang": "CSIIOHang", "AllocIPFailed": "CNIAllocIPFail", "ParseFailed": "CNIParseFail",
	"DisposeResourceFailed": "CNIDisposeResourceFail",
}

// failureClass is kube-eventer's class for an event (its metrics/prometheus triage: the reason
// alone, or the reason and words of the message), or "" when it is none. The spellings
// ("SYncRouteFailed", "NodeNPTDown") are kube-eventer's.
func failureClass(e *corev1.Event) string {
	if class, ok := failureClasses[e.Reason]; ok {
		return class
	}
	msg, kind := e.Message, e.InvolvedObject.Kind
	has := func(s string) bool { return strings.Contains(msg, s) }
	pullFailed := has("ImagePullBackOff") || has("ErrImagePull")
	switch e.Reason {
	case "Failed":
		if kind == "Pod" && !pullFailed && !has("Failed to pull image") {
			return "PodFailStart"
		}
		if pullFailed {
			return "PodImagePullBackOff"
		}
	case "BackOff":
		if has("Back-off restarting failed container") {
			return "PodCrash"
		}
		if has("Back-off pulling image") {
			return "PodImagePullBackOff"
		}
	case "FailedCreate":
		if has("exceeded quota") {
			return "FailCreatePodExceedQuota"
		}
	case "FailedScheduling":
		if has("Insufficient") {
			return "ResourceInsufficient"
		}
		return "PodFailScheduling"
	case "ProvisioningFailed":
		if has("disk size is not supported") {
			return "DiskProvisionFailSize"
		}
		return "DiskProvisionFail"
	case "FailedBinding":
		if has("no storage class is set") {
			return "FailedBindingNoStorageClass"
		}
	case "NodeNotReady":
		if kind == "Node" && has("PLEG is not healthy") {
			return "NodePLEGUnhealthy"
		}
		if kind == "Node" {
			return "NodeNotReady"
		}
	case "AllocResourceFailed", "ResourceInvalid":
		if has("IpNotEnough") {
			return "ClusterIPNotEnough"
		}
		if e.Reason == "AllocResourceFailed" {
			return "CNIAllocResourceFail"
		}
		return "CNIResourceInvalid"
	}
	return ""
}
