package routes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks"
)

// Config configures a Manager.
type Config struct {
	Pipeline *core.Pipeline
	// Env is what sinks are built with; each Receiver's sink gets a context of its own under
	// Env.Ctx, ended when the Receiver goes.
	Env sinks.Env
	// Namespace is herald's own: Routes there may see every namespace.
	Namespace string
	// Objects reads Secrets for ${KEY}; Labels reads involved objects' labels for
	// objectSelector. Nil: Receivers with a secretRef and Routes with an objectSelector are
	// refused.
	Objects Objects
	Labels  LabelsFunc
	// Prefix starts each Receiver's sink id and checkpoint key, so Receivers from two places
	// (the CRDs, a --config file) never share one: "receiver" (default) or "config".
	Prefix string
	// RemoveTimeout is how long a deleted Receiver's sink may take to deliver what it holds
	// (default 10 s).
	RemoveTimeout time.Duration
}

// Snapshot is every Receiver and Route herald should run with.
type Snapshot struct {
	Receivers []api.Receiver
	Routes    []api.Route
}

// Status is what Apply found for one object.
type Status struct {
	Kind       string // Receiver or Route
	Namespace  string
	Name       string
	Generation int64
	Ready      bool
	// Reason is a CamelCase word (Ready, InvalidSpec, SecretNotReadable, SinkInvalid,
	// ReceiverNotFound); Message says what is wrong and how to fix it, with no secret in it.
	Reason  string
	Message string
	// SinkID is a Receiver's sink label in metrics.
	SinkID string
}

// Manager keeps the pipeline's Receivers in step with the Snapshots it is given.
type Manager struct {
	cfg    Config
	mu     sync.Mutex
	active map[string]*running // by namespace/name
	// counts are each Route's, by namespace/name, kept across edits.
	counts map[string]*routeCounts
}

// running is a Receiver's sink in the pipeline.
type running struct {
	id     string
	raw    string
	opts   core.SinkOptions
	key    string
	cancel context.CancelFunc
	shown  string // the redacted sink, for status and logs
	routes *routeSet
}

// NewManager returns a Manager with no Receivers.
func NewManager(cfg Config) *Manager {
	if cfg.RemoveTimeout <= 0 {
		cfg.RemoveTimeout = 10 * time.Second
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "receiver"
	}
	return &Manager{cfg: cfg, active: map[string]*running{}, counts: map[string]*routeCounts{}}
}

// built is a Receiver's sink built by validate, not yet in the pipeline.
type built struct {
	res    *resolved
	b      *sinks.Built
	cancel context.CancelFunc
}

