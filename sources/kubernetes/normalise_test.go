package kubernetes

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNormaliseFillsLastTimestamp(t *testing.T) {
	now := t0.Add(time.Hour)
	series := t0.Add(-time.Minute)
	eventTime := t0.Add(-2 * time.Minute)
	first := t0.Add(-3 * time.Minute)
	for _, tc := range []struct {
		name string
		set  func(*corev1.Event)
		want time.Time
	}{
		{"lastTimestamp kept", func(e *corev1.Event) { e.LastTimestamp = metav1.NewTime(t0) }, t0},
		{"series.lastObservedTime", func(e *corev1.Event) {
			e.Series = &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(series)}
			e.EventTime = metav1.NewMicroTime(eventTime)
		}, series},
		{"eventTime", func(e *corev1.Event) {
			e.EventTime = metav1.NewMicroTime(eventTime)
			e.FirstTimestamp = metav1.NewTime(first)
		}, eventTime},
		{"firstTimestamp", func(e *corev1.Event) { e.FirstTimestamp = metav1.NewTime(first) }, first},
		{"nothing: now", func(*corev1.Event) {}, now},
	} {
		in := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", UID: uidFor(1)}}
		tc.set(in)
		before := in.DeepCopy()
		out := normalise(in, now)
		if !out.LastTimestamp.Time.Equal(tc.want) {
			t.Errorf("%s: LastTimestamp = %v, want %v", tc.name, out.LastTimestamp.Time, tc.want)
		}
		if in.LastTimestamp != before.LastTimestamp {
			t.Errorf("%s: normalise modified its input", tc.name)
		}
	}
}

// kube-eventer templates print {{ .LastTimestamp }}; the filled-in value must print the same way.
func TestNormalisedLastTimestampPrintsLikeKubeEventer(t *testing.T) {
	in := &corev1.Event{EventTime: metav1.NewMicroTime(time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC))}
	if got, want := normalise(in, t0).LastTimestamp.String(), "2026-11-23 18:53:15 +0000 UTC"; got != want {
		t.Errorf("LastTimestamp prints %q, want %q", got, want)
	}
}

func TestNormaliseStripsManagedFieldsOnTheCopyOnly(t *testing.T) {
	in := podEvent(1, "default", "web-1", "BackOff", 1, 0)
	in.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	out := normalise(in, t0)
	if out.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", out.ManagedFields)
	}
	if len(in.ManagedFields) != 1 {
		t.Errorf("the input lost its managedFields")
	}
	if out == in {
		t.Errorf("normalise returned its input, not a copy")
	}
}

func TestCapMessage(t *testing.T) {
	if got := capMessage("short"); got != "short" {
		t.Errorf("short message changed: %q", got)
	}
	exact := strings.Repeat("a", MaxMessageBytes)
	if got := capMessage(exact); got != exact {
		t.Errorf("a message of exactly MaxMessageBytes was cut")
	}
	// Multi-byte characters straddling the cut: the result stays valid UTF-8.
	for pad := range 4 {
		long := strings.Repeat("a", pad) + strings.Repeat("界", MaxMessageBytes/2)
		got := capMessage(long)
		if len(got) > MaxMessageBytes {
			t.Errorf("pad %d: %d bytes, want at most %d", pad, len(got), MaxMessageBytes)
		}
		if !utf8.ValidString(got) {
			t.Errorf("pad %d: cut inside a character", pad)
		}
		if !strings.HasSuffix(got, "[truncated by herald: message was "+strconv.Itoa(len(long))+" bytes]") {
			t.Errorf("pad %d: no marker with the original length: ...%q", pad, got[len(got)-60:])
		}
		if !strings.HasPrefix(long, strings.TrimSuffix(got, got[strings.LastIndex(got, " ...[truncated"):])) {
			t.Errorf("pad %d: the kept part is not a prefix of the message", pad)
		}
	}
}
