package core

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every sink takes an event's time from LastSeen; the order of the fields decides which time a
// repeat shows.
func TestLastSeen(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(t0.Add(d)) }
	now, observed := t0.Add(time.Hour), t0.Add(30*time.Minute)
	for _, c := range []struct {
		name string
		ev   corev1.Event
		want time.Time
	}{
		{"lastTimestamp first", corev1.Event{LastTimestamp: at(3), Series: &corev1.EventSeries{LastObservedTime: metav1.NewMicroTime(t0.Add(4))}, EventTime: metav1.NewMicroTime(t0.Add(2)), FirstTimestamp: at(1)}, t0.Add(3)},
		{"then the series' last observation", corev1.Event{Series: &corev1.EventSeries{LastObservedTime: metav1.NewMicroTime(t0.Add(4))}, EventTime: metav1.NewMicroTime(t0.Add(2)), FirstTimestamp: at(1)}, t0.Add(4)},
		{"then eventTime", corev1.Event{EventTime: metav1.NewMicroTime(t0.Add(2)), FirstTimestamp: at(1)}, t0.Add(2)},
		{"then firstTimestamp", corev1.Event{FirstTimestamp: at(1)}, t0.Add(1)},
		{"then when herald saw it", corev1.Event{}, observed},
	} {
		e := &Event{Event: &c.ev, Observed: observed}
		if got := e.LastSeen(now); !got.Equal(c.want) {
			t.Errorf("%s: LastSeen = %s, want %s", c.name, got, c.want)
		}
	}
	if got := (&Event{Event: &corev1.Event{}}).LastSeen(now); !got.Equal(now) {
		t.Errorf("an event with no time and not observed: %s, want now %s", got, now)
	}
	if !LastSeen(nil).IsZero() || !LastSeen(&corev1.Event{}).IsZero() {
		t.Error("LastSeen of nothing must be zero")
	}
}
