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
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		f := newFakeWorkflow(t)
		s := build(t, "teams:"+f.hookURL(), sinks.Env{Cluster: "prod-eu-1"})
		if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
			t.Fatal(err)
		}
		f.noProblems(t)
		got := f.messages()[0]
		m := got.Message
		for title, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5"} {
			if v := m.fact(title); v != want {
				t.Errorf("fact %s = %q, want %q", title, v, want)
			}
		}
		texts, mono := m.texts(), 0
		for _, el := range m.card() {
			for _, fa := range el.Facts {
				texts = append(texts, *fa.Title+": "+*fa.Value)
			}
			if el.FontType == "Monospace" {
				mono++
			}
		}
		if want := map[bool]int{false: 1, true: 2}[large]; mono != want {
			t.Errorf("%d monospace log blocks, want %d", mono, want)
		}
		if large && len(got.Body) < teams.MaxBody/2 {
			t.Errorf("body is %d bytes: the logs were cut more than the limit needs", len(got.Body))
		}
		return strings.Join(texts, "\n")
	})
}
