package loki

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/loki/lokitest"
)

// FuzzPushRoundTrip encodes an entry with herald's encoders (protobuf by hand, JSON) and decodes
// it with lokitest's independent decoders (the protobuf runtime from a descriptor of Loki's
// push.proto, the reference snappy, encoding/json): the labels, timestamp, line and structured
// metadata must come back as sent, whatever the event's text holds.
func FuzzPushRoundTrip(f *testing.F) {
	f.Add("BackOff", "shop", `Back-off restarting "app"`, "web-1", int64(1795459995), int32(0))
	f.Add(`say "hi" \ `, "", "line\nbreak\ttab\x00", "容器 🚑", int64(-1), int32(999_999_999))
	f.Add("`", "a\xffb", "", "\u2028", int64(0), int32(1))
	f.Fuzz(func(t *testing.T, reason, namespace, message, name string, sec int64, nanos int32) {
		if nanos < 0 || nanos >= 1e9 || sec < -62135596800 || sec > 253402300799 {
			return
		}
		ts := time.Unix(sec, int64(nanos)).UTC()
		if sec < -9223372036 || sec > 9223372035 {
			return // outside what unix nanoseconds (the JSON form) can hold
		}
		s := &Sink{cfg: &Config{Labels: []Field{FieldReason, FieldNamespace}, Constant: map[string]string{"job": "herald"}, Metadata: []Field{FieldName}}}
		ev := &core.Event{Event: &corev1.Event{Reason: reason, Message: message,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: name}}}
		line, err := s.line(ev)
		if err != nil {
			t.Fatal(err)
		}
		e := &entry{event: ev, labels: s.labels(ev), meta: s.metadata(ev), ts: ts, line: line}
		e.stream = labelSet(e.labels)
		wantLabels := map[string]string{"job": "herald"}
		for _, p := range e.labels {
			wantLabels[p.name] = p.value
		}
		if v := strings.ToValidUTF8(reason, "\uFFFD"); v != "" && wantLabels["reason"] != v {
			t.Fatalf("reason %q became %q", reason, wantLabels["reason"])
		}
		groups := streams([]*entry{e})
		pb, _ := encodeProtobuf(nil, groups)
		js, err := encodeJSON(groups)
		if err != nil {
			t.Fatal(err)
		}
		for ct, body := range map[string][]byte{"application/x-protobuf": pb, "application/json": js} {
			got, err := lokitest.DecodePush(ct, body)
			if err != nil {
				t.Fatalf("%s: %v", ct, err)
			}
			if len(got) != 1 || len(got[0].Entries) != 1 {
				t.Fatalf("%s: %d streams", ct, len(got))
			}
			labels := got[0].Labels
			if labels == nil {
				if labels, err = lokitest.ParseLabels(got[0].Raw); err != nil {
					t.Fatalf("%s: labels %s: %v", ct, got[0].Raw, err)
				}
			}
			if !reflect.DeepEqual(labels, wantLabels) {
				t.Fatalf("%s: labels %v, want %v", ct, labels, wantLabels)
			}
			g := got[0].Entries[0]
			if !g.Time.Equal(ts) || g.Line != line || !utf8.ValidString(g.Line) {
				t.Fatalf("%s: entry %v %q, want %v %q", ct, g.Time, g.Line, ts, line)
			}
			if want := strings.ToValidUTF8(name, "\uFFFD"); want != "" && g.Metadata["name"] != want {
				t.Fatalf("%s: metadata %v, want name=%q", ct, g.Metadata, want)
			}
		}
	})
}
