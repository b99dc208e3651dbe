package teams_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/teams"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks the card and Teams' size limit.
func TestRestartLayout(t *testing.T) {
	for _, logBytes := range []int{0, 200 << 10} {
		f := newFakeWorkflow(t)
		s := build(t, "teams:"+f.hookURL(), sinks.Env{Cluster: "prod-eu-1"})
		e := chattest.RestartEvent(logBytes)
		if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
			t.Fatal(err)
		}
		f.noProblems(t)
		got := f.messages()
		if len(got) != 1 {
			t.Fatalf("%d messages, want 1", len(got))
		}
		m := got[0].Message
		texts := m.texts()
		for _, el := range m.card() {
			for _, fa := range el.Facts {
				texts = append(texts, *fa.Title+": "+*fa.Value)
			}
		}
		chattest.CheckRestart(t, strings.Join(texts, "\n"), e)
		for title, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5"} {
			if v := m.fact(title); v != want {
				t.Errorf("fact %s = %q, want %q", title, v, want)
			}
		}
		mono := 0
		for _, el := range m.card() {
			if el.FontType == "Monospace" {
				mono++
			}
		}
		if want := map[int]int{0: 1, 200 << 10: 2}[logBytes]; mono != want {
			t.Errorf("%d monospace log blocks, want %d", mono, want)
		}
		if logBytes > 0 && len(got[0].Body) < teams.MaxBody/2 {
			t.Errorf("body is %d bytes: the logs were cut more than the limit needs", len(got[0].Body))
		}
	}
}
