package chat

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

// recorder is a Sender that records what Export asks of it and fails as told.
type recorder struct {
	singles []string
	digests [][]string
	fail    map[string]error // by involved object name
}

func (r *recorder) SendEvent(_ context.Context, e *core.Event) error {
	if err := r.fail[e.InvolvedObject.Name]; err != nil {
		return err
	}
	r.singles = append(r.singles, e.InvolvedObject.Name)
	return nil
}

func (r *recorder) SendDigest(_ context.Context, events []*core.Event) error {
	var names []string
	for _, e := range events {
		names = append(names, e.InvolvedObject.Name)
	}
	r.digests = append(r.digests, names)
	return nil
}

func TestExportPolicy(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := NewPacer(PacerOptions{PerMinute: 20, Burst: 3, Clock: clk})
	r := &recorder{}
	ctx := context.Background()

	// A quiet moment: two events, two free slots: two messages.
	if err := Export(ctx, p, storm(2), r); err != nil {
		t.Fatal(err)
	}
	if len(r.singles) != 2 || len(r.digests) != 0 {
		t.Fatalf("singles %v digests %v", r.singles, r.digests)
	}
	// One slot left, two events: one digest of both.
	if err := Export(ctx, p, storm(2), r); err != nil {
		t.Fatal(err)
	}
	if len(r.digests) != 1 || len(r.digests[0]) != 2 {
		t.Fatalf("digests %v, want one of 2 events", r.digests)
	}
	// More events than the burst: a digest, even with slots free.
	clk.Step(time.Minute)
	if err := Export(ctx, p, storm(10), r); err != nil {
		t.Fatal(err)
	}
	if len(r.digests) != 2 || len(r.digests[1]) != 10 {
		t.Fatalf("digests %v", r.digests)
	}
	if err := Export(ctx, p, nil, r); err != nil || len(r.digests) != 2 || len(r.singles) != 2 {
		t.Fatal("an empty batch sent something")
	}
}

func TestExportSeparateMessagesFailures(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	ctx := context.Background()
	events := storm(3)
	retry := errors.New("HTTP 503")
	refused := core.Permanent(errors.New("errcode 40058"))

	// A refused event is rejected alone; the others are delivered.
	r := &recorder{fail: map[string]error{"pod-1": refused}}
	err := Export(ctx, NewPacer(PacerOptions{Burst: 3, Clock: clk}), events, r)
	retryEvents, _, rejected, _ := core.Fates(err, events)
	if len(retryEvents) != 0 || len(rejected) != 1 || rejected[0] != events[1] {
		t.Fatalf("got %v, want pod-1 rejected only", err)
	}
	var pe *core.PartialError
	if len(r.singles) != 2 {
		t.Fatalf("delivered %v", r.singles)
	}

	// A retryable failure stops the batch: the failed event and the rest come back.
	r = &recorder{fail: map[string]error{"pod-1": retry}}
	err = Export(ctx, NewPacer(PacerOptions{Burst: 3, Clock: clk}), events, r)
	if !errors.As(err, &pe) || core.IsPermanent(err) || len(pe.Failed) != 2 || pe.Failed[0] != events[1] {
		t.Fatalf("got %v, want a retryable PartialError of pod-1 and pod-2", err)
	}

	// A single event's error is returned as is.
	r = &recorder{fail: map[string]error{"pod-0": retry}}
	if err := Export(ctx, NewPacer(PacerOptions{Clock: clk}), events[:1], r); !errors.Is(err, retry) || errors.As(err, &pe) {
		t.Fatalf("got %v", err)
	}
}
