package podrestart

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// throttle folds repeated restarts of one container: after a report, restarts within the window
// are counted, not reported, and the count goes into the next report.
type throttle struct {
	window time.Duration
	clock  clock.PassiveClock

	mu   sync.Mutex
	pods map[podKey]map[string]*throttleState // by container name
}

type podKey struct{ namespace, pod string }

type throttleState struct {
	reported time.Time
	folded   int
}

func newThrottle(window time.Duration, c clock.PassiveClock) *throttle {
	return &throttle{window: window, clock: c, pods: map[podKey]map[string]*throttleState{}}
}

// admit records n restarts of a pod's container. It returns report=true with the number of
// other restarts folded into this report, or report=false when these restarts were folded.
func (t *throttle) admit(k podKey, container string, n int) (report bool, folded int) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.pods[k]
	if cs == nil {
		cs = map[string]*throttleState{}
		t.pods[k] = cs
	}
	s, ok := cs[container]
	if ok && t.window > 0 && now.Sub(s.reported) < t.window {
		s.folded += n
		return false, 0
	}
	if !ok {
		s = &throttleState{}
		cs[container] = s
	}
	folded = s.folded + n - 1
	s.reported = now
	s.folded = 0
	return true, folded
}

// forgetPod drops a deleted pod's containers.
func (t *throttle) forgetPod(namespace, pod string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pods, podKey{namespace, pod})
}

// size is how many containers are tracked.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, cs := range t.pods {
		n += len(cs)
	}
	return n
}
