package feishu_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as a card; the receiver checks Feishu's 20 KB body limit.
func TestRestartLayout(t *testing.T) {
	for _, logBytes := range []int{0, 200 << 10} {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "feishu:"+rc.hook()+"?msg_type=interactive", clk)
		e := chattest.RestartEvent(logBytes)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		got := rc.got()
		if len(got) != 1 {
			t.Fatalf("%d messages, want 1", len(got))
		}
		m := got[0]
		if m.MsgType != "interactive" || !strings.Contains(m.Header, "ContainerRestarted") {
			t.Errorf("message type %q, header %q", m.MsgType, m.Header)
		}
		chattest.CheckRestart(t, m.Header+"\n"+m.Text, e)
		if !strings.Contains(m.Text, "Previous log:\n```\n") {
			t.Errorf("the previous log is not a code block after its label:\n%.2000s", m.Text)
		}
		if logBytes > 0 && (len(m.Raw) < 20000*3/4 || !strings.Contains(m.Text, "Current log:\n```\n")) {
			t.Errorf("%d bytes of 20000 used, or no current log", len(m.Raw))
		}
	}
}
