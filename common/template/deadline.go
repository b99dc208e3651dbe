package template

import (
	"bytes"
	"errors"
	"sync"
	"text/template"
	"text/template/parse"
	"time"
)

// DefaultTimeout is the time budget of one render when Options.Timeout is not set. A real body
// template renders in a few microseconds, tens without a plan (BenchmarkRender), so only a
// runaway loop or a call that recurses without end reaches it.
const DefaultTimeout = time.Second

// ErrTimeout is returned (wrapped) by Render when a render runs past Options.Timeout.
var ErrTimeout = errors.New("rendering took longer than the time budget")

// instrument inserts a tick, an empty text node, at the start of every range body and of every
// template of t that a {{ template }} call names, after escaping (so the escaper leaves them
// alone). text/template writes a text node, even an empty one, to the render's writer, and
// renderState.Write checks the deadline: so every loop iteration, every template call and every
// print meets the check, and execution between two checks is straight-line, at most one action
// per node of the template. A render past its deadline stops by itself there: text/template
// has no other way to be cancelled. A tick costs an interface call, no allocation; a template
// without loops or calls gets none.
func instrument(t *template.Template) {
	called := map[string]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		walkTree(tt.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.RangeNode:
				if n.List != nil {
					prependTick(n.List)
				}
			case *parse.TemplateNode:
				called[n.Name] = true
			}
		})
	}
	for name := range called {
		if tt := t.Lookup(name); tt != nil && tt.Tree != nil && tt.Tree.Root != nil {
			prependTick(tt.Tree.Root)
		}
	}
}

// prependTick puts an empty text node first in l.
func prependTick(l *parse.ListNode) {
	l.Nodes = append([]parse.Node{&parse.TextNode{NodeType: parse.NodeText, Pos: l.Position()}}, l.Nodes...)
}

// renderState is one render's writer and budget: its output goes to buf, at most max bytes,
// until deadline. States are pooled (states), so a render allocates none.
type renderState struct {
	buf bytes.Buffer
	// out is the buffer a plan appends to (a plan does not write through Write), and view
	// the event it renders (here, so that it is not allocated per render).
	out      []byte
	view     view
	max      int
	deadline time.Time
	// writes counts Write calls, ticks included; the clock is read on every 8th.
	writes  int
	expired bool
}

var states = sync.Pool{New: func() any { return new(renderState) }}

func (s *renderState) start(max int, deadline time.Time) {
	s.buf.Reset()
	s.max, s.deadline, s.writes, s.expired = max, deadline, 0, false
}

// done returns s to the pool, unless its buffer grew large (a body near MaxBytes): the next
// render then starts with a small one.
func (s *renderState) done() {
	if s.buf.Cap() > 64<<10 {
		s.buf = bytes.Buffer{}
	}
	if cap(s.out) > 64<<10 {
		s.out = nil
	}
	s.view = view{} // do not keep the event alive in the pool
	states.Put(s)
}

// Write fails a write that would take the body past max bytes, or that comes after the
// deadline (read every 8th write: a few dozen nanoseconds each); text/template then stops and
// returns the error.
func (s *renderState) Write(p []byte) (int, error) {
	if s.buf.Len()+len(p) > s.max {
		return 0, ErrTooLarge
	}
	s.writes++
	if s.expired || s.writes%8 == 0 && !time.Now().Before(s.deadline) {
		s.expired = true
		return 0, ErrTimeout
	}
	return s.buf.Write(p)
}
