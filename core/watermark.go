package core

import (
	"container/heap"
	"math"
	"sync"
)

// watermark tracks which positions (Event.Position) have left every sink: delivered, filtered,
// rejected, or dropped and counted. Its Low is the highest position P such that every tracked
// event pushed with a position at or below P has left every sink.
//
// Each tracked event holds one reference per sink that queued it, plus one while Push offers
// it; sinks complete in any order.
type watermark struct {
	mu      sync.Mutex
	refs    map[*Event]int
	pending map[uint64]int // position -> events still held
	order   posHeap        // positions in pending, lazily cleaned
}

func newWatermark() *watermark {
	return &watermark{refs: map[*Event]int{}, pending: map[uint64]int{}}
}

// hold adds n references to e (n ≥ 1).
func (w *watermark) hold(e *Event, n int) {
	if e.Position == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.refs[e]; !ok {
		if w.pending[e.Position] == 0 {
			heap.Push(&w.order, e.Position)
		}
		w.pending[e.Position]++
	}
	w.refs[e] += n
}

// release drops one reference to each event; an event with none left has left every sink.
func (w *watermark) release(events ...*Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range events {
		if e.Position == 0 {
			continue
		}
		n, ok := w.refs[e]
		if !ok {
			continue
		}
		if n > 1 {
			w.refs[e] = n - 1
			continue
		}
		delete(w.refs, e)
		if w.pending[e.Position]--; w.pending[e.Position] <= 0 {
			delete(w.pending, e.Position)
		}
	}
	for len(w.order) > 0 && w.pending[w.order[0]] == 0 {
		heap.Pop(&w.order)
	}
}

// low is one below the lowest position still held, or math.MaxUint64 when none is held (then
// the source's own position is the bound).
func (w *watermark) low() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) == 0 {
		return math.MaxUint64
	}
	return w.order[0] - 1
}

// held is how many tracked events have not yet left every sink.
func (w *watermark) held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.refs)
}

// posHeap is a min-heap of positions.
type posHeap []uint64

func (h posHeap) Len() int           { return len(h) }
func (h posHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h posHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *posHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *posHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
