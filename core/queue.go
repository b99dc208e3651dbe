package core

import "sync"

// queue is a bounded FIFO of events for one sink. Push never blocks: when the queue is full it
// refuses the event, and the caller counts the drop or waits on space.
type queue struct {
	mu     sync.Mutex
	buf    []*Event // ring buffer
	head   int
	n      int
	notify chan struct{} // signalled (non-blocking) when an event arrives
	space  chan struct{} // signalled (non-blocking) when events leave
}

func newQueue(capacity int) *queue {
	return &queue{buf: make([]*Event, capacity), notify: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// push appends e; it reports false when the queue is full.
func (q *queue) push(e *Event) bool {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.mu.Unlock()
		return false
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// take removes and returns up to max events from the front.
func (q *queue) take(max int) []*Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max, q.n)
	out := make([]*Event, n)
	for i := range n {
		out[i] = q.buf[q.head]
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.n -= n
	if n > 0 {
		q.signalSpace()
	}
	return out
}

// signalSpace wakes one waiter for room (never blocking); a waiter that finds room left after
// its push passes the signal on, so several waiters all get their turn.
func (q *queue) signalSpace() {
	select {
	case q.space <- struct{}{}:
	default:
	}
}

// hasRoom reports whether a push would succeed now.
func (q *queue) hasRoom() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n < len(q.buf)
}

// oldest returns the front event without removing it, or nil.
func (q *queue) oldest() *Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
