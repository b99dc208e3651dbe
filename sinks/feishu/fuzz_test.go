package feishu_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/feishu"
)

// FuzzMessages renders arbitrary event text, alone and merged, as a card and as text, and
// checks valid UTF-8 JSON within Feishu's 20 KB (with room for the signature).
func FuzzMessages(f *testing.F) {
	f.Add("Back-off restarting \"app\"\x1e0/3 nodes", "BackOff", "web", uint8(30))
	f.Add("容器\n启动失败 <at id=all></at>", "Fail\x00ed", "\xff\xfe", uint8(200))
	clk := clocktesting.NewFakeClock(chattest.Start)
	card := build(f, "feishu:http://127.0.0.1:1/open-apis/bot/v2/hook/t?at_all=true&label=L", clk)
	text := build(f, "feishu:http://127.0.0.1:1/open-apis/bot/v2/hook/t?msg_type=text", clk)
	f.Fuzz(func(t *testing.T, msgs, reason, name string, n uint8) {
		events := chattest.FuzzEvents(msgs, reason, name, int(n))
		for _, s := range []*feishu.Sink{card, text} {
			d, err := s.PreviewDigest(events)
			if err != nil {
				t.Fatal(err)
			}
			one, err := s.Preview(events[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range []string{d, one} {
				var m map[string]any
				if !utf8.ValidString(body) || json.Unmarshal([]byte(body), &m) != nil {
					t.Fatalf("body is not UTF-8 JSON: %q", body)
				}
				// A preview is indented for people; the sink posts it compact.
				var sent bytes.Buffer
				if err := json.Compact(&sent, []byte(body)); err != nil {
					t.Fatal(err)
				}
				if sent.Len() > feishu.Limit-80 {
					t.Fatalf("body of %d bytes leaves no room for the signature within %d", sent.Len(), feishu.Limit)
				}
			}
		}
	})
}
