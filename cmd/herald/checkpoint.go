package main

import (
	"errors"
	"fmt"

	"github.com/golang/glog"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/core"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// loadCheckpoint opens --checkpoint and reads where the last run stopped. It returns a nil store
// for --checkpoint=off, and a nil Since when there is nothing to resume from. A store that cannot
// be read (RBAC, I/O) stops herald; a checkpoint that cannot be decoded is logged and ignored.
func loadCheckpoint(o *options, client kubernetes.Interface) (checkpoint.Store, *kubesource.Since, checkpoint.Checkpoint, error) {
	store, err := checkpoint.Parse(o.checkpoint, client)
	if err != nil || store == nil {
		return nil, nil, checkpoint.Checkpoint{}, err
	}
	cp, err := store.Load()
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		glog.Infof("checkpoint %s: none saved yet; starting without replay (events present now are recorded, not delivered)", store)
		return store, nil, checkpoint.Checkpoint{}, nil
	case err != nil && isDecodeError(err):
		glog.Errorf("checkpoint %s: %v; ignoring it and starting without replay (it is overwritten on the next save)", store, err)
		return store, nil, checkpoint.Checkpoint{}, nil
	case err != nil:
		return nil, nil, checkpoint.Checkpoint{}, fmt.Errorf("--checkpoint=%s: %v", o.checkpoint, err)
	}
	glog.Infof("checkpoint %s: resuming after resourceVersion %d (saved %s)", store, cp.ResourceVersion, cp.Time.Format("2006-01-02T15:04:05Z07:00"))
	return store, &kubesource.Since{ResourceVersion: cp.ResourceVersion, Time: cp.Time}, cp, nil
}

func isDecodeError(err error) bool {
	var d *checkpoint.DecodeError
	return errors.As(err, &d)
}

// deliveredPosition is the checkpoint position: the smaller of the source's position and the
// pipeline's watermark, the source's read first (see core.Pipeline.Watermark). 0 while the
// source has not listed yet.
func deliveredPosition(src *kubesource.Source, p *core.Pipeline) func() uint64 {
	return func() uint64 {
		s := src.Position()
		if s == 0 {
			return 0
		}
		return min(s, p.Watermark())
	}
}
