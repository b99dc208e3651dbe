package feishu_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as a card; the receiver checks Feishu's 20 KB body limit.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "feishu:"+rc.hook()+"?msg_type=interactive", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		m := rc.got()[0]
		if m.MsgType != "interactive" || !strings.Contains(m.Header, "ContainerRestarted") || !strings.Contains(m.Text, "Previous log:\n```\n") {
			t.Errorf("message type %q, header %q, or the previous log is not a code block:\n%.2000s", m.MsgType, m.Header, m.Text)
		}
		if large && (len(m.Raw) < 20000*3/4 || !strings.Contains(m.Text, "Current log:\n```\n")) {
			t.Errorf("%d bytes of 20000 used, or no current log", len(m.Raw))
		}
		return m.Header + "\n" + m.Text
	})
}
