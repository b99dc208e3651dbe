// Package api holds the shapes of herald's team routes, group herald.dev, version v1alpha1: a
// Receiver (where to deliver: a herald sink URI, its Secret and template) and a Route (which
// events, to which Receivers, with what added). The same shapes come from the CRDs (one object
// per resource) and from --config files (a list of them), so a team's YAML works in both.
package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group and Version of the resources.
const (
	Group   = "herald.dev"
	Version = "v1alpha1"
	// APIVersion is what a Receiver or Route's apiVersion field holds.
	APIVersion = Group + "/" + Version
)

// Receiver is where a team's events go: one herald sink with its own queue, retries, metrics
// and checkpoint position.
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ReceiverSpec `json:"spec"`
	Status            Status       `json:"status,omitempty"`
}

// ReceiverSpec says where to deliver.
type ReceiverSpec struct {
	// Sink is a herald sink URI, any scheme, with its parameters (not filters: those belong on
	// a Route). ${KEY} is replaced by the value of KEY in SecretRef's Secret, escaped for the
	// place it stands in.
	Sink string `json:"sink"`
	// SecretRef names a Secret in the Receiver's own namespace.
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// Template is an inline body template (the sink's body_template).
	Template string `json:"template,omitempty"`
	// TemplateRef names a ConfigMap in the Receiver's own namespace holding the body template
	// (the sink's custom_body_configmap).
	TemplateRef *LocalObjectReference `json:"templateRef,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// Route says which events go to which Receivers.
type Route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RouteSpec `json:"spec"`
	Status            Status    `json:"status,omitempty"`
}

// RouteSpec selects events and names the Receivers (in the Route's namespace) they go to.
// Every selector given must match; an empty RouteSpec selects every Warning event about
// objects in the Route's namespace.
type RouteSpec struct {
	Receivers []string `json:"receivers"`
	// Level is the lowest event type delivered: Warning (default) or Normal.
	Level string `json:"level,omitempty"`
	// Kinds of the involved object (exact).
	Kinds []string `json:"kinds,omitempty"`
	// Reasons and ExcludeReasons are regexps (unanchored) on the event's reason.
	Reasons        []string `json:"reasons,omitempty"`
	ExcludeReasons []string `json:"excludeReasons,omitempty"`
	// Message is a regexp (unanchored) on the event's message.
	Message string `json:"message,omitempty"`
	// ObjectSelector is a label selector on the involved object's labels.
	ObjectSelector *metav1.LabelSelector `json:"objectSelector,omitempty"`
	// EventSources are the involved objects: kind and name, "*" for any name (as Flux's Alert).
	EventSources []EventSource `json:"eventSources,omitempty"`
	// Namespaces (exact names or /regexp/) is honoured only for Routes in herald's own
	// namespace; other Routes see only their own namespace.
	Namespaces []string `json:"namespaces,omitempty"`
	// Summary and Metadata are added to every message (as Flux's summary and eventMetadata).
	Summary  string            `json:"summary,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Noise control: see docs/routes.md.
	GroupBy        []string         `json:"groupBy,omitempty"`
	GroupWait      *metav1.Duration `json:"groupWait,omitempty"`
	GroupInterval  *metav1.Duration `json:"groupInterval,omitempty"`
	RepeatInterval *metav1.Duration `json:"repeatInterval,omitempty"`
	MinCount       int32            `json:"minCount,omitempty"`
}

// EventSource is an involved object: Kind, and Name or "*".
type EventSource struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
}

// Status is what herald reports on a Receiver or Route.
type Status struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
	// Delivered, Failed and Dropped count events for this object since herald started.
	Delivered int64 `json:"delivered,omitempty"`
	Failed    int64 `json:"failed,omitempty"`
	Dropped   int64 `json:"dropped,omitempty"`
}

// ConditionReady is the condition type herald sets: True when the object works.
const ConditionReady = "Ready"
