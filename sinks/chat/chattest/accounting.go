package chattest

import (
	"testing"
	"time"
)

// Sent is one message a fake robot received in a storm test: the events it names, how many
// more it counts ("... and N more"), and when it arrived.
type Sent struct {
	Named []string
	More  int
	At    time.Time
}

// CheckAccounted fails t unless each of n events is named in at most one message and the names
// plus the counts add up to n, and unless no 60 s window holds more than perMinute messages. It
// returns how many events were named and counted, and the most messages in any minute.
func CheckAccounted(t testing.TB, n, perMinute int, sent []Sent) (named, counted, worst int) {
	t.Helper()
	seen := map[string]int{}
	var at []time.Time
	for _, m := range sent {
		for _, name := range m.Named {
			seen[name]++
		}
		counted += m.More
		at = append(at, m.At)
	}
	for name, c := range seen {
		if c > 1 {
			t.Errorf("%s is named in %d messages", name, c)
		}
	}
	if len(seen)+counted != n {
		t.Errorf("the messages name %d events and count %d more: %d, want %d", len(seen), counted, len(seen)+counted, n)
	}
	worst = MaxInWindow(at, time.Minute)
	if worst > perMinute {
		t.Errorf("%d messages within 60 s, want at most %d", worst, perMinute)
	}
	return len(seen), counted, worst
}
