package wechat_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks the 4096-byte limit. Work WeChat
// documents no multi-line code block, so the logs are quoted lines.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk)
		s := build(t, "wechat:"+rc.robotURL()+"&msg_type=markdown", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		text := rc.got()[0].Content
		if strings.Contains(text, "```") || !strings.Contains(text, "Previous log:\n> ") {
			t.Errorf("a code fence in Work WeChat markdown, or the previous log is not quoted:\n%s", text)
		}
		if large && (len(text) < 4096*3/4 || !strings.Contains(text, "Current log:\n> ")) {
			t.Errorf("%d bytes of 4096 used, or no current log:\n%s", len(text), text)
		}
		return text
	})
}
