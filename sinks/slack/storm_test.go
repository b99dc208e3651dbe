package slack_test

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/slack"
)

// TestStormIsPacedAndAccounted sends 1,000 Warning events through the sink as core's pipeline
// would (sinks/chat/chattest.Storm, on a fake clock). Slack must see at most 20 messages in
// any 60 seconds, each within its limits, and every event must be named or counted exactly once.
func TestStormIsPacedAndAccounted(t *testing.T) {
	for _, spacing := range []time.Duration{120 * time.Millisecond, 5 * time.Millisecond} {
		t.Run("one event every "+spacing.String(), func(t *testing.T) { testStorm(t, spacing) })
	}
}

func testStorm(t *testing.T, spacing time.Duration) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	f := newFakeSlack(t)
	f.now = clk.Now
	cfg, err := slack.ParseConfig(target(t, "slack:"+f.hookURL()+"?mentions=here"), sinks.Env{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pacing.Clock = clk
	s, err := slack.NewSink(cfg, sinks.Env{Ctx: context.Background(), Cluster: "prod", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const n = 1000
	events := chattest.StormEvents(n, chattest.Start, spacing)
	res := chattest.Storm(t, clk, s, events, 500, 30*time.Minute)
	if len(res.Errors) > 0 || res.Delivered != n {
		t.Fatalf("delivered %d of %d, errors %v", res.Delivered, n, res.Errors)
	}

	f.noProblems(t)
	msgs := f.messages()
	sent := make([]chattest.Sent, len(msgs))
	for i, m := range msgs {
		named, more := account(t, m.Message)
		sent[i] = chattest.Sent{Named: named, More: more, At: m.At}
	}
	named, counted, worst := chattest.CheckAccounted(t, n, 20, sent)
	t.Logf("%d events over %s became %d messages in %d exports (at most %d in any minute), %d named, %d counted",
		n, events[n-1].Observed.Sub(chattest.Start), len(msgs), res.Exports, worst, named, counted)
}
