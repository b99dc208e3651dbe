package core

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// NoisePolicy is noise control for one sink or one Route, in Alertmanager's terms applied to
// events: events are grouped by GroupBy's fields; the first event of a new group waits
// GroupWait for others to join it, and the group then sends one message (its latest event,
// with Folded the number of others) at most every GroupInterval; an event whose count keeps
// rising (the same Event object, repeated) is sent again at most every RepeatInterval, with
// the repeats in between folded; an event whose count is below MinCount is not sent. An Empty
// policy delivers every event as it comes.
type NoisePolicy struct {
	GroupBy        []string
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	MinCount       int32
}

// GroupFields are the fields GroupBy may name.
var GroupFields = []string{"namespace", "kind", "name", "reason", "type", "source"}

// Validate checks the policy; errors name the setting (its parameter or field name is the
// caller's to add).
func (p *NoisePolicy) Validate() error {
	for _, f := range p.GroupBy {
		if !contains(GroupFields, f) {
			return fmt.Errorf("group by %q: fields are %s", f, strings.Join(GroupFields, ", "))
		}
	}
	for name, d := range map[string]time.Duration{"group wait": p.GroupWait, "group interval": p.GroupInterval, "repeat interval": p.RepeatInterval} {
		if d < 0 {
			return fmt.Errorf("%s %s is negative", name, d)
		}
	}
	if p.MinCount < 0 {
		return fmt.Errorf("min count %d is negative", p.MinCount)
	}
	return nil
}

// grouping reports whether the policy holds events to group them.
func (p *NoisePolicy) grouping() bool {
	return len(p.GroupBy) > 0 || p.GroupWait > 0 || p.GroupInterval > 0
}

