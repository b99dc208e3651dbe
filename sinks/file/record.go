package file

import (
	"bytes"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// Schema names the layout of a line without a template: the kafka sink's herald.event/v1
// record, field for field (a test holds the two together), so one consumer reads both.
const Schema = "herald.event/v1"

// Record is one line without a template: the core/v1 Event as the API server serves it (less
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

// appendRecord appends e as a herald.event/v1 record and a newline to buf. The event is copied,
// never mutated. encoding/json escapes every control character, so the record is one line.
func appendRecord(buf *bytes.Buffer, e *core.Event, now time.Time) error {
	r := Record{Schema: Schema, Cluster: e.Cluster, Event: *e.Event}
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
	// json.Encoder writes the record and a newline; it escapes <, > and & as json.Marshal does,
	// so a line is byte for byte the kafka sink's record value.
	return json.NewEncoder(buf).Encode(&r)
}
