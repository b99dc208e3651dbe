package template

import (
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
)

// view is the event as one render sees it: the shared event, and the two values a render
// resolves before any template runs, .LastTimestamp (lastTimestamp, else eventTime, else now)
// and, for a kube-eventer template, .Message without its double quotes. The text/template path
// builds a shallow copy of the event holding them; a plan reads them here instead.
type view struct {
	e       *core.Event
	last    time.Time
	message string
}

// newView resolves what a render of e sees (see Body.execute, which does the same on a copy).
func (b *Body) newView(e *core.Event) view {
	v := view{e: e, last: e.LastTimestamp.Time, message: e.Message}
	if e.LastTimestamp.IsZero() {
		v.last = b.o.Now()
		if !e.EventTime.IsZero() {
			v.last = e.EventTime.Time
		}
	}
	if b.o.KubeEventer && strings.Contains(e.Message, `"`) {
		v.message = strings.ReplaceAll(e.Message, `"`, "")
	}
	return v
}

// kind is the Go kind of a value a plan handles; it decides how the value prints.
type kind uint8

const (
	kindString kind = iota // string, types.UID: printed as is
	kindInt                // int32, int64: printed in decimal
	kindUint               // uint64: printed in decimal
	kindTime               // metav1.Time, metav1.MicroTime, time.Time: printed by time.Time.String
)

// field reads one field of the event without reflection. Exactly one getter, the one for its
// kind, is set; box gives the value with the Go type text/template hands a function (toJson
// encodes a metav1.Time differently from a time.Time), and is nil for a plain string.
type field struct {
	kind kind
	str  func(*view) string
	num  func(*view) int64
	unum func(*view) uint64
	tm   func(*view) time.Time
	box  func(*view) any
}

func (f *field) get(v *view) value {
	switch f.kind {
	case kindString:
		return value{kind: kindString, s: f.str(v), from: f}
	case kindInt:
		return value{kind: kindInt, i: f.num(v), from: f}
	case kindUint:
		return value{kind: kindUint, u: f.unum(v), from: f}
	}
	return value{kind: kindTime, t: f.tm(v), from: f}
}

func strField(get func(*view) string) *field { return &field{kind: kindString, str: get} }

func uidField(get func(*view) types.UID) *field {
	return &field{kind: kindString, str: func(v *view) string { return string(get(v)) }, box: func(v *view) any { return get(v) }}
}

func int32Field(get func(*view) int32) *field {
	return &field{kind: kindInt, num: func(v *view) int64 { return int64(get(v)) }, box: func(v *view) any { return get(v) }}
}

func int64Field(get func(*view) int64) *field {
	return &field{kind: kindInt, num: get, box: func(v *view) any { return get(v) }}
}

func metaTimeField(get func(*view) metav1.Time) *field {
	return &field{kind: kindTime, tm: func(v *view) time.Time { return get(v).Time }, box: func(v *view) any { return get(v) }}
}

