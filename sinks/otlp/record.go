package otlp

import (
	"strings"
	"time"

	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// EventName is the log record's event_name: every record the sink sends is a Kubernetes Event.
// The semantic conventions define no name for it; the reason is in k8s.event.reason.
const EventName = "k8s.event"

// ScopeName is the instrumentation scope of every record.
const ScopeName = "github.com/heraldproject/herald"

// Attribute names. The k8s.event.* names are those the OpenTelemetry specification's
// Kubernetes event conventions and the Collector's k8seventsreceiver use; k8s.object.* are the
// k8seventsreceiver's (for any kind, custom resources included); the rest are the semantic
// conventions' Kubernetes attributes. herald.restart.* carry what only herald's pod restart
// reports have.
const (
	AttrReason              = "k8s.event.reason"
	AttrName                = "k8s.event.name"
	AttrUID                 = "k8s.event.uid"
	AttrCount               = "k8s.event.count"
	AttrAction              = "k8s.event.action"
	AttrStartTime           = "k8s.event.start_time"
	AttrReportingController = "k8s.event.reporting_controller"
	AttrReportingInstance   = "k8s.event.reporting_instance"
	AttrNamespace           = "k8s.namespace.name"
	AttrNode                = "k8s.node.name"
	AttrContainer           = "k8s.container.name"
	AttrObjectKind          = "k8s.object.kind"
	AttrObjectName          = "k8s.object.name"
	AttrObjectUID           = "k8s.object.uid"
	AttrObjectAPIVersion    = "k8s.object.api_version"
	AttrObjectFieldPath     = "k8s.object.fieldpath"
	AttrRestartCount        = "k8s.container.restart_count"
	AttrLastTerminated      = "k8s.container.status.last_terminated_reason"
	AttrExitCode            = "herald.restart.exit_code"
	AttrPreviousLog         = "herald.restart.previous_log"
)

// kind is how the semantic conventions name objects of one Kubernetes kind: k8s.<prefix>.name,
// and k8s.<prefix>.uid where they define it.
type kind struct {
	prefix string
	uid    bool
	// groups are the API groups the kind belongs to ("" is the core group): a custom resource
	// of the same kind in another group is not the semantic conventions' object.
	groups []string
}

// kinds are the kinds the semantic conventions name.
var kinds = map[string]kind{
	"Pod":                     {"pod", true, []string{""}},
	"Node":                    {"node", true, []string{""}},
	"Namespace":               {"namespace", false, []string{""}},
	"ReplicationController":   {"replicationcontroller", true, []string{""}},
	"ResourceQuota":           {"resourcequota", true, []string{""}},
	"Deployment":              {"deployment", true, []string{"apps", "extensions"}},
	"ReplicaSet":              {"replicaset", true, []string{"apps", "extensions"}},
	"StatefulSet":             {"statefulset", true, []string{"apps"}},
	"DaemonSet":               {"daemonset", true, []string{"apps", "extensions"}},
	"Job":                     {"job", true, []string{"batch"}},
	"CronJob":                 {"cronjob", true, []string{"batch"}},
	"HorizontalPodAutoscaler": {"hpa", true, []string{"autoscaling"}},
}

// semconvKind returns how the semantic conventions name an object of kind in apiVersion; false
// when they do not. An empty apiVersion (some writers leave it out) is taken as the kind's own.
func semconvKind(kindName, apiVersion string) (kind, bool) {
	k, ok := kinds[kindName]
	if !ok {
		return kind{}, false
	}
	if apiVersion == "" {
		return k, true
	}
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = "" // "v1": the core group
	}
	for _, g := range k.groups {
		if g == group {
			return k, true
		}
	}
	return kind{}, false
}

