package routes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks"
)

// validator checks a Snapshot's objects the one way Apply and Check share: each Receiver
// resolved (its Secret read, its template added) and its sink built, each Route compiled and
// its Receivers looked up. It adds nothing to a pipeline.
type validator struct {
	objs     Objects
	prefix   string
	heraldNS string
	labels   LabelsFunc
	// env builds the sinks; each gets a context of its own under env.Ctx.
	env sinks.Env
	// strict: a --config file (and herald check). A Receiver that fails fails, even when it
	// runs; a Route naming a Receiver that does not work fails.
	strict bool
	// running returns the sink URI the Receiver namespace/name runs with, ok false when it does
	// not run; nil: none runs. A Receiver whose URI is unchanged is not built again.
	running func(key string) (raw string, ok bool)
}

// checkedReceiver is a Receiver as validate found it: failed (status says why), unchanged
// (its running sink goes on), or built anew.
type checkedReceiver struct {
	r      *api.Receiver
	key    string  // namespace/name
	status *Status // nil when it works
	// kept: it fails, but runs and goes on with its last working version (not strict).
	kept  bool
	fresh *built // its sink, built now: it is new or its URI changed
}

// works reports whether Routes may name the Receiver: it works, or goes on with its last
// working version.
func (c *checkedReceiver) works() bool { return c.status == nil || c.kept }

// checkedRoute is a Route as validate found it.
type checkedRoute struct {
	r      *api.Route
	status Status
	sel    *selector // nil when it does not compile
	found  []string  // the namespace/name of each of its Receivers that works
}

// validate checks snap's Receivers, then its Routes, each in snap's order.
func (v *validator) validate(snap Snapshot) ([]checkedReceiver, []checkedRoute) {
	recvs := make([]checkedReceiver, len(snap.Receivers))
	works := map[string]bool{}
	for i := range snap.Receivers {
		recvs[i] = v.receiver(&snap.Receivers[i])
		if recvs[i].works() {
			works[recvs[i].key] = true
		}
	}
	routes := make([]checkedRoute, len(snap.Routes))
	for i := range snap.Routes {
		routes[i] = v.route(&snap.Routes[i], works)
	}
	return recvs, routes
}

// receiver resolves r and builds its sink, unless it runs with the same URI.
func (v *validator) receiver(r *api.Receiver) checkedReceiver {
	c := checkedReceiver{r: r, key: r.Namespace + "/" + r.Name}
	var cur string
	var runs bool
	if v.running != nil {
		cur, runs = v.running(c.key)
	}
	fail := func(reason string, err error) checkedReceiver {
		// A Receiver that worked and now fails (a Secret briefly unreadable, a typo in an edit)
		// keeps delivering with its last working version: losing a team's alerts to a typo
		// helps nobody. Its status says so.
		if runs && !v.strict {
			c.kept = true
			err = fmt.Errorf("%v (herald keeps delivering with the last version that worked)", err)
		}
		c.status = &Status{Kind: "Receiver", Namespace: r.Namespace, Name: r.Name, Generation: r.Generation,
			Reason: reason, Message: redact.ScrubRegistered(err.Error())}
		return c
	}
	res, err := resolveReceiver(r, v.objs, v.prefix)
	if err != nil {
		reason := "InvalidSpec"
		if strings.HasPrefix(err.Error(), "spec.secretRef") || strings.Contains(err.Error(), "has no key") {
			reason = "SecretNotReadable"
		}
		return fail(reason, err)
	}
	redact.Register(res.secrets...)
	if runs && cur == res.raw {
		return c
	}
	env := v.env
	ctx, cancel := context.WithCancel(parent(env.Ctx))
	env.Ctx = ctx
	b, err := sinks.BuildAs(res.origin, res.raw, env)
	if err != nil {
		cancel()
		// The status names the object already: drop the owner the sink's errors start with.
		scheme, _, _ := strings.Cut(res.raw, ":")
		msg := strings.ReplaceAll(err.Error(), fmt.Sprintf("%s (%s): ", res.origin.Owner, scheme), "")
		msg = strings.ReplaceAll(msg, res.origin.Owner+": ", "")
		return fail("SinkInvalid", errors.New(msg))
	}
	b.Redacted = redact.Scrub(b.Redacted, res.secrets...)
	for i, w := range b.Warnings {
		b.Warnings[i] = redact.Scrub(w, res.secrets...)
	}
	c.fresh = &built{res: res, b: b, cancel: cancel}
	return c
}

// route compiles r and looks up its Receivers among those that work.
func (v *validator) route(r *api.Route, works map[string]bool) checkedRoute {
	c := checkedRoute{r: r, status: Status{Kind: "Route", Namespace: r.Namespace, Name: r.Name, Generation: r.Generation}}
	st := &c.status
	sel, err := compileRoute(r, v.heraldNS, v.labels)
	if err != nil {
		st.Reason, st.Message = "InvalidSpec", redact.ScrubRegistered(err.Error())
		return c
	}
	c.sel = sel
	var missing []string
	for _, name := range r.Spec.Receivers {
		if key := r.Namespace + "/" + name; works[key] {
			c.found = append(c.found, key)
		} else {
			missing = append(missing, name)
		}
	}
	notFound := fmt.Sprintf("spec.receivers: no working Receiver %s in namespace %s", strings.Join(missing, ", "), r.Namespace)
	switch {
	case len(missing) == 0:
		st.Ready, st.Reason, st.Message = true, "Ready", "selects events for "+strings.Join(r.Spec.Receivers, ", ")
	case v.strict:
		st.Reason, st.Message = "ReceiverNotFound", redact.ScrubRegistered(notFound)
	default:
		st.Reason, st.Message = "ReceiverNotFound", notFound+" (see its status); the others get this Route's events"
	}
	return c
}
