package dingtalk_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/dingtalk"
)

// FuzzMessages renders arbitrary event text, alone and merged, as text and markdown, and
// checks valid UTF-8 JSON with the text present and within the limit.
func FuzzMessages(f *testing.F) {
	f.Add("Back-off restarting \"app\"\x1e0/3 nodes", "BackOff", "web", uint8(30))
	f.Add("容器\n启动失败 @all <font>", "Fail\x00ed", "\xff\xfe", uint8(200))
	clk := clocktesting.NewFakeClock(chattest.Start)
	text := build(f, "dingtalk:http://127.0.0.1:1/robot/send?access_token=t&at_mobiles=138&label=L", clk)
	md := build(f, "dingtalk:http://127.0.0.1:1/robot/send?access_token=t&msg_type=markdown&cluster_id=c&region=r", clk)
	f.Fuzz(func(t *testing.T, msgs, reason, name string, n uint8) {
		events := chattest.FuzzEvents(msgs, reason, name, int(n))
		for _, c := range []struct {
			s     *dingtalk.Sink
			field string
		}{{text, "content"}, {md, "text"}} {
			d, err := c.s.PreviewDigest(events)
			if err != nil {
				t.Fatal(err)
			}
			one, err := c.s.Preview(events[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range []string{d, one} {
				var m struct {
					MsgType  string            `json:"msgtype"`
					Text     map[string]string `json:"text"`
					Markdown map[string]string `json:"markdown"`
				}
				if !utf8.ValidString(body) || json.Unmarshal([]byte(body), &m) != nil {
					t.Fatalf("body is not UTF-8 JSON: %q", body)
				}
				got := m.Text["content"]
				if m.MsgType == "markdown" {
					got = m.Markdown["text"]
				}
				if len(got) == 0 || len(got) > dingtalk.Limit {
					t.Fatalf("%s: %s of %d bytes, limit %d", m.MsgType, c.field, len(got), dingtalk.Limit)
				}
			}
		}
	})
}