// Severity is the log record's severity for an event type: Normal is INFO, Warning is WARN (as
// the Collector's k8seventsreceiver maps them), any other type is unspecified; the text is the
// type as the event gives it.
func Severity(eventType string) logspb.SeverityNumber {
	switch eventType {
	case corev1.EventTypeNormal:
		return logspb.SeverityNumber_SEVERITY_NUMBER_INFO
	case corev1.EventTypeWarning:
		return logspb.SeverityNumber_SEVERITY_NUMBER_WARN
	}
	return logspb.SeverityNumber_SEVERITY_NUMBER_UNSPECIFIED
}

// typicalAttrs is how many attributes an event's record usually has (16 for a pod's event
// from a kubelet); the batch's slices are sized for it, and a record with more allocates the
// rest one by one.
const typicalAttrs = 18

// recordBuilder makes log records with few allocations: the attributes of a batch come from
// slices allocated once per batch.
type recordBuilder struct {
	kvs  []commonpb.KeyValue
	vals []commonpb.AnyValue
	strs []commonpb.AnyValue_StringValue
	ints []commonpb.AnyValue_IntValue
}

func newRecordBuilder(n int) *recordBuilder {
	return &recordBuilder{
		kvs:  make([]commonpb.KeyValue, 0, n*typicalAttrs),
		vals: make([]commonpb.AnyValue, 0, n*(typicalAttrs+1)),
		strs: make([]commonpb.AnyValue_StringValue, 0, n*(typicalAttrs+1)),
		ints: make([]commonpb.AnyValue_IntValue, 0, n*2),
	}
}

// str returns a string value from the batch's slices, or allocated once they are used up.
func (b *recordBuilder) str(s string) *commonpb.AnyValue {
	if len(b.strs) == cap(b.strs) || len(b.vals) == cap(b.vals) {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	b.strs = append(b.strs, commonpb.AnyValue_StringValue{StringValue: s})
	b.vals = append(b.vals, commonpb.AnyValue{})
	v := &b.vals[len(b.vals)-1]
	v.Value = &b.strs[len(b.strs)-1]
	return v
}

func (b *recordBuilder) int(n int64) *commonpb.AnyValue {
	if len(b.ints) == cap(b.ints) || len(b.vals) == cap(b.vals) {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}
	}
	b.ints = append(b.ints, commonpb.AnyValue_IntValue{IntValue: n})
	b.vals = append(b.vals, commonpb.AnyValue{})
	v := &b.vals[len(b.vals)-1]
	v.Value = &b.ints[len(b.ints)-1]
	return v
}

// attrs collects one record's attributes.
type attrs struct {
	b   *recordBuilder
	out []*commonpb.KeyValue
}

func (a *attrs) add(key string, v *commonpb.AnyValue) {
	for _, kv := range a.out {
		if kv.Key == key {
			return // the first value given wins (an object's own name over a source's)
		}
	}
	if len(a.b.kvs) == cap(a.b.kvs) {
		a.out = append(a.out, &commonpb.KeyValue{Key: key, Value: v})
		return
	}
	a.b.kvs = append(a.b.kvs, commonpb.KeyValue{Key: key, Value: v})
	a.out = append(a.out, &a.b.kvs[len(a.b.kvs)-1])
}

// str adds a string attribute unless it is empty: the OpenTelemetry conventions leave out what
// is unknown rather than send "".
func (a *attrs) str(key, value string) {
	if value != "" {
		a.add(key, a.b.str(value))
	}
}

func (a *attrs) int(key string, n int64) { a.add(key, a.b.int(n)) }

// object adds the semantic conventions' name (and uid) attributes of an object.
func (a *attrs) object(kindName, apiVersion, name, uid string) {
	k, ok := semconvKind(kindName, apiVersion)
	if !ok || name == "" {
		return
	}
	a.str("k8s."+k.prefix+".name", name)
	if k.uid {
		a.str("k8s."+k.prefix+".uid", uid)
	}
}

