package wechat_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// FuzzMessages renders arbitrary event text, alone and merged, in each message type, and
// checks what Work WeChat checks: valid JSON, UTF-8, content present and within its limit.
func FuzzMessages(f *testing.F) {
	f.Add("Back-off restarting \"app\"\x1e0/3 nodes", "BackOff", "web", uint8(30))
	f.Add("容器\n启动失败 <@all> <font color=\"warning\">", "Fail\x00ed", "\xff\xfe", uint8(200))
	clk := clocktesting.NewFakeClock(chattest.Start)
	text := build(f, "wechat:http://127.0.0.1:1/cgi-bin/webhook/send?key=k&mentioned_list=a,@all&label=L", clk)
	md := build(f, "wechat:http://127.0.0.1:1/cgi-bin/webhook/send?key=k&msg_type=markdown&mentioned_list=a", clk)
	f.Fuzz(func(t *testing.T, msgs, reason, name string, n uint8) {
		events := chattest.FuzzEvents(msgs, reason, name, int(n))
		digestText, err1 := text.PreviewDigest(events)
		oneText, err2 := text.Preview(events[0])
		digestMD, err3 := md.PreviewDigest(events)
		oneMD, err4 := md.Preview(events[0])
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		check(t, "text", 2048, digestText)
		check(t, "text", 2048, oneText)
		check(t, "markdown", 4096, digestMD)
		check(t, "markdown", 4096, oneMD)
	})
}

func check(t *testing.T, msgType string, limit int, body string) {
	t.Helper()
	var m map[string]json.RawMessage
	if !utf8.ValidString(body) || json.Unmarshal([]byte(body), &m) != nil {
		t.Fatalf("%s: body is not UTF-8 JSON: %q", msgType, body)
	}
	var part struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(m[msgType], &part); err != nil {
		t.Fatalf("%s: %v", msgType, err)
	}
	if n := len(part.Content); n == 0 || n > limit {
		t.Fatalf("%s: content of %d bytes, limit %d", msgType, n, limit)
	}
}
