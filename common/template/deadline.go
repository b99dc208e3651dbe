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
// template renders in tens of microseconds (BenchmarkRender), so only a runaway loop or a call
// that recurses without end reaches it.
const DefaultTimeout = time.Second

// ErrTimeout is returned (wrapped) by Render when a render runs past Options.Timeout.
var ErrTimeout = errors.New("rendering took longer than the time budget")

// tickName is the function instrument puts at the start of every loop body and every template
// (so also every call of one): it fails once the render is past its deadline, and text/template
// then stops with that error. The odd name keeps it out of people's way.
const tickName = "_herald_render_tick"

// instrument inserts a call of tickName at the start of every range body and of every template
// of t that a {{ template }} call names, after escaping (so the escaper leaves them alone).
// Execution between two ticks is then straight-line: at most one action per node of the
// template, and every action that prints also meets the deadline check in renderState.Write.
// So a render past its deadline stops by itself at its next loop iteration, template call or
// print: text/template has no other way to be cancelled. A template without loops or calls
// gets no tick and costs nothing more to render.
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

// prependTick puts {{ _herald_render_tick }} first in l.
func prependTick(l *parse.ListNode) {
	pos := l.Position()
	action := &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Pos: pos,
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos,
			Args: []parse.Node{parse.NewIdentifier(tickName).SetTree(nil).SetPos(pos)}}},
	}}
	l.Nodes = append([]parse.Node{action}, l.Nodes...)
}

// executor runs one render at a time: a clone of the compiled template whose tickName is bound
// to this executor's state, and the buffer it writes to. compiled keeps idle executors in a
// pool, so a render allocates none (a clone costs a few microseconds, once per pooled executor).
type executor struct {
	tmpl *template.Template
	renderState
}

// renderState is one render's budget: its output goes to buf, at most max bytes, until deadline.
type renderState struct {
	buf      bytes.Buffer
	max      int
	deadline time.Time
	// writes counts Write calls; the clock is read on every 8th (and on every tick).
	writes  int
	expired bool
}

func (s *renderState) start(max int, deadline time.Time) {
	s.buf.Reset()
	s.max, s.deadline, s.writes, s.expired = max, deadline, 0, false
}

// late reports whether the deadline has passed, and remembers it.
func (s *renderState) late() bool {
	if !s.expired && !time.Now().Before(s.deadline) {
		s.expired = true
	}
	return s.expired
}

// tick is tickName: it prints nothing and fails once the render is late.
func (s *renderState) tick() (string, error) {
	if s.late() {
		return "", ErrTimeout
	}
	return "", nil
}

// Write fails a write that would take the body past max bytes, or that comes after the
// deadline; text/template then stops and returns the error.
func (s *renderState) Write(p []byte) (int, error) {
	if s.buf.Len()+len(p) > s.max {
		return 0, ErrTooLarge
	}
	s.writes++
	if s.expired || s.writes%8 == 0 && s.late() {
		return 0, ErrTimeout
	}
	return s.buf.Write(p)
}

// executors hands out executors of one compiled template.
type executors struct {
	tmpl *template.Template
	pool sync.Pool
}

func (x *executors) get() (*executor, error) {
	if e, ok := x.pool.Get().(*executor); ok {
		return e, nil
	}
	clone, err := x.tmpl.Clone()
	if err != nil {
		return nil, err
	}
	e := &executor{tmpl: clone}
	clone.Funcs(template.FuncMap{tickName: e.tick})
	return e, nil
}

// put returns e to the pool, unless its buffer grew large (a body near MaxBytes): the next
// render then starts with a small one.
func (x *executors) put(e *executor) {
	if e.buf.Cap() > 64<<10 {
		e.buf = bytes.Buffer{}
	}
	x.pool.Put(e)
}
