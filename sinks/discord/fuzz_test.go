package discord_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzLayouts renders arbitrary event text through the single-event layout and the digest,
// and checks every body the way the Discord receiver does: valid JSON within every limit, and
// a digest that names or counts each event once.
func FuzzLayouts(f *testing.F) {
	f.Add("Back-off restarting failed container", "BackOff", "shop", uint16(1), uint16(3))
	f.Add(strings.Repeat("容器😀*_~`|\\", 3000), strings.Repeat("R", 400), "ns\nwith newline", uint16(300), uint16(40))
	f.Add("```\n# h\n- l\n> q @everyone", "<@&1>", "", uint16(60), uint16(1))
	f.Add("\xff\xfe invalid utf8 \x00 \\", "\xc3", "a\tb", uint16(2), uint16(2))
	kit.FuzzLayouts(f, "discord:http://127.0.0.1:9/api/webhooks/1/x?mentions=here,role:234567890123456789", checkBody, func(t *testing.T, m dcMessage) {
		if m.Content == "" || m.AllowedMentions == nil {
			t.Error("the digest has no summary content or no allowed_mentions")
		}
	})
}

func checkBody(t *testing.T, body []byte) dcMessage {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("not valid JSON:\n%s", body)
	}
	m, code, why := validateDiscord(body)
	if code != 0 {
		t.Fatalf("Discord would refuse it: %d %s\n%s", code, why, body)
	}
	return m
}
