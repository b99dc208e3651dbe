package mysql

import (
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// row is one event's values, in the order of the table's columns (tableInfo.idx).
type row struct {
	event *core.Event
	args  []any
	size  int // estimated bytes in the statement, escaped
}

// makeRow renders e for the table info describes. With textTimes (kube-eventer's varchar time
// columns) the times are written as kube-eventer wrote them: Go's time format in herald's time
// zone (--timezone, as kube-eventer's local time), "2026-11-23 18:53:15 +0000 UTC"; otherwise
// as UTC DATETIMEs, NULL when unknown. Text that is not valid UTF-8 gets U+FFFD, a character a
// 3-byte utf8 column cannot hold gets U+FFFD, and text longer than its column is cut to fit,
// ending in "...", instead of making the server refuse the row.
func makeRow(e *core.Event, info *tableInfo, loc *time.Location, now time.Time) row {
	var first, last any
	if info.textTimes {
		first = e.FirstTimestamp.Time.In(loc).String()
		last = e.LastSeen(now).In(loc).String()
	} else {
		if t := firstTime(e.Event); !t.IsZero() {
			first = t.UTC().Truncate(time.Second)
		}
		last = e.LastSeen(now).UTC().Truncate(time.Second)
	}
	o := e.InvolvedObject
	all := []any{
		e.Cluster,
		o.Namespace,
		o.Kind,
		o.Name,
		string(o.UID),
		string(e.UID),
		count(e),
		e.Type,
		e.Reason,
		e.Message,
		e.Source.Host,
		first,
		last,
	}
	args := make([]any, len(info.idx))
	size := 64
	for i, ci := range info.idx {
		a := all[ci]
		if s, ok := a.(string); ok {
			s = fit(text(s), info.limits[ci])
			size += 2*len(s) + 3
			a = s
		} else {
			size += 24
		}
		args[i] = a
	}
	return row{event: e, args: args, size: size}
}

// fit makes s storable in a column with limit l.
func fit(s string, l limit) string {
	if l.bmp {
		s = strings.Map(func(r rune) rune {
			if r > 0xFFFF {
				return '\uFFFD'
			}
			return r
		}, s)
	}
	const ellipsis = "..."
	if l.chars > 0 && utf8.RuneCountInString(s) > l.chars {
		keep := l.chars - len(ellipsis)
		if keep < 0 {
			keep = 0
		}
		cut := 0
		for i := range s {
			if keep == 0 {
				cut = i
				break
			}
			keep--
		}
		s = s[:cut] + ellipsis
	}
	if l.bytes > 0 && len(s) > l.bytes {
		max := l.bytes - len(ellipsis)
		for max > 0 && !utf8.RuneStart(s[max]) {
			max--
		}
		s = s[:max] + ellipsis
	}
	return s
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
