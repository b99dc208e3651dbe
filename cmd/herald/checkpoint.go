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
// nothing to resume from. A store that cannot be read (RBAC, I/O) stops herald; a checkpoint that
// cannot be decoded is logged and passed over.
func loadCheckpoint(o *options, client kubernetes.Interface) ([]checkpoint.Target, checkpoint.Checkpoint, error) {
	targets, err := checkpoint.Parse(o.checkpoint, client, o.checkpointEvery)
	if err != nil || len(targets) == 0 {
		return nil, checkpoint.Checkpoint{}, err
	}
	cp, from, err := checkpoint.LoadNewest(targets)
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		glog.Infof("checkpoint %s: none saved yet; starting without replay (events present now are recorded, not delivered)", o.checkpoint)
		return targets, checkpoint.Checkpoint{}, nil
	case err != nil:
		return nil, checkpoint.Checkpoint{}, fmt.Errorf("--checkpoint=%s: %v", o.checkpoint, err)
	}
	glog.Infof("checkpoint %s: resuming after resourceVersion %d (saved %s)", from, cp.ResourceVersion, cp.Time.Format("2006-01-02T15:04:05Z07:00"))
	return targets, cp, nil
}

// resume tells the pipeline where each sink stopped and returns where the source must start:
// the lowest of the sinks' positions (a sink new since the checkpoint starts at its overall
// position). Nil when there is no checkpoint.
func resume(cp checkpoint.Checkpoint, built []*sinks.Built, p *core.Pipeline) *kubesource.Since {
	if cp.ResourceVersion == 0 {
		return nil
	}
	start := uint64(math.MaxUint64)
	for _, b := range built {
		pos := cp.Sink(b.Key)
		p.SetDelivered(b.ID, pos)
		start = min(start, pos)
		if pos > cp.ResourceVersion {
			glog.Infof("checkpoint: sink %s had everything up to resourceVersion %d; it skips what is replayed to the others", b.ID, pos)
		}
	}
	return &kubesource.Since{ResourceVersion: start, Time: cp.Time}
}

// forgetDelivered undoes resume's per-sink positions: the checkpoint belongs to another store.
func forgetDelivered(built []*sinks.Built, p *core.Pipeline) func() {
	return func() {
		for _, b := range built {
			p.SetDelivered(b.ID, 0)
		}
	}
}

// deliveredPositions are the checkpoint positions: the pipeline's watermarks, overall and per
// sink, each bounded by the source's position, the source's read first (see
// core.Pipeline.Watermark). Zero while the source has not listed yet.
func deliveredPositions(src *kubesource.Source, p *core.Pipeline, built []*sinks.Built) func() checkpoint.Checkpoint {
	return func() checkpoint.Checkpoint {
		s := src.Position()
		if s == 0 {
			return checkpoint.Checkpoint{}
		}
		per := p.SinkWatermarks()
		c := checkpoint.Checkpoint{ResourceVersion: min(s, p.Watermark()), Sinks: make(map[string]uint64, len(built))}
		for _, b := range built {
			c.Sinks[b.Key] = min(s, per[b.ID])
		}
		return c
	}
}
