package chat

import (
	"sort"
	"time"

	"github.com/heraldproject/herald/core"
)

// Digest is a batch of events merged for one message: grouped by reason and namespace, most
// recent group first, most recent event first within a group.
type Digest struct {
	Cluster string
	// Events is the number of events in the batch; every one of them is in a group.
	Events int
	// Warnings is how many of them are Warning events.
	Warnings int
	// Occurrences sums the events' counts (an event seen 5 times counts 5).
	Occurrences int64
	// First and Last bound the events' times (zero when no event has a time).
	First, Last time.Time
	Groups      []*Group
}

// Group is the events of one reason in one namespace.
type Group struct {
	Reason    string
	Namespace string
	// Type is Warning when any event of the group is a Warning, else the events' type.
	Type string
	// Events, most recent first.
	Events      []Fields
	Occurrences int64
	Latest      time.Time
}

// Summarize merges events into a Digest. cluster is used for events that carry none; loc is
// --timezone. The events are not changed.
func Summarize(events []*core.Event, cluster string, loc *time.Location) *Digest {
	d := &Digest{Cluster: cluster}
	type key struct{ reason, ns string }
	byKey := map[key]*Group{}
	for _, e := range events {
		f := FieldsOf(e, cluster, loc)
		if d.Cluster == "" {
			d.Cluster = f.Cluster
		}
		d.Events++
		if f.Type == "Warning" {
			d.Warnings++
		}
		d.Occurrences += int64(f.Count)
		if !f.Time.IsZero() {
			if d.First.IsZero() || f.Time.Before(d.First) {
				d.First = f.Time
			}
			if f.Time.After(d.Last) {
				d.Last = f.Time
			}
		}
		k := key{f.Reason, f.Namespace}
		g := byKey[k]
		if g == nil {
			g = &Group{Reason: f.Reason, Namespace: f.Namespace, Type: f.Type}
			byKey[k] = g
			d.Groups = append(d.Groups, g)
		}
		if f.Type == "Warning" {
			g.Type = "Warning"
		}
		g.Events = append(g.Events, f)
		g.Occurrences += int64(f.Count)
		if f.Time.After(g.Latest) {
			g.Latest = f.Time
		}
	}
	for _, g := range d.Groups {
		// Most recent first; stable, so events without times keep batch order (newest last
		// in a batch, so reverse that first).
		reverse(g.Events)
		sort.SliceStable(g.Events, func(i, j int) bool { return g.Events[i].Time.After(g.Events[j].Time) })
	}
	reverseGroups(d.Groups)
	sort.SliceStable(d.Groups, func(i, j int) bool { return d.Groups[i].Latest.After(d.Groups[j].Latest) })
	return d
}

func reverse(s []Fields) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func reverseGroups(s []*Group) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// View is the part of a Digest that one message shows: the first groups, and in each the
// first events; everything else is counted in "and N more". Every event of the digest is
// either in Shown or in a More count: Named()+Unnamed() == Digest.Events.
type View struct {
	*Digest
	Groups []GroupView
	// HiddenGroups and HiddenEvents count the groups left out entirely, and their events.
	HiddenGroups, HiddenEvents int
}

// GroupView is one group as a message shows it.
type GroupView struct {
	*Group
	// Shown are the events named in the message, most recent first; their messages are on one
	// line and cut to FitOptions.ItemMessageBytes.
	Shown []Fields
	// More is how many further events of this group the message only counts.
	More int
}

// Named is how many events the view names; Unnamed how many it only counts.
func (v *View) Named() int {
	n := 0
	for _, g := range v.Groups {
		n += len(g.Shown)
	}
	return n
}

// Unnamed is how many events the view counts without naming them.
func (v *View) Unnamed() int {
	n := v.HiddenEvents
	for _, g := range v.Groups {
		n += g.More
	}
	return n
}
