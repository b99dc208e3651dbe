package routes

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
)

// noted is a Route's selector with what the Route adds to the events it selects, and its
// counts.
type noted struct {
	sel    *selector
	note   *core.RouteNote
	counts *routeCounts
	policy *core.NoisePolicy // nil: every event as it comes
	scope  string            // the Route's namespace/name: its groups are its own
}

// routeSet is a Receiver's Routes, replaced as a whole on every Apply; the Receiver's sink
// wrapper and its noise control read it.
type routeSet struct{ p atomic.Pointer[[]noted] }

func newRouteSet(routes []noted) *routeSet {
	s := &routeSet{}
	s.set(routes)
	return s
}

func (s *routeSet) set(routes []noted) { s.p.Store(&routes) }
func (s *routeSet) get() []noted       { return *s.p.Load() }

// first is the first Route (by name) that selects e, or nil.
func (s *routeSet) first(e *core.Event) *noted {
	for _, r := range s.get() {
		if r.sel.Match(e) {
			return &r
		}
	}
	return nil
}

// noise is the Receiver's noise control: the policy of the first Route that selects e.
func (s *routeSet) noise(e *core.Event) (*core.NoisePolicy, string) {
	if r := s.first(e); r != nil {
		return r.policy, r.scope
	}
	return nil, ""
}

// routeCounts are what a Route's events became at its Receivers, since herald started.
type routeCounts struct{ delivered, failed, dropped atomic.Int64 }

func noteOf(r *api.Route) *core.RouteNote {
	return &core.RouteNote{Namespace: r.Namespace, Name: r.Name, Summary: r.Spec.Summary, Metadata: r.Spec.Metadata}
}

// annotating is a Receiver's sink as the pipeline sees it: each event is handed to the sink as
// a copy carrying the note of the first of the Receiver's Routes that selects it (its summary
// and metadata), and the sink's verdicts are mapped back to the pipeline's events.
type annotating struct {
	core.Sink
	routes *routeSet
}

func (a *annotating) Export(ctx context.Context, batch []*core.Event) error {
	copies := make([]*core.Event, len(batch))
	orig := make(map[*core.Event]*core.Event, len(batch))
	by := make([]*routeCounts, len(batch))
	for i, e := range batch {
		c := *e
		if r := a.routes.first(e); r != nil {
			c.Route = *r.note
			by[i] = r.counts
		}
		copies[i] = &c
		orig[&c] = e
	}
	err := a.Sink.Export(ctx, copies)
	retry, _, rejected, _ := core.Fates(err, copies)
	fate := make(map[*core.Event]int, len(retry)+len(rejected))
	for _, e := range retry {
		fate[e] = 1
	}
	for _, e := range rejected {
		fate[e] = 2
	}
	for i, c := range copies {
		if by[i] == nil {
			continue
		}
		switch fate[c] {
		case 0:
			by[i].delivered.Add(1)
		case 1:
			by[i].failed.Add(1)
		case 2:
			by[i].dropped.Add(1)
		}
	}
	var partial *core.PartialError
	if err == nil || !errors.As(err, &partial) {
		return err
	}
	back := func(es []*core.Event) []*core.Event {
		out := make([]*core.Event, 0, len(es))
		for _, e := range es {
			if o, ok := orig[e]; ok {
				out = append(out, o)
			}
		}
		return out
	}
	return &core.PartialError{Failed: back(partial.Failed), Err: partial.Err, Rejected: back(partial.Rejected), RejectErr: partial.RejectErr}
}
