package routes

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
)

// noted is a Route's selector with what the Route adds to the events it selects.
type noted struct {
	sel  *selector
	note *core.RouteNote
}

func noteOf(r *api.Route) *core.RouteNote {
	return &core.RouteNote{Namespace: r.Namespace, Name: r.Name, Summary: r.Spec.Summary, Metadata: r.Spec.Metadata}
}

// annotating is a Receiver's sink as the pipeline sees it: each event is handed to the sink as
// a copy carrying the note of the first of the Receiver's Routes that selects it (its summary
// and metadata), and the sink's verdicts are mapped back to the pipeline's events.
type annotating struct {
	core.Sink
	routes atomic.Pointer[[]noted]
}

func (a *annotating) set(routes []noted) { a.routes.Store(&routes) }

func (a *annotating) Export(ctx context.Context, batch []*core.Event) error {
	copies := make([]*core.Event, len(batch))
	orig := make(map[*core.Event]*core.Event, len(batch))
	for i, e := range batch {
		c := *e
		for _, r := range *a.routes.Load() {
			if r.sel.Match(e) {
				c.Route = *r.note
				break
			}
		}
		copies[i] = &c
		orig[&c] = e
	}
	err := a.Sink.Export(ctx, copies)
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
