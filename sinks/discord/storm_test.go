package discord_test

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/discord"
)

// TestStormIsPacedAndAccounted sends 1,000 Warning events through the sink as core's pipeline
// would (common/chat/chattest.Storm, on a fake clock). Discord must see at most 20 messages in
// any 60 seconds, each within its limits, and every event must be named or counted exactly once.
func TestStormIsPacedAndAccounted(t *testing.T) {
	for _, spacing := range []time.Duration{120 * time.Millisecond, 5 * time.Millisecond} {
		t.Run("one event every "+spacing.String(), func(t *testing.T) { testStorm(t, spacing) })
	}
}

func testStorm(t *testing.T, spacing time.Duration) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	f := newFakeDiscord(t)
	f.now = clk.Now
	cfg, err := discord.ParseConfig(target(t, "discord:"+f.hookURL()+"?mentions=here"), sinks.Env{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pacing.Clock = clk
	s, err := discord.NewFromConfig(sinks.Env{Ctx: context.Background(), Cluster: "prod", Location: time.UTC}, cfg)
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
	seen := map[string]int{}
	counted := 0
	var at []time.Time
	for _, m := range msgs {
		named, more := account(t, m.Message)
		for _, name := range named {
			seen[name]++
		}
		counted += more
		at = append(at, m.At)
	}
	for name, c := range seen {
		if c > 1 {
			t.Errorf("%s is named in %d messages", name, c)
		}
	}
	if len(seen)+counted != n {
		t.Errorf("the messages name %d events and count %d more: %d, want %d", len(seen), counted, len(seen)+counted, n)
	}
	worst := chattest.MaxInWindow(at, time.Minute)
	if worst > 20 {
		t.Errorf("%d messages within 60 s, want at most 20", worst)
	}
	t.Logf("%d events over %s became %d messages in %d exports (at most %d in any minute), %d named, %d counted",
		n, events[n-1].Observed.Sub(chattest.Start), len(msgs), res.Exports, worst, len(seen), counted)
}
