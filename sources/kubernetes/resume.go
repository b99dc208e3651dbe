package kubernetes

import (
	"strconv"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
)

// DefaultEventTTL is the API server's default --event-ttl: events older than this are gone.
const DefaultEventTTL = time.Hour

// Since is where an earlier run stopped (a checkpoint): every event written at or below
// ResourceVersion had left every sink by Time.
type Since struct {
	// ResourceVersion is etcd's revision, as the API server gives it in resourceVersion.
	ResourceVersion uint64
	// Scopes are the positions of single namespaces' watches (Source.Positions), when they
	// differ; a namespace not in it resumes from ResourceVersion.
	Scopes map[string]uint64
	// Time is when the checkpoint was written.
	Time time.Time
}

// forScope is s for the watch of namespace (all namespaces: ""): its own position if it has one.
func (s *Since) forScope(namespace string) *Since {
	if s == nil {
		return nil
	}
	out := &Since{ResourceVersion: s.ResourceVersion, Time: s.Time}
	if p, ok := s.Scopes[namespace]; ok && p > 0 {
		out.ResourceVersion = p
	}
	return out
}

// checkSince checks a checkpoint against the initial list. It returns nil, so that the list is
// recorded without replay, when the checkpoint cannot belong to this API server's store (its
// resourceVersion is ahead of the list's: etcd was replaced or restored). It reports a gap,
// counted and logged, when herald was down longer than the events' time to live: events written
// in that window have expired and can never be delivered.
func (s *store) checkSince(since *Since, list []any, listRV string) *Since {
	if rv, err := strconv.ParseUint(listRV, 10, 64); err == nil && rv < since.ResourceVersion {
		glog.Warningf("kubernetes source: the checkpoint's resourceVersion %d is ahead of the API server's %d in %s: it belongs to another store (etcd replaced or restored); ignoring it: events present now are recorded, not delivered", since.ResourceVersion, rv, scopeText(s.scope))
		s.metrics.gaps.Inc()
		if s.sinceIgnored != nil {
			s.sinceIgnored()
		}
		return nil
	}
	if since.Time.IsZero() {
		return since
	}
	ttl := s.ttl
	if ttl <= 0 {
		ttl = DefaultEventTTL
	}
	now := s.clock.Now()
	expiredBefore := now.Add(-ttl) // events written before this may have expired
	if !since.Time.Before(expiredBefore) {
		return since
	}
	// The oldest event still listed narrows the gap: anything written after it is still there.
	end := expiredBefore
	for _, obj := range list {
		var t time.Time
		switch o := obj.(type) {
		case *corev1.Event:
			if o != nil {
				t = o.CreationTimestamp.Time
			}
		case *listedEvent:
			if o.created != 0 {
				t = time.Unix(0, o.created)
			}
		}
		if !t.IsZero() && t.Before(end) {
			end = t
		}
	}
	if !since.Time.Before(end) {
		return since
	}
	gap := end.Sub(since.Time)
	s.metrics.gaps.Inc()
	s.metrics.gapSeconds.Add(gap.Seconds())
	glog.Warningf("kubernetes source: gap in %s: herald was down since %s (checkpoint), longer than the events' time to live (--event-ttl=%s); events written between %s and %s have expired from the API server and cannot be delivered (herald_source_gaps_total, herald_source_gap_seconds_total)",
		scopeText(s.scope), since.Time.Format(time.RFC3339), ttl, since.Time.Format(time.RFC3339), end.Format(time.RFC3339))
	return since
}
