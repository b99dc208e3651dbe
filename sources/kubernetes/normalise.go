package kubernetes

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxMessageBytes caps an event's message as herald passes it on; longer messages are cut at a
// character boundary and end with a marker saying how long they were.
const MaxMessageBytes = 64 << 10

// normalise returns a copy of in ready to be handed to sinks: managedFields stripped, the message
// capped at MaxMessageBytes, and LastTimestamp set when the API server left it empty (events
// written through events.k8s.io/v1 carry eventTime and series instead), so templates written for
// kube-eventer ({{ .LastTimestamp }}) always print a time. in is not modified; the copy shares
// only maps and slices that nobody mutates.
func normalise(in *corev1.Event, now time.Time) *corev1.Event {
	ev := new(corev1.Event)
	*ev = *in
	ev.ManagedFields = nil
	if ev.LastTimestamp.IsZero() {
		t := core.LastSeen(in)
		if t.IsZero() {
			t = now
		}
		ev.LastTimestamp = metav1.NewTime(t)
	}
	ev.Message = capMessage(ev.Message)
	return ev
}

// capMessage cuts msg to at most MaxMessageBytes, at a UTF-8 character boundary, ending with a
// marker that gives the original length.
func capMessage(msg string) string {
	if len(msg) <= MaxMessageBytes {
		return msg
	}
	marker := fmt.Sprintf(" ...[truncated by herald: message was %d bytes]", len(msg))
	cut := MaxMessageBytes - len(marker)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + marker
}