// Apply makes the pipeline's Receivers those of snap and returns the status of every object.
// With strict (a --config file), an invalid object refuses the whole snapshot: nothing changes
// and the error lists every problem. Without (CRDs), an invalid object is left out, reported in
// its status, and the others apply.
func (m *Manager) Apply(snap Snapshot, strict bool) ([]Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// By name, so "the first Route that selects an event" means the same on every Apply.
	sort.SliceStable(snap.Routes, func(i, j int) bool {
		a, b := &snap.Routes[i], &snap.Routes[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	v := validator{objs: m.cfg.Objects, prefix: m.cfg.Prefix, heraldNS: m.cfg.Namespace, labels: m.cfg.Labels, env: m.cfg.Env, strict: strict,
		running: func(key string) (string, bool) {
			if cur := m.active[key]; cur != nil {
				return cur.raw, true
			}
			return "", false
		}}
	recvs, routes := v.validate(snap)
	var statuses []Status

	// Receivers: what is new or changed was built; what is unchanged, or fails and goes on with
	// its last working version, keeps its running sink.
	fresh := map[string]*built{}  // built now, by key
	keep := map[string]*running{} // running on, by key
	valid := map[string]bool{}    // Receivers that run after this Apply
	recvGen := map[string]int64{}
	lastGood := map[string]bool{} // failing now, running their last working version
	for _, c := range recvs {
		recvGen[c.key] = c.r.Generation
		if c.status != nil {
			statuses = append(statuses, *c.status)
		}
		switch {
		case c.fresh != nil:
			for _, w := range c.fresh.b.Warnings {
				glog.Warning(w)
			}
			fresh[c.key] = c.fresh
		case c.works():
			keep[c.key] = m.active[c.key]
			lastGood[c.key] = c.kept
		default:
			continue
		}
		valid[c.key] = true
	}

	// Routes: collect each Receiver's selectors, and keep each Route's counts.
	selectors := map[string]anyOf{}
	notes := map[string][]noted{}
	liveRoutes := map[string]bool{}
	for _, c := range routes {
		rkey := c.r.Namespace + "/" + c.r.Name
		liveRoutes[rkey] = true
		if m.counts[rkey] == nil {
			m.counts[rkey] = &routeCounts{}
		}
		statuses = append(statuses, c.status)
		for _, key := range c.found {
			selectors[key] = append(selectors[key], c.sel)
			notes[key] = append(notes[key], noted{sel: c.sel, note: noteOf(c.r), counts: m.counts[rkey], policy: policyOf(c.r), scope: rkey})
		}
	}

	for k := range m.counts {
		if !liveRoutes[k] {
			delete(m.counts, k)
		}
	}
	var problems []string
	if strict { // every status that is not ready is a problem
		for _, s := range statuses {
			if !s.Ready {
				problems = append(problems, fmt.Sprintf("%s %s/%s: %s", s.Kind, s.Namespace, s.Name, s.Message))
			}
		}
	}
	if len(problems) > 0 {
		for _, f := range fresh {
			_ = f.b.Sink.Close()
			f.cancel()
		}
		sort.Strings(problems)
		return statuses, errors.New(strings.Join(problems, "; "))
	}

	// Commit: add, replace, re-match and remove.
	var errs []error
	for key, f := range fresh {
		sel := selectors[key]
		cur := m.active[key]
		set := newRouteSet(notes[key])
		if cur != nil && sameOptions(cur.opts, f.b.Options) {
			set = cur.routes // the runner's noise control reads the set it was added with
			set.set(notes[key])
		}
		ann := &annotating{Sink: f.b.Sink, routes: set}
		f.b.Options.Noise = set.noise
		switch {
		case cur == nil:
			if err := m.cfg.Pipeline.Add(f.b.ID, ann, sel, f.b.Options); err != nil {
				errs = append(errs, err)
				_ = f.b.Sink.Close()
				f.cancel()
				continue
			}
			glog.Infof("receiver %s: delivering to %s", key, f.b.Redacted)
		case sameOptions(cur.opts, f.b.Options):
			if err := m.cfg.Pipeline.Replace(cur.id, ann, sel); err != nil {
				errs = append(errs, err)
				continue
			}
			cur.cancel()
			glog.Infof("receiver %s: changed; now delivering to %s (what was queued goes to the new sink)", key, f.b.Redacted)
		default:
			m.remove(cur)
			if err := m.cfg.Pipeline.Add(f.b.ID, ann, sel, f.b.Options); err != nil {
				errs = append(errs, err)
				continue
			}
			glog.Infof("receiver %s: changed (queue or batch settings: a new queue); now delivering to %s", key, f.b.Redacted)
		}
		m.active[key] = &running{id: f.b.ID, raw: f.res.raw, opts: f.b.Options, key: f.b.Key, cancel: f.cancel, shown: f.b.Redacted, routes: set}
	}
	for key, cur := range keep {
		cur.routes.set(notes[key])
		if err := m.cfg.Pipeline.SetMatcher(cur.id, selectors[key]); err != nil {
			errs = append(errs, err)
		}
	}
	for key, cur := range m.active {
		if !valid[key] {
			glog.Infof("receiver %s: removed (deleted, or no longer valid)", key)
			m.remove(cur)
			delete(m.active, key)
		}
	}
	for key, cur := range m.active {
		if lastGood[key] {
			continue // its status is the failure, reported above
		}
		ns, name, _ := strings.Cut(key, "/")
		msg := "delivering to " + cur.shown
		if len(selectors[key]) == 0 {
			msg = "no Route names this Receiver: it receives nothing"
		}
		statuses = append(statuses, Status{Kind: "Receiver", Namespace: ns, Name: name, Generation: recvGen[key], Ready: true,
			Reason: "Ready", Message: msg, SinkID: cur.id})
	}
	sort.Slice(statuses, func(i, j int) bool {
		a, b := statuses[i], statuses[j]
		return a.Kind+"/"+a.Namespace+"/"+a.Name < b.Kind+"/"+b.Namespace+"/"+b.Name
	})
	return statuses, errors.Join(errs...)
}

// remove takes a Receiver's sink out of the pipeline, in the background: it delivers what it
// holds for up to RemoveTimeout.
func (m *Manager) remove(cur *running) {
	drain, err := m.cfg.Pipeline.Detach(cur.id)
	if err != nil {
		glog.Warningf("receiver sink %s: %v", cur.id, err)
		cur.cancel()
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.RemoveTimeout)
		defer cancel()
		if err := drain(ctx); err != nil {
			glog.Warningf("receiver sink %s: %v", cur.id, err)
		}
		cur.cancel()
	}()
}

// RouteCounts returns what the events Route namespace/name selected became at its Receivers
// (delivered, export attempts that failed, dropped), since herald started.
func (m *Manager) RouteCounts(namespace, name string) (delivered, failed, dropped int64) {
	m.mu.Lock()
	c := m.counts[namespace+"/"+name]
	m.mu.Unlock()
	if c == nil {
		return 0, 0, 0
	}
	return c.delivered.Load(), c.failed.Load(), c.dropped.Load()
}

// Sinks returns each running Receiver's sink id and checkpoint key (only those fields are
// set), for the checkpoint.
func (m *Manager) Sinks() []*sinks.Built {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*sinks.Built, 0, len(m.active))
	for _, r := range m.active {
		out = append(out, &sinks.Built{ID: r.id, Key: r.key})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func parent(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// policyOf is a Route's noise control, nil when it sets none.
func policyOf(r *api.Route) *core.NoisePolicy {
	sp := &r.Spec
	p := &core.NoisePolicy{GroupBy: sp.GroupBy, MinCount: sp.MinCount}
	for _, d := range []struct {
		from *metav1.Duration
		to   *time.Duration
	}{{sp.GroupWait, &p.GroupWait}, {sp.GroupInterval, &p.GroupInterval}, {sp.RepeatInterval, &p.RepeatInterval}} {
		if d.from != nil {
			*d.to = d.from.Duration
		}
	}
	if p.Empty() {
		return nil
	}
	return p
}

// sameOptions compares the queue and batch settings, which a Replace keeps (noise control is
// the Routes', set on every Apply).
func sameOptions(a, b core.SinkOptions) bool {
	a.Noise, b.Noise = nil, nil
	return a.QueueSize == b.QueueSize && a.BatchSize == b.BatchSize && a.FlushInterval == b.FlushInterval &&
		a.Linger == b.Linger && a.Concurrency == b.Concurrency && a.CredentialHint == b.CredentialHint
}