// Record returns the log record for e: its time is when the event last happened, its observed
// time when herald saw it, its body is body (the message, or the rendered template).
func (b *recordBuilder) Record(e *core.Event, body string, now time.Time) *logspb.LogRecord {
	a := attrs{b: b, out: make([]*commonpb.KeyValue, 0, 20)}
	o := e.InvolvedObject

	a.str(AttrReason, e.Reason)
	a.str(AttrName, e.Name)
	a.str(AttrUID, string(e.UID))
	if n := count(e.Event); n > 0 {
		a.int(AttrCount, int64(n))
	}
	a.str(AttrAction, e.Action)
	if t := startTime(e.Event); !t.IsZero() {
		a.str(AttrStartTime, t.UTC().Format(time.RFC3339Nano))
	}
	controller := e.ReportingController
	if controller == "" {
		controller = e.Source.Component
	}
	a.str(AttrReportingController, controller)
	a.str(AttrReportingInstance, e.ReportingInstance)

	// The object the event is about: the semantic conventions' names for its kind (a Node's
	// name is k8s.node.name, a Namespace's k8s.namespace.name), then its namespace.
	a.object(o.Kind, o.APIVersion, o.Name, string(o.UID))
	a.str(AttrNamespace, o.Namespace)
	a.str(AttrContainer, containerName(o.FieldPath))
	// The node the event was reported from: the kubelet's host.
	a.str(AttrNode, e.Source.Host)
	if e.ReportingController == "kubelet" {
		a.str(AttrNode, e.ReportingInstance) // events.k8s.io/v1: the kubelet reports its node
	}
	a.str(AttrObjectKind, o.Kind)
	a.str(AttrObjectName, o.Name)
	a.str(AttrObjectUID, string(o.UID))
	a.str(AttrObjectAPIVersion, o.APIVersion)
	a.str(AttrObjectFieldPath, o.FieldPath)

	if r := e.Restart; r != nil {
		a.str(AttrContainer, r.Container)
		a.int(AttrRestartCount, int64(r.RestartCount))
		a.str(AttrNode, r.Node)
		a.object(r.OwnerKind, "", r.OwnerName, "")
		if ls := r.LastState; ls != nil {
			a.str(AttrLastTerminated, ls.Reason)
			a.int(AttrExitCode, int64(ls.ExitCode))
		}
		a.str(AttrPreviousLog, r.PreviousLog)
	}

	observed := e.Observed
	if observed.IsZero() {
		observed = now
	}
	return &logspb.LogRecord{
		TimeUnixNano:         unixNano(e.LastSeen(now)),
		ObservedTimeUnixNano: unixNano(observed),
		SeverityNumber:       Severity(e.Type),
		SeverityText:         e.Type,
		EventName:            EventName,
		Body:                 b.str(body),
		Attributes:           a.out,
	}
}

// count is how often the event happened: the series count for a repeated events.k8s.io/v1
// event, else count.
func count(ev *corev1.Event) int32 {
	n := ev.Count
	if ev.Series != nil && ev.Series.Count > n {
		n = ev.Series.Count
	}
	return n
}

// startTime is when the event first happened: firstTimestamp, else eventTime (the first
// occurrence of an events.k8s.io/v1 event).
func startTime(ev *corev1.Event) time.Time {
	if !ev.FirstTimestamp.IsZero() {
		return ev.FirstTimestamp.Time
	}
	return ev.EventTime.Time
}

// containerName reads the container from an involved object's fieldPath:
// spec.containers{app}, spec.initContainers{init}, spec.ephemeralContainers{debug}.
func containerName(fieldPath string) string {
	for _, p := range []string{"spec.containers{", "spec.initContainers{", "spec.ephemeralContainers{"} {
		if rest, ok := strings.CutPrefix(fieldPath, p); ok {
			if name, _, ok := strings.Cut(rest, "}"); ok {
				return name
			}
		}
	}
	return ""
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() || t.UnixNano() < 0 {
		return 0
	}
	return uint64(t.UnixNano())
}
