package dingtalk_test

import (
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/chat/chattest"
	"github.com/heraldproject/herald/core"
)

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks DingTalk's size limit.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "dingtalk:"+rc.sinkURL()+"&msg_type=markdown", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		text := rc.got()[0].Text
		if !strings.Contains(text, "Previous log:\n\n```\n") {
			t.Errorf("the previous log is not a code block after its label:\n%.2000s", text)
		}
		if large && (len(text) < 18000*3/4 || !strings.Contains(text, "Current log:\n\n```\n")) {
			t.Errorf("%d bytes of 18000 used, or no current log", len(text))
		}
		return text
	})
}
