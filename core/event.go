// Package core holds what every part of herald shares: the Event that flows from sources to
// sinks, the Sink contract, and the Pipeline that filters, queues, batches and retries.
package core

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Event is one Kubernetes event as herald passes it on. Templates see the embedded v1.Event's
// fields exactly as kube-eventer templates do (.Reason, .InvolvedObject.Name, .LastTimestamp).
//
// Events are shared between sinks and are read-only once a source has emitted them: a sink
// never mutates an Event it is given.
type Event struct {
	*corev1.Event
	// Cluster is --cluster-name, for multi-cluster setups.
	Cluster string
	// Restart is set by sources/podrestart; nil for plain events.
	Restart *PodRestart
	// Observed is when herald's source saw this delivery of the event (for latency metrics).
	Observed time.Time
	// Position is the source's position for checkpoints (the event's etcd resourceVersion as a
	// number); 0 means the event is not tracked (Pipeline.Watermark ignores it).
	Position uint64
	// Route is set on the copy of an event a team Route sends to one of its Receivers: which
	// Route selected it, and what that Route adds (.Route.Summary, .Route.Metadata in
	// templates). Empty for events to --sink sinks, so a template reading it renders there too.
	Route RouteNote
	// Folded is how many further events noise control folded into this delivery (its group's
	// other events, or the repeats since it was last sent); 0 for an event sent as it came.
	Folded int
	// members are the events a group's message stands for (noise control): held until it
	// leaves the sink. Nil otherwise.
	members []*Event
}

// RouteNote is what a team Route adds to the events it sends to a Receiver (as Flux's
// summary and eventMetadata).
type RouteNote struct {
	Namespace, Name string
	Summary         string
	Metadata        map[string]string
}

// Key identifies the object an event is about, "namespace/kind/name"; sinks that need per-object
// ordering (Kafka partitions) use it.
func (e *Event) Key() string {
	o := e.InvolvedObject
	return o.Namespace + "/" + o.Kind + "/" + o.Name
}

// PodRestart is the enrichment sources/podrestart attaches to a ContainerRestarted event.
type PodRestart struct {
	// Cluster is --cluster-name.
	Cluster   string
	Namespace string
	Pod       string
	Container string
	// ContainerKind is "regular", "init" or "ephemeral".
	ContainerKind string
	Node          string
	OwnerKind     string
	OwnerName     string
	RestartCount  int32
	// Folded is how many further restarts of this container were throttled into this report.
	Folded int
	// LastState is the container's last termination state.
	LastState *corev1.ContainerStateTerminated
	// PreviousLog and CurrentLog are tails of the previous and current container's logs;
	// LogNote explains when a log could not be fetched.
	PreviousLog string
	CurrentLog  string
	LogNote     string
	// RecentEvents are the pod's recent events, newest last.
	RecentEvents []*corev1.Event
}
