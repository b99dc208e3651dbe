package mysql

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// row is one event's values, in the order of columns.
type row struct {
	event *core.Event
	args  []any
	size  int // estimated bytes in the statement, escaped
}

// makeRow renders e. With textTimes (kube-eventer's varchar time columns) the times are written
// as kube-eventer wrote them (Go's time format, "2026-11-23 18:53:15 +0000 UTC"); otherwise as
// UTC DATETIMEs, NULL when unknown. Text that is not valid UTF-8 gets U+FFFD instead of making
// the server refuse the row.
func makeRow(e *core.Event, textTimes bool, now time.Time) row {
	var first, last any
	if textTimes {
		first = e.FirstTimestamp.Time.UTC().String()
		last = e.LastSeen(now).UTC().String()
	} else {
		if t := firstTime(e.Event); !t.IsZero() {
			first = t.UTC().Truncate(time.Second)
		}
		last = e.LastSeen(now).UTC().Truncate(time.Second)
	}
	o := e.InvolvedObject
	args := []any{
		text(e.Cluster),
		text(o.Namespace),
		text(o.Kind),
		text(o.Name),
		text(string(o.UID)),
		text(string(e.UID)),
		count(e),
		text(e.Type),
		text(e.Reason),
		text(e.Message),
		text(e.Source.Host),
		first,
		last,
	}
	size := 64
	for _, a := range args {
		if s, ok := a.(string); ok {
			size += 2*len(s) + 3
		} else {
			size += 24
		}
	}
	return row{event: e, args: args, size: size}
}

func text(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// count is the event's occurrence count: count, or the series count for events created
// through events.k8s.io (whose core/v1 count may stay 0).
func count(e *core.Event) int32 {
	n := e.Count
	if e.Series != nil && e.Series.Count > n {
		n = e.Series.Count
	}
	return n
}

// firstTime is when the event first happened: firstTimestamp, else eventTime.
func firstTime(e *corev1.Event) time.Time {
	if !e.FirstTimestamp.IsZero() {
		return e.FirstTimestamp.Time
	}
	return e.EventTime.Time
}
