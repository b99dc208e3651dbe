// Package eventrecord is herald's own JSON record of an event, herald.event/v1: the kafka sink's
// record value (format=herald) and the file sink's line without a template, so one consumer
// reads both.
package eventrecord

import (
	"bytes"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// Schema names the layout of herald's record value; it changes only with an incompatible change
// (fields are added without changing it). docs/sinks/kafka.md documents every field.
const Schema = "herald.event/v1"

// Record is herald's record value: the core/v1 Event as the API server serves it (less
// metadata.managedFields), plus the schema name, the cluster name and, for a container restart,
// the restart enrichment.
type Record struct {
	Schema  string `json:"schema"`
	Cluster string `json:"cluster"`
	corev1.Event
	Restart *Restart `json:"restart,omitempty"`
}

// Restart is the restart enrichment of a ContainerRestarted event (see sources/podrestart).
type Restart struct {
	Namespace    string                           `json:"namespace"`
	Pod          string                           `json:"pod"`
	Container    string                           `json:"container"`
	Node         string                           `json:"node,omitempty"`
	OwnerKind    string                           `json:"ownerKind,omitempty"`
	OwnerName    string                           `json:"ownerName,omitempty"`
	RestartCount int32                            `json:"restartCount"`
	Folded       int                              `json:"folded,omitempty"`
	LastState    *corev1.ContainerStateTerminated `json:"lastState,omitempty"`
	PreviousLog  string                           `json:"previousLog,omitempty"`
	CurrentLog   string                           `json:"currentLog,omitempty"`
	LogNote      string                           `json:"logNote,omitempty"`
	RecentEvents []RecentEvent                    `json:"recentEvents,omitempty"`
}

// RecentEvent is one of the pod's recent events in a Restart, newest last.
type RecentEvent struct {
	Type          string    `json:"type"`
	Reason        string    `json:"reason"`
	Message       string    `json:"message"`
	Count         int32     `json:"count,omitempty"`
	LastTimestamp time.Time `json:"lastTimestamp"`
}

// New builds e's record. The event is copied, never mutated.
func New(e *core.Event, now time.Time) *Record {
	r := &Record{Schema: Schema, Cluster: e.Cluster, Event: *e.Event}
	r.ManagedFields = nil // the copy's; the shared event keeps its own
	if x := e.Restart; x != nil {
		r.Restart = &Restart{
			Namespace: x.Namespace, Pod: x.Pod, Container: x.Container, Node: x.Node,
			OwnerKind: x.OwnerKind, OwnerName: x.OwnerName, RestartCount: x.RestartCount,
			Folded: x.Folded, LastState: x.LastState,
			PreviousLog: x.PreviousLog, CurrentLog: x.CurrentLog, LogNote: x.LogNote,
		}
		for _, re := range x.RecentEvents {
			if re == nil {
				continue
			}
			r.Restart.RecentEvents = append(r.Restart.RecentEvents, RecentEvent{
				Type: re.Type, Reason: re.Reason, Message: re.Message, Count: re.Count,
				LastTimestamp: (&core.Event{Event: re}).LastSeen(now).UTC(),
			})
		}
	}
	return r
}

// line is the object of Line: the Event's own fields, plus herald's.
type line struct {
	*corev1.Event
	Cluster string           `json:"cluster,omitempty"`
	Restart *core.PodRestart `json:"restart,omitempty"`
}

// Line is an event as one JSON object without a trailing newline: the Kubernetes Event as the
// API server serves it (less metadata.managedFields, which say which controller wrote which
// field, not what happened), plus "cluster" when set and, for a container restart, "restart".
// It is what log:?format=json writes and the loki sink's default line, so a Loki query reads
// the same fields as a log collector picking up herald's JSON log. Unlike Record it names no
// schema. The event is copied, never changed.
func Line(e *core.Event) ([]byte, error) {
	ev := *e.Event
	ev.ManagedFields = nil
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line{Event: &ev, Cluster: e.Cluster, Restart: e.Restart}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