// eventFields are the event's fields a plan reads, by the path a template names them with
// ("InvolvedObject.Kind" for {{ .InvolvedObject.Kind }}): every field of a string, integer or
// time type that text/template reaches from a *core.Event without following a pointer that may
// be nil, with the aliases through the embedded structs (.Event.Reason, .ObjectMeta.Name,
// .TypeMeta.Kind). A template naming anything else renders with text/template.
// TestFieldsMatchTextTemplate renders every path both ways.
var eventFields = func() map[string]*field {
	ev := func(v *view) *corev1.Event { return v.e.Event }
	event := map[string]*field{ // fields of corev1.Event, but its metadata
		"Reason":              strField(func(v *view) string { return ev(v).Reason }),
		"Message":             strField(func(v *view) string { return v.message }),
		"Type":                strField(func(v *view) string { return ev(v).Type }),
		"Action":              strField(func(v *view) string { return ev(v).Action }),
		"ReportingController": strField(func(v *view) string { return ev(v).ReportingController }),
		"ReportingInstance":   strField(func(v *view) string { return ev(v).ReportingInstance }),
		"Count":               int32Field(func(v *view) int32 { return ev(v).Count }),
		"FirstTimestamp":      metaTimeField(func(v *view) metav1.Time { return ev(v).FirstTimestamp }),
		"LastTimestamp":       metaTimeField(func(v *view) metav1.Time { return metav1.Time{Time: v.last} }),
		"EventTime": {kind: kindTime, tm: func(v *view) time.Time { return ev(v).EventTime.Time },
			box: func(v *view) any { return ev(v).EventTime }},
		"Source.Component":               strField(func(v *view) string { return ev(v).Source.Component }),
		"Source.Host":                    strField(func(v *view) string { return ev(v).Source.Host }),
		"InvolvedObject.Kind":            strField(func(v *view) string { return ev(v).InvolvedObject.Kind }),
		"InvolvedObject.Namespace":       strField(func(v *view) string { return ev(v).InvolvedObject.Namespace }),
		"InvolvedObject.Name":            strField(func(v *view) string { return ev(v).InvolvedObject.Name }),
		"InvolvedObject.UID":             uidField(func(v *view) types.UID { return ev(v).InvolvedObject.UID }),
		"InvolvedObject.APIVersion":      strField(func(v *view) string { return ev(v).InvolvedObject.APIVersion }),
		"InvolvedObject.ResourceVersion": strField(func(v *view) string { return ev(v).InvolvedObject.ResourceVersion }),
		"InvolvedObject.FieldPath":       strField(func(v *view) string { return ev(v).InvolvedObject.FieldPath }),
	}
	typeMeta := map[string]*field{
		"Kind":       strField(func(v *view) string { return ev(v).Kind }),
		"APIVersion": strField(func(v *view) string { return ev(v).APIVersion }),
	}
	objectMeta := map[string]*field{
		"Name":              strField(func(v *view) string { return ev(v).Name }),
		"GenerateName":      strField(func(v *view) string { return ev(v).GenerateName }),
		"Namespace":         strField(func(v *view) string { return ev(v).Namespace }),
		"SelfLink":          strField(func(v *view) string { return ev(v).SelfLink }),
		"UID":               uidField(func(v *view) types.UID { return ev(v).UID }),
		"ResourceVersion":   strField(func(v *view) string { return ev(v).ResourceVersion }),
		"Generation":        int64Field(func(v *view) int64 { return ev(v).Generation }),
		"CreationTimestamp": metaTimeField(func(v *view) metav1.Time { return ev(v).CreationTimestamp }),
	}
	out := map[string]*field{
		// core.Event's own fields and its method Key.
		"Cluster": strField(func(v *view) string { return v.e.Cluster }),
		"Key":     strField(func(v *view) string { return v.e.Key() }),
		"Observed": {kind: kindTime, tm: func(v *view) time.Time { return v.e.Observed },
			box: func(v *view) any { return v.e.Observed }},
		"Position": {kind: kindUint, unum: func(v *view) uint64 { return v.e.Position },
			box: func(v *view) any { return v.e.Position }},
	}
	for _, prefix := range []string{"", "Event."} {
		for path, f := range event {
			out[prefix+path] = f
		}
		for path, f := range typeMeta {
			out[prefix+path] = f
			out[prefix+"TypeMeta."+path] = f
		}
		for path, f := range objectMeta {
			out[prefix+path] = f
			out[prefix+"ObjectMeta."+path] = f
		}
	}
	return out
}()

// value is what a plan's action computes: a field's value, or a helper's result (a string).
type value struct {
	kind kind
	s    string
	i    int64
	u    uint64
	t    time.Time
	// from is the field the value was read from, unchanged; nil for a helper's result.
	from *field
}

// boxed returns the value as text/template would hand it to a function.
func (val value) boxed(v *view) any {
	if val.from != nil && val.from.box != nil {
		return val.from.box(v)
	}
	return val.s // a string field, or a helper's result: helpers return strings
}

// text returns the value as {{ }} prints it.
func (val value) text() string {
	switch val.kind {
	case kindString:
		return val.s
	case kindInt:
		return strconv.FormatInt(val.i, 10)
	case kindUint:
		return strconv.FormatUint(val.u, 10)
	}
	return val.t.String()
}

// appendText appends the value as {{ }} prints it.
func (val value) appendText(dst []byte) []byte {
	switch val.kind {
	case kindString:
		return append(dst, val.s...)
	case kindInt:
		return strconv.AppendInt(dst, val.i, 10)
	case kindUint:
		return strconv.AppendUint(dst, val.u, 10)
	}
	return appendTimeString(dst, val.t)
}

// empty is the default helper's test (isEmpty) on the value: reflect's IsZero, so a time is
// empty only when its struct is zero.
func (val value) empty() bool {
	switch val.kind {
	case kindString:
		return val.s == ""
	case kindInt:
		return val.i == 0
	case kindUint:
		return val.u == 0
	}
	return val.t == time.Time{}
}

// timeLayout is the layout time.Time.String formats with, before a monotonic clock reading.
const timeLayout = "2006-01-02 15:04:05.999999999 -0700 MST"

// appendTimeString appends t.String() without allocating, unless t carries a monotonic clock
// reading (a time from time.Now), which String prints as well.
func appendTimeString(dst []byte, t time.Time) []byte {
	if t != t.Round(0) { // Round(0) strips the monotonic reading and nothing else
		return append(dst, t.String()...)
	}
	return t.AppendFormat(dst, timeLayout)
}