// Empty reports whether the policy changes nothing: every event is delivered as it comes.
func (p *NoisePolicy) Empty() bool {
	return p == nil || !p.grouping() && p.RepeatInterval == 0 && p.MinCount <= 1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Noise chooses the policy for an event offered to a sink, and the scope its groups and
// repeats are kept in (a Route's name: two Routes never fold each other's events). A nil
// policy delivers the event as it comes.
type Noise func(e *Event) (p *NoisePolicy, scope string)

// Reasons of herald_sink_events_total{outcome="skipped"} that noise control gives.
const (
	SkipGrouped  = "grouped"         // folded into its group's message (Folded counts it)
	SkipRepeat   = "repeat"          // a repeat within repeat_interval, folded into the next
	SkipMinCount = "below_min_count" // its count had not reached min_count
)

type admission int

const (
	admitPass admission = iota
	admitHold
	admitSuppress
)

// noise is a sink's noise control state: its groups and the last sending of each repeating
// event. Held events stay held in the sink's watermark until their group's message leaves.
type noise struct {
	pick Noise
	mu   sync.Mutex
	// groups by scope and group key; sent by scope and Event object.
	groups    map[string]*group
	sent      map[string]*sending
	lastSweep time.Time
	wake      chan struct{}
}

type group struct {
	policy    *NoisePolicy
	pending   []*Event
	flushAt   time.Time
	lastFlush time.Time
}

type sending struct {
	at     time.Time
	folded int
	every  time.Duration
}

func newNoise(pick Noise) *noise {
	return &noise{pick: pick, groups: map[string]*group{}, sent: map[string]*sending{}, wake: make(chan struct{}, 1)}
}

// count is how often the event occurred (its count or series count, at least 1).
func eventCount(e *Event) int32 {
	n := max(e.Count, 1)
	if e.Series != nil && e.Series.Count > n {
		n = e.Series.Count
	}
	return n
}

// admit decides e's fate at offer time: pass (out is what to queue: e, or a copy carrying the
// repeats folded since its last sending), hold (kept for its group's message), or suppress
// (reason says why).
func (n *noise) admit(e *Event, now time.Time) (a admission, out *Event, reason string) {
	p, scope := n.pick(e)
	if p.Empty() {
		return admitPass, e, ""
	}
	if p.MinCount > 1 && eventCount(e) < p.MinCount {
		return admitSuppress, nil, SkipMinCount
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sweep(now)
	folded := 0
	if p.RepeatInterval > 0 && e.Event != nil {
		id := scope + "\x00" + e.Namespace + "/" + e.Name + "/" + string(e.UID)
		if s := n.sent[id]; s != nil && now.Sub(s.at) < p.RepeatInterval {
			s.folded++
			return admitSuppress, nil, SkipRepeat
		} else if s != nil {
			folded = s.folded
		}
		n.sent[id] = &sending{at: now, every: p.RepeatInterval}
	}
	if !p.grouping() {
		return admitPass, withFolded(e, folded), ""
	}
	key := scope + "\x00" + groupKey(e, p.GroupBy)
	g := n.groups[key]
	switch {
	case g == nil:
		g = &group{policy: p}
		n.groups[key] = g
		if p.GroupWait <= 0 {
			g.lastFlush = now
			return admitPass, withFolded(e, folded), ""
		}
		g.flushAt = now.Add(p.GroupWait)
	case len(g.pending) == 0:
		due := g.lastFlush.Add(p.GroupInterval)
		if !now.Before(due) {
			g.lastFlush = now
			return admitPass, withFolded(e, folded), ""
		}
		g.flushAt = due
	}
	g.pending = append(g.pending, e)
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return admitHold, nil, ""
}

// withFolded returns e, or a copy of it that says how many events it stands for besides itself.
func withFolded(e *Event, folded int) *Event {
	if folded == 0 {
		return e
	}
	c := *e
	c.Folded += folded
	c.members = []*Event{e} // the pipeline holds e, not the copy
	return &c
}

func groupKey(e *Event, fields []string) string {
	var b strings.Builder
	for _, f := range fields {
		switch f {
		case "namespace":
			b.WriteString(e.InvolvedObject.Namespace)
		case "kind":
			b.WriteString(e.InvolvedObject.Kind)
		case "name":
			b.WriteString(e.InvolvedObject.Name)
		case "reason":
			b.WriteString(e.Reason)
		case "type":
			b.WriteString(e.Type)
		case "source":
			b.WriteString(e.Source.Component)
			if e.Source.Component == "" {
				b.WriteString(e.ReportingController)
			}
		}
		b.WriteByte(0)
	}
	return b.String()
}

// due returns the messages of the groups due by now (all of them with all set: shutdown),
// each the latest event of its group as a copy that stands for the others (Folded) and holds
// them (members), and when the next group is due (zero: none).
func (n *noise) due(now time.Time, all bool) (reps []*Event, next time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.groups {
		if len(g.pending) == 0 {
			continue
		}
		if !all && now.Before(g.flushAt) {
			if next.IsZero() || g.flushAt.Before(next) {
				next = g.flushAt
			}
			continue
		}
		last := g.pending[len(g.pending)-1]
		rep := *last
		rep.Folded += len(g.pending) - 1
		rep.members = g.pending
		reps = append(reps, &rep)
		g.pending = nil
		g.lastFlush = now
	}
	return reps, next
}

// sweep forgets groups idle for two of their intervals and sendings past their repeat
// interval, at most once a minute, so the state stays as small as the live groups.
func (n *noise) sweep(now time.Time) {
	if now.Sub(n.lastSweep) < time.Minute {
		return
	}
	n.lastSweep = now
	for k, g := range n.groups {
		idle := 2*max(g.policy.GroupInterval, g.policy.GroupWait) + time.Minute
		if len(g.pending) == 0 && now.Sub(g.lastFlush) > idle {
			delete(n.groups, k)
		}
	}
	for k, s := range n.sent {
		if now.Sub(s.at) > s.every {
			delete(n.sent, k)
		}
	}
}
