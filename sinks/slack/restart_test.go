package slack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks Slack's limits.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		f := newFakeSlack(t)
		s := build(t, "slack:"+f.hookURL()+"?mentions=here", sinks.Env{Cluster: "prod-eu-1"})
		if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
			t.Fatal(err)
		}
		f.noProblems(t)
		m := f.messages()[0].Message
		if h := m.Blocks[0]; h.Type != "header" || !strings.HasPrefix(h.Text.Text, "container app of pod shop/checkout-7d4b9c6f5-x2x9z restarted: exit code 137 (OOMKilled)") {
			t.Errorf("header %+v", h.Text)
		}
		for label, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5", "Finished": "2026-11-23 18:53:13 UTC"} {
			if v := m.field(label); v != want {
				t.Errorf("field %s = %q, want %q", label, v, want)
			}
		}
		if !strings.Contains(m.Text, "restarted: exit code 137") || !strings.Contains(m.Text, "<!here>") {
			t.Errorf("notification text %q", m.Text)
		}
		logs := 0
		for _, txt := range m.texts("mrkdwn") {
			if strings.HasPrefix(txt, "*Previous log*\n```\n") || strings.HasPrefix(txt, "*Current log*\n```\n") {
				logs++
				if !strings.HasSuffix(txt, "\n```") {
					t.Errorf("a log section does not end its code block: …%s", txt[max(0, len(txt)-40):])
				}
			}
		}
		if want := map[bool]int{false: 1, true: 2}[large]; logs != want {
			t.Errorf("%d log sections, want %d", logs, want)
		}
		return strings.Join(m.texts(""), "\n")
	})
}
