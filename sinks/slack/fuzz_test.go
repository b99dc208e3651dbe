package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzLayouts renders arbitrary event text through the single-event layout and the digest,
// and checks every body the way the Slack receiver does: valid JSON within every limit, and a
// digest that names or counts each event once.
func FuzzLayouts(f *testing.F) {
	f.Add("Back-off restarting failed container", "BackOff", "shop", uint16(1), uint16(3))
	f.Add(strings.Repeat("容器😀<&>", 3000), strings.Repeat("R", 400), "ns\nwith newline", uint16(300), uint16(40))
	f.Add("```\n*bold* _it_ <!channel> &amp;", "<@U1>", "", uint16(60), uint16(1))
	f.Add("\xff\xfe invalid utf8 \x00", "\xc3", "a\tb", uint16(2), uint16(2))
	kit.FuzzLayouts(f, "slack:http://127.0.0.1:9/services/T/B/x?mentions=here,S0123ABC", checkBody, nil)
}

func checkBody(t *testing.T, body []byte) slackMessage {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("not valid JSON:\n%s", body)
	}
	m, code, why := validateSlack(body)
	if code != "" {
		t.Fatalf("Slack would refuse it: %s: %s", code, why)
	}
	return m
}
