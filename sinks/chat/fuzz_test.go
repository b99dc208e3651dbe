package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

// FuzzDigest merges arbitrary messages, reasons and names and checks what every chat sink
// relies on: the text stays within the limit, is valid UTF-8 and valid JSON, and every event
// is named or counted.
func FuzzDigest(f *testing.F) {
	f.Add("Back-off restarting failed container\x1e0/3 nodes are available\x1e", "BackOff", "web", uint16(2048), uint8(40))
	f.Add("日本語のメッセージ\"quoted\"\n\\x", "Fail\x00ed", "\xff\xfe", uint16(300), uint8(200))
	f.Add(strings.Repeat("a", 5000), strings.Repeat("R", 400), strings.Repeat("n", 300), uint16(4096), uint8(3))
	f.Fuzz(func(t *testing.T, msgs, reason, name string, limit uint16, n uint8) {
		parts := strings.Split(msgs, "\x1e")
		var events []*core.Event
		for i := range int(n) + 1 {
			r := reason
			if i%3 == 1 {
				r += "-x"
			}
			events = append(events, ev("ns"+itoa(i%4), name+itoa(i), r, parts[i%len(parts)], i))
		}
		d := Summarize(events, "c", nil)
		payload, v, err := FitDigest(d, FitOptions{Limit: int(limit)}, textLayout)
		if err != nil {
			// Only a limit smaller than the fixed parts may fail: short fields are capped at
			// 256 bytes, so 2048 always fits a digest that names nothing.
			if limit >= 2048 {
				t.Fatalf("limit %d: %v", limit, err)
			}
			return
		}
		var body struct{ Text string }
		if err := json.Unmarshal(payload, &body); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if len(body.Text) > int(limit) || !utf8.ValidString(body.Text) {
			t.Fatalf("%d bytes over limit %d, or invalid UTF-8", len(body.Text), limit)
		}
		if v.Named()+v.Unnamed() != len(events) {
			t.Fatalf("%d named + %d counted != %d events", v.Named(), v.Unnamed(), len(events))
		}
		single, err := FitSingle(FieldsOf(events[0], "c", nil), int(limit), singleLayout)
		if err != nil {
			if limit >= 2048 {
				t.Fatalf("single, limit %d: %v", limit, err)
			}
			return
		}
		if err := json.Unmarshal(single, &body); err != nil || len(body.Text) > int(limit) || !utf8.ValidString(body.Text) {
			t.Fatalf("single: %v, %d bytes, limit %d", err, len(body.Text), limit)
		}
	})
}

// FuzzFencedTail checks what the Slack and Discord restart layouts rely on for any log: the
// block is valid UTF-8, within max UTF-16 code units, exactly one code block, and ends where
// the log ends.
func FuzzFencedTail(f *testing.F) {
	f.Add("line 1\nline ``` 2\nlast", uint16(20))
	f.Add("日本😀\n\xff```````\x00", uint16(12))
	f.Add(strings.Repeat("a&b\n", 3000), uint16(3000))
	f.Fuzz(func(t *testing.T, log string, max uint16) {
		esc := func(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }
		got := FencedTail(log, int(max), esc)
		if got == "" {
			return
		}
		if !utf8.ValidString(got) || Width(got) > int(max) {
			t.Fatalf("max %d: %d units, valid %v: %q", max, Width(got), utf8.ValidString(got), got)
		}
		if !strings.HasPrefix(got, "```\n") || !strings.HasSuffix(got, "\n```") || strings.Count(got, "```") != 2 {
			t.Fatalf("not one code block: %q", got)
		}
		clean := strings.ToValidUTF8(log, "\uFFFD")
		if last, _ := utf8.DecodeLastRuneInString(clean); len(clean) > 0 && last != '`' && last != '&' {
			body := strings.TrimSuffix(got, "\n```")
			if r, _ := utf8.DecodeLastRuneInString(body); r != last {
				t.Fatalf("the end of the log is lost: log ends %q, block %q", last, got)
			}
		}
	})
}
