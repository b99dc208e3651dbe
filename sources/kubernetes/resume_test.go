package kubernetes

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

func newResumeStore(got *collector, since *Since, ttl time.Duration) (*store, *Metrics) {
	m := NewMetrics(nil)
	return newStore(storeOptions{cluster: "c", emit: got.emit, clock: clocktesting.NewFakeClock(t0), metrics: m, since: since, ttl: ttl}), m
}

// eventAt is event n with resourceVersion rv, created (and last seen) at t0+created.
func eventAt(n int, rv uint64, created time.Duration) *corev1.Event {
	ev := podEvent(n, "default", fmt.Sprintf("web-%d", n), "BackOff", 1, created)
	ev.ResourceVersion = fmt.Sprint(rv)
	ev.CreationTimestamp = metav1.NewTime(t0.Add(created))
	return ev
}

func positions(events []*core.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.Position)
	}
	return out
}

// Resuming, the initial list delivers what was written after the checkpoint, in write order,
// and records the rest; each delivery carries its resourceVersion as its position.
func TestResumeDeliversWhatWasWrittenAfterTheCheckpoint(t *testing.T) {
	got := &collector{}
	s, m := newResumeStore(got, &Since{ResourceVersion: 100, Time: t0.Add(-time.Minute)}, 0)
	list := []any{eventAt(1, 90, -10*time.Minute), eventAt(2, 120, -5*time.Second), eventAt(3, 100, -2*time.Minute), eventAt(4, 110, -time.Second)}
	if err := s.Replace(list, "125"); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{110, 120}; !slices.Equal(positions(got.all()), want) {
		t.Errorf("delivered positions %v, want %v (after 100, in resourceVersion order)", positions(got.all()), want)
	}
	if s.Position() != 125 {
		t.Errorf("Position = %d, want the list's 125", s.Position())
	}
	if counter(m.initial) != 2 || counter(m.gaps) != 0 {
		t.Errorf("initial %d, gaps %d; want 2, 0", counter(m.initial), counter(m.gaps))
	}
	// Watch notifications and bookmarks move the position forward, never back.
	_ = s.Add(eventAt(5, 130, 0))
	s.UpdateResourceVersion("130")
	s.UpdateResourceVersion("128")
	s.UpdateResourceVersion("not-a-number")
	if s.Position() != 130 {
		t.Errorf("Position = %d, want 130", s.Position())
	}
	// A relist is compared with what the store knows, not with the spent checkpoint.
	_ = s.Replace(append(list, eventAt(5, 130, 0)), "140")
	if n := len(got.all()); n != 3 {
		t.Errorf("%d deliveries after an unchanged relist, want 3", n)
	}
}

// Without a checkpoint nothing present at start is delivered, and the position is the list's.
func TestNoCheckpointNoReplay(t *testing.T) {
	got := &collector{}
	s, _ := newResumeStore(got, nil, 0)
	if s.Position() != 0 {
		t.Errorf("Position before the list = %d, want 0", s.Position())
	}
	_ = s.Replace([]any{eventAt(1, 90, 0), eventAt(2, 120, 0)}, "125")
	if n := len(got.all()); n != 0 || s.Position() != 125 {
		t.Errorf("delivered %d, position %d; want 0, 125", n, s.Position())
	}
}

// Down longer than the events' TTL: the expired window is a counted gap, from the checkpoint to
// the oldest event still listed (or to now-TTL when that is earlier).
func TestResumeReportsTheExpiredWindowAsAGap(t *testing.T) {
	cases := []struct {
		name    string
		since   time.Time
		oldest  time.Duration
		wantGap time.Duration
	}{
		{"down 3h, oldest listed 90m ago", t0.Add(-3 * time.Hour), -90 * time.Minute, 90 * time.Minute},
		{"down 3h, nothing older than the TTL", t0.Add(-3 * time.Hour), -10 * time.Minute, 2 * time.Hour},
		{"down 50m", t0.Add(-50 * time.Minute), -10 * time.Minute, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := &collector{}
			s, m := newResumeStore(got, &Since{ResourceVersion: 100, Time: c.since}, time.Hour)
			_ = s.Replace([]any{eventAt(1, 150, c.oldest), eventAt(2, 160, -time.Minute)}, "170")
			wantN := 0
			if c.wantGap > 0 {
				wantN = 1
			}
			if counter(m.gaps) != wantN || testutil.ToFloat64(m.gapSeconds) != c.wantGap.Seconds() {
				t.Errorf("gaps %d, gap seconds %v; want %d, %v", counter(m.gaps), testutil.ToFloat64(m.gapSeconds), wantN, c.wantGap.Seconds())
			}
			if n := len(got.all()); n != 2 {
				t.Errorf("delivered %d, want both events still listed", n)
			}
		})
	}
}

// A checkpoint ahead of the API server's resourceVersion belongs to another etcd: it is ignored
// (counted as a gap) and nothing is replayed.
func TestCheckpointFromAnotherStoreIsIgnored(t *testing.T) {
	got := &collector{}
	s, m := newResumeStore(got, &Since{ResourceVersion: 5000, Time: t0}, 0)
	ignored := 0
	s.sinceIgnored = func() { ignored++ }
	_ = s.Replace([]any{eventAt(1, 90, 0), eventAt(2, 120, 0)}, "125")
	if n := len(got.all()); n != 0 || counter(m.gaps) != 1 || counter(m.initial) != 2 {
		t.Errorf("delivered %d, gaps %d, initial %d; want 0, 1, 2", n, counter(m.gaps), counter(m.initial))
	}
	// The pipeline is told, so it stops skipping at or below the foreign positions: later
	// events of the new store (resourceVersion 126, under 5000) must be delivered.
	if ignored != 1 {
		t.Errorf("SinceIgnored called %d times, want 1", ignored)
	}
}

// A resume hands its backlog over through EmitWait, one event at a time in resourceVersion
// order, and the position follows each one: herald stopping in the middle keeps the position at
// the last event handed over, so the next run resumes after it, not from the start and not past
// what was never handed over.
func TestResumeWaitsAndKeepsItsPositionWhenStopped(t *testing.T) {
	var handed []uint64
	var positionsSeen []uint64
	var s *store
	s = newStore(storeOptions{cluster: "c", emit: func(*core.Event) { t.Error("a catch-up used the non-blocking Emit") },
		emitWait: func(e *core.Event) bool {
			positionsSeen = append(positionsSeen, s.Position())
			if len(handed) == 3 {
				return false // stopping
			}
			handed = append(handed, e.Position)
			return true
		},
		clock: clocktesting.NewFakeClock(t0), metrics: NewMetrics(nil), since: &Since{ResourceVersion: 100, Time: t0}})
	var list []any
	for i := range 6 {
		list = append(list, eventAt(i, uint64(110-i), -time.Second)) // 110, 109, ... 105
	}
	list = append(list, eventAt(9, 90, -time.Hour))
	if err := s.Replace(list, "200"); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{105, 106, 107}; !slices.Equal(handed, want) {
		t.Errorf("handed over %v, want %v", handed, want)
	}
	// Before each hand-over the position is the checkpoint, then the event before it.
	if want := []uint64{100, 105, 106, 107}; !slices.Equal(positionsSeen, want) {
		t.Errorf("positions while handing over %v, want %v", positionsSeen, want)
	}
	if s.Position() != 107 {
		t.Errorf("Position after stopping = %d, want 107 (the last event handed over), not the list's 200", s.Position())
	}
}
