package core

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func policy(p NoisePolicy) Noise {
	return func(*Event) (*NoisePolicy, string) { return &p, "" }
}

// evAbout is an event about object name with a reason, a count and a position.
func evAbout(clk *clocktesting.FakeClock, name, reason string, count int32, pos uint64) *Event {
	e := ev(clk, name)
	e.Reason, e.Count, e.Position = reason, count, pos
	e.UID = types.UID("uid-" + name + "-" + reason)
	return e
}

// Grouping: the first event waits group_wait; what joins meanwhile is folded into one message
// (the latest event, Folded counting the others); later events wait for group_interval; the
// checkpoint stays below every held event until its group's message has left.
func TestNoiseGroups(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	_ = p.Add("s", s, nil, SinkOptions{Noise: policy(NoisePolicy{GroupBy: []string{"reason"}, GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute})})
	p.Start()
	for i, name := range []string{"web-1", "web-2", "web-3"} {
		p.Push(evAbout(clk, name, "BackOff", 1, uint64(10+i)))
	}
	p.Push(evAbout(clk, "db-1", "OOMKilling", 1, 20))
	s.none(t)
	if w := p.Watermark(); w != 9 {
		t.Fatalf("watermark %d while the groups are held, want 9", w)
	}
	waitForTimer(t, clk)
	clk.Step(30 * time.Second)
	got := map[string]int{}
	for len(got) < 2 {
		for _, e := range s.next(t) {
			got[e.Reason+" "+e.Name] = e.Folded
		}
	}
	if got["BackOff web-3"] != 2 {
		t.Errorf("BackOff's message %v: want web-3 standing for 2 more", got)
	}
	if f, ok := got["OOMKilling db-1"]; !ok || f != 0 {
		t.Errorf("OOMKilling's message %v", got)
	}
	waitCount(t, m, "s", OutcomeSkipped, SkipGrouped, 2)
	waitCount(t, m, "s", OutcomeDelivered, "", 2)
	waitPast(t, p, 20)

	// Within group_interval: held until it has passed since the last message.
	p.Push(evAbout(clk, "web-4", "BackOff", 1, 21))
	s.none(t)
	clk.Step(4 * time.Minute)
	s.none(t)
	clk.Step(time.Minute)
	if b := s.next(t); len(b) != 1 || b[0].Folded != 0 {
		t.Fatalf("after group_interval: %d events, folded %d", len(b), b[0].Folded)
	}
	// After a quiet group_interval, an event goes at once.
	clk.Step(6 * time.Minute)
	p.Push(evAbout(clk, "web-5", "BackOff", 1, 22))
	s.next(t)
	_ = p.Shutdown(context.Background())
}

// repeat_interval: a repeating event (its count bumps) is sent again at most every interval,
// carrying the repeats folded meanwhile; min_count holds back events seen fewer times.
func TestNoiseRepeatsAndMinCount(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	_ = p.Add("s", s, nil, SinkOptions{Noise: policy(NoisePolicy{RepeatInterval: time.Hour, MinCount: 2})})
	p.Start()
	p.Push(evAbout(clk, "web", "BackOff", 1, 1)) // count 1 < 2
	waitCount(t, m, "s", OutcomeSkipped, SkipMinCount, 1)
	for c := int32(2); c <= 5; c++ {
		p.Push(evAbout(clk, "web", "BackOff", c, uint64(c)))
	}
	b := s.next(t)
	if b[0].Count != 2 {
		t.Fatalf("first sending has count %d, want 2", b[0].Count)
	}
	waitCount(t, m, "s", OutcomeSkipped, SkipRepeat, 3)
	waitPast(t, p, 5) // suppressed repeats do not hold the checkpoint
	clk.Step(time.Hour)
	p.Push(evAbout(clk, "web", "BackOff", 9, 9))
	b = s.next(t)
	if b[0].Count != 9 || b[0].Folded != 3 {
		t.Fatalf("after repeat_interval: count %d folded %d, want 9 and 3", b[0].Count, b[0].Folded)
	}
	waitPast(t, p, 9)
	_ = p.Shutdown(context.Background())
}

// Shutdown delivers the groups still held instead of leaving them to the next run.
func TestNoiseFlushesOnShutdown(t *testing.T) {
	p, clk, m := newTestPipeline(t)
	s := newRecordingSink()
	_ = p.Add("s", s, nil, SinkOptions{Noise: policy(NoisePolicy{GroupBy: []string{"namespace"}, GroupWait: time.Hour})})
	p.Start()
	p.Push(evAbout(clk, "a", "X", 1, 1))
	p.Push(evAbout(clk, "b", "Y", 1, 2))
	s.none(t)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(m, "s", OutcomeDelivered, ""); n != 1 {
		t.Errorf("delivered %d messages at shutdown, want the one group's", n)
	}
	if w := p.Watermark(); w < 2 {
		t.Errorf("watermark %d after the flush, want past both", w)
	}
}

func TestNoisePolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		p    NoisePolicy
		want string
	}{
		{NoisePolicy{GroupBy: []string{"owner"}}, `group by "owner"`},
		{NoisePolicy{GroupWait: -time.Second}, "group wait -1s is negative"},
		{NoisePolicy{MinCount: -1}, "min count -1"},
	} {
		if err := tc.p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
	if err := (&NoisePolicy{GroupBy: GroupFields}).Validate(); err != nil {
		t.Error(err)
	}
}

// waitPast waits until the watermark is at least want (nothing held is MaxUint64).
func waitPast(t *testing.T, p *Pipeline, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Watermark() < want {
		if time.Now().After(deadline) {
			t.Fatalf("watermark %d, want at least %d", p.Watermark(), want)
		}
		time.Sleep(time.Millisecond)
	}
}
