package core

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// LastSeen is when ev last happened, from the fields the API server fills: lastTimestamp (core/v1
// writers), series.lastObservedTime (a repeated events.k8s.io/v1 event), eventTime (a first
// events.k8s.io/v1 occurrence), firstTimestamp. Zero when none is set.
//
// kube-eventer used lastTimestamp, then eventTime, then now; herald puts series.lastObservedTime
// before eventTime so a repeat of a series shows when it repeated, not when the series began.
func LastSeen(ev *corev1.Event) time.Time {
	switch {
	case ev == nil:
		return time.Time{}
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return time.Time{}
}

// LastSeen is when the event last happened (the package's LastSeen), else when herald observed
// it, else now. Every sink that writes a time uses it, so all of them tell the same time.
func (e *Event) LastSeen(now time.Time) time.Time {
	if t := LastSeen(e.Event); !t.IsZero() {
		return t
	}
	if !e.Observed.IsZero() {
		return e.Observed
	}
	return now
}
