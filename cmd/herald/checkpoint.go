package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/golang/glog"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// loadCheckpoint opens --checkpoint and reads where the last run stopped (the newest of its
// stores). It returns no targets for --checkpoint=off, and a zero Checkpoint when there is
// nothing to resume from. A store that cannot be read (RBAC, I/O) stops herald. A checkpoint
// that cannot be decoded (garbled, or not herald's) is an error in the log and a gap in
// herald_source_gaps_total, never a silent "none saved". A checkpoint of another --instance is an
// instance conflict: herald neither resumes from it nor writes to it.
func loadCheckpoint(o *options, client kubernetes.Interface, me self, conf *conflicts, gaps interface{ CountGap() }) ([]checkpoint.Target, checkpoint.Checkpoint, error) {
	targets, err := checkpoint.Parse(o.checkpoint, client, o.checkpointEvery)
	if err != nil || len(targets) == 0 {
		return nil, checkpoint.Checkpoint{}, err
	}
	for _, t := range targets {
		if cm, ok := t.Store.(*checkpoint.ConfigMap); ok {
			cm.OnForeignWrite = conf.foreignCheckpointWrite(cm.String(), me)
		}
	}
	cp, from, garbled, err := checkpoint.LoadNewest(targets)
	for _, g := range garbled {
		glog.Errorf("checkpoint %v; herald cannot resume from it: events written while herald was down are not delivered unless another store has them (counted in herald_source_gaps_total); the next save replaces it", g)
		gaps.CountGap()
	}
	switch {
	case errors.Is(err, checkpoint.ErrNotFound) && len(garbled) > 0:
		glog.Errorf("checkpoint %s: no readable checkpoint; starting without replay", o.checkpoint)
		return targets, checkpoint.Checkpoint{}, nil
	case errors.Is(err, checkpoint.ErrNotFound):
		glog.Infof("checkpoint %s: none saved yet; starting without replay (events present now are recorded, not delivered)", o.checkpoint)
		return targets, checkpoint.Checkpoint{}, nil
	case err != nil:
		return nil, checkpoint.Checkpoint{}, fmt.Errorf("--checkpoint=%s: %v", o.checkpoint, err)
	}
	if other := cp.Origin; other.Instance != "" && other.Instance != me.instance {
		conf.set("checkpoint "+from.String(), fmt.Sprintf("checkpoint %s was written by herald instance %q (%s, configuration %s), and this is instance %q (%s, configuration %s): herald neither resumes from it nor overwrites it; point --checkpoint at this instance's own store (default configmap:NAMESPACE/%s-checkpoint) or give the two installs the same --instance only if they are one install",
			from, other.Instance, other.Process, other.Config, me.instance, me.process, me.config, me.instance))
		var rest []checkpoint.Target
		for _, t := range targets {
			if t.Store != from {
				rest = append(rest, t)
			}
		}
		return rest, checkpoint.Checkpoint{}, nil
	}
	if other := cp.Origin; other.Config != "" && other.Config != me.config {
		glog.Infof("checkpoint %s: saved by this instance with another configuration (%s; now %s): a sink new since resumes from the overall position", from, other.Config, me.config)
	}
	glog.Infof("checkpoint %s: resuming after resourceVersion %d (saved %s)", from, cp.ResourceVersion, cp.Time.Format("2006-01-02T15:04:05Z07:00"))
	return targets, cp, nil
}

// resume returns where each of the source's watches must start after a restart: for each
// namespace watched, the lowest over the sinks of what both the sink and the namespace's watch
// had done (a sink or a namespace new since the checkpoint starts at its overall position); and
// the pipeline's skip rule (core.Pipeline.SetSkip): what each sink and the event's watch had both
// done. Nils when there is no checkpoint.
func resume(cp checkpoint.Checkpoint, built []*sinks.Built, scopes []string, scopeOf func(*core.Event) string) (*kubesource.Since, func(string, *core.Event) bool) {
	if cp.ResourceVersion == 0 {
		return nil, nil
	}
	had := make(map[string]uint64, len(built)) // sink id -> its position
	for _, b := range built {
		had[b.ID] = cp.Sink(b.Key)
		if _, ok := cp.Sinks[b.Key]; !ok && b.LegacyKey != "" {
			// Saved by a herald whose key was the redacted value itself; the next save uses Key.
			had[b.ID] = cp.Sink(b.LegacyKey)
		}
		if had[b.ID] > cp.ResourceVersion {
			glog.Infof("checkpoint: sink %s had everything up to resourceVersion %d; it skips what is replayed to the others", b.ID, had[b.ID])
		}
	}
	since := &kubesource.Since{ResourceVersion: cp.ResourceVersion, Time: cp.Time, Scopes: map[string]uint64{}}
	for _, scope := range scopes {
		start := uint64(math.MaxUint64)
		for _, pos := range had {
			start = min(start, pos, cp.Scope(scope))
		}
		since.Scopes[scope] = start
	}
	return since, func(id string, e *core.Event) bool {
		return e.Position <= min(had[id], cp.Scope(scopeOf(e)))
	}
}

// deliveredPositions are the checkpoint positions: the pipeline's watermark of each sink and the
// source's position of each watched namespace, the source's read first (see
// core.Pipeline.Watermark). Zero while the source has not listed yet.
func deliveredPositions(src *kubesource.Source, p *core.Pipeline, sinksNow func() []*sinks.Built, origin checkpoint.Origin, restarts func() map[string]int32) func() checkpoint.Checkpoint {
	return func() checkpoint.Checkpoint {
		built := sinksNow() // Receivers come and go
		scopes := src.Positions()
		low, high := uint64(math.MaxUint64), uint64(0)
		for _, pos := range scopes {
			low, high = min(low, pos), max(high, pos)
		}
		if low == 0 {
			return checkpoint.Checkpoint{}
		}
		per := p.SinkWatermarks()
		c := checkpoint.Checkpoint{Sinks: make(map[string]uint64, len(built)), Scopes: scopes, Origin: origin}
		if restarts != nil {
			c.Restarts, c.RestartsTracked = restarts(), true
		}
		c.ResourceVersion = low
		for _, b := range built {
			// A sink's value is bounded by the furthest watch; each event is bounded again by
			// its own watch's value (Checkpoint.Scopes) when the checkpoint is used.
			c.Sinks[b.Key] = min(high, per[b.ID])
			c.ResourceVersion = min(c.ResourceVersion, c.Sinks[b.Key])
		}
		return c
	}
}
