package dingtalk_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks DingTalk's size limit.
func TestRestartLayout(t *testing.T) {
	for _, logBytes := range []int{0, 200 << 10} {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "dingtalk:"+rc.sinkURL()+"&msg_type=markdown", clk)
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
		text := got[0].Text
		chattest.CheckRestart(t, text, e)
		if !strings.Contains(text, "Previous log:\n\n```\n") {
			t.Errorf("the previous log is not a code block after its label:\n%.2000s", text)
		}
		if logBytes > 0 && (len(text) < 18000*3/4 || !strings.Contains(text, "Current log:\n\n```\n")) {
			t.Errorf("%d bytes of 18000 used, or no current log", len(text))
		}
	}
}
