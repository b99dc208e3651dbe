package core

import (
	"hash/fnv"
	"sync"
)

// queue is a bounded FIFO of events for one sink, split into lanes: each lane is delivered by its
// own worker, in order, and every event about one object goes to the same lane (see laneOf), so
// parallel delivery keeps per-object order. The bound is shared by the lanes: one busy object
// cannot make the queue refuse events while it has room. Push never blocks: when the queue is
// full it refuses the event, and the caller counts the drop or waits on space.
type queue struct {
	mu    sync.Mutex
	cap   int
	n     int // events in every lane
	lanes []lane
	space chan struct{} // signalled (non-blocking) when events leave
}

// lane is one FIFO of the queue: buf[head:] waits, oldest first.
type lane struct {
	buf    []*Event
	head   int
	notify chan struct{} // signalled (non-blocking) when an event arrives in this lane
}

func newQueue(capacity, lanes int) *queue {
	q := &queue{cap: capacity, lanes: make([]lane, max(lanes, 1)), space: make(chan struct{}, 1)}
	for i := range q.lanes {
		q.lanes[i].notify = make(chan struct{}, 1)
	}
	return q
}

// laneOf is the lane of e: a hash of the object it is about, so events about one object stay
// in order.
func (q *queue) laneOf(e *Event) int {
	if len(q.lanes) == 1 || e.Event == nil {
		return 0
	}
	h := fnv.New32a()
	o := &e.InvolvedObject
	h.Write([]byte(o.Namespace))
	h.Write([]byte{0})
	h.Write([]byte(o.Kind))
	h.Write([]byte{0})
	h.Write([]byte(o.Name))
	return int(h.Sum32() % uint32(len(q.lanes)))
}

// push appends e to its lane; it reports false when the queue is full.
func (q *queue) push(e *Event) bool {
	i := q.laneOf(e)
	q.mu.Lock()
	if q.n >= q.cap {
		q.mu.Unlock()
		return false
	}
	l := &q.lanes[i]
	l.buf = append(l.buf, e)
	q.n++
	q.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	return true
}

// take removes and returns up to max events from the front of lane i.
func (q *queue) take(i, max int) []*Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := &q.lanes[i]
	n := min(max, len(l.buf)-l.head)
	out := make([]*Event, n)
	copy(out, l.buf[l.head:l.head+n])
	clear(l.buf[l.head : l.head+n])
	l.head += n
	switch {
	case l.head == len(l.buf):
		// Empty: reuse the array from its start (and let a storm's large one go).
		if cap(l.buf) > 4096 {
			l.buf = nil
		} else {
			l.buf = l.buf[:0]
		}
		l.head = 0
	case l.head >= len(l.buf)-l.head:
		// More taken than waiting: move the rest down, at most as many copies as were taken.
		m := copy(l.buf, l.buf[l.head:])
		clear(l.buf[m:])
		l.buf = l.buf[:m]
		l.head = 0
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
	return q.n < q.cap
}

// oldest returns the front event of lane i without removing it, or nil.
func (q *queue) oldest(i int) *Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := &q.lanes[i]
	if l.head == len(l.buf) {
		return nil
	}
	return l.buf[l.head]
}

// laneLen is the number of events waiting in lane i.
func (q *queue) laneLen(i int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.lanes[i].buf) - q.lanes[i].head
}

// len is the number of events waiting in every lane.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
