package kubernetes

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// logEvery limits one kind of log line to one per interval and counts the lines it held back,
// so a failure that repeats every few seconds yields a line a minute, not a flood.
type logEvery struct {
	clock    clock.PassiveClock
	interval time.Duration

	mu     sync.Mutex
	logged bool
	last   time.Time
	held   int
}

func newLogEvery(c clock.PassiveClock, interval time.Duration) *logEvery {
	return &logEvery{clock: c, interval: interval}
}

// allow reports whether to log now and, if so, how many lines were held back before it.
func (l *logEvery) allow() (ok bool, held int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if l.logged && now.Sub(l.last) < l.interval {
		l.held++
		return false, 0
	}
	held = l.held
	l.logged, l.last, l.held = true, now, 0
	return true, held
}

// reset makes the next line log at once (a new episode begins).
func (l *logEvery) reset() {
	l.mu.Lock()
	l.logged, l.held = false, 0
	l.mu.Unlock()
}
