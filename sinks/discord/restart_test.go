package discord_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks Discord's embed limits.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		f := newFakeDiscord(t)
		s := build(t, "discord:"+f.hookURL(), sinks.Env{Cluster: "prod-eu-1"})
		if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
			t.Fatal(err)
		}
		f.noProblems(t)
		em := f.messages()[0].Message.Embeds[0]
		if !strings.HasPrefix(em.Title, "container app of pod shop/checkout-7d4b9c6f5-x2x9z restarted: exit code 137 (OOMKilled)") {
			t.Errorf("title %q", em.Title)
		}
		for name, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5"} {
			if v := em.field(name); v != want {
				t.Errorf("field %s = %q, want %q", name, v, want)
			}
		}
		texts := []string{em.Title, em.Description}
		for _, fl := range em.Fields {
			texts = append(texts, fl.Name, fl.Value)
			if wide := fl.Name == "Recent events" || fl.Name == "Termination message"; fl.Inline == wide {
				t.Errorf("field %s inline %v", fl.Name, fl.Inline)
			}
		}
		if !strings.HasPrefix(em.Description, "**Previous log**\n```\n") || !strings.HasSuffix(em.Description, "\n```") {
			t.Errorf("description does not hold the logs in code blocks: %.80q…", em.Description)
		}
		if large && (!strings.Contains(em.Description, "\n```\n**Current log**\n```\n…") || chars(em.Description) < 3000) {
			t.Errorf("the current log is not shown after the previous one, or the room is not used (%d characters)", chars(em.Description))
		}
		return strings.Join(texts, "\n")
	})
}
