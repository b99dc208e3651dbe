package wechat_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks the 4096-byte limit. Work WeChat
// documents no multi-line code block, so the logs are quoted lines.
func TestRestartLayout(t *testing.T) {
	for _, logBytes := range []int{0, 200 << 10} {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk)
		s := build(t, "wechat:"+rc.robotURL()+"&msg_type=markdown", clk)
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
		text := got[0].Content
		chattest.CheckRestart(t, text, e)
		if strings.Contains(text, "```") {
			t.Errorf("a code fence in Work WeChat markdown:\n%s", text)
		}
		if !strings.Contains(text, "Previous log:\n> ") {
			t.Errorf("the previous log is not quoted:\n%s", text)
		}
		if logBytes > 0 && (len(text) < 4096*3/4 || !strings.Contains(text, "Current log:\n> ")) {
			t.Errorf("%d bytes of 4096 used, or no current log:\n%s", len(text), text)
		}
	}
}
