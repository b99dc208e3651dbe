package teams_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/teams"
)

// FuzzLayouts renders arbitrary event text through the single-event card and the digest, and
// checks every body the way the Workflows receiver does: valid JSON, a valid card, within the
// size limit, and a digest that names or counts each event once.
func FuzzLayouts(f *testing.F) {
	f.Add("Back-off restarting failed container", "BackOff", "shop", uint16(1), uint16(3))
	f.Add(strings.Repeat("容器😀\"\\\x01", 3000), strings.Repeat("R", 400), "ns\nwith newline", uint16(300), uint16(40))
	f.Add("**bold** [x](y) <at>me</at>", "", "", uint16(60), uint16(1))
	f.Add("\xff\xfe invalid utf8 \x00", "\xc3", "a\tb", uint16(2), uint16(2))
	kit.FuzzLayouts(f, "teams:http://127.0.0.1:9/workflows/x?sig=abcdefghij", checkBody, nil)
}

// checkBody checks a preview (indented JSON) as the compact body the sink posts.
func checkBody(t *testing.T, preview []byte) teamsMessage {
	t.Helper()
	var body bytes.Buffer
	if err := json.Compact(&body, preview); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, preview)
	}
	if body.Len() > teams.MaxBody {
		t.Fatalf("body is %d bytes, over %d", body.Len(), teams.MaxBody)
	}
	m, status, why := validateTeams(body.Bytes())
	if status != 0 {
		t.Fatalf("the service would refuse it: %d %s", status, why)
	}
	return m
}
