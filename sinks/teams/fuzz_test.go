package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat/chattest"
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
	f.Fuzz(func(t *testing.T, message, reason, namespace string, n, groups uint16) {
		cfg, err := teams.ParseConfig(target(t, "teams:http://127.0.0.1:9/workflows/x?sig=abcdefghij"), sinks.Env{Cluster: "prod"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := teams.NewSink(cfg, sinks.Env{Ctx: context.Background(), Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()

		e := event(namespace, "web-1", reason, message)
		single, err := s.Preview(e)
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		checkBody(t, []byte(single))
		restart, err := s.Preview(chattest.FuzzRestart(message, reason))
		if err != nil {
			t.Fatalf("restart preview: %v", err)
		}
		checkBody(t, []byte(restart))

		count := int(n%600) + 1
		events := make([]*core.Event, count)
		for i := range events {
			events[i] = event(fmt.Sprintf("%s-%d", namespace, i%(int(groups%50)+1)), fmt.Sprintf("pod-%d", i), reason+fmt.Sprint(i%3), message)
			events[i].LastTimestamp = metav1.NewTime(lastSeen.Add(time.Duration(i) * time.Second))
		}
		digest, err := s.PreviewDigest(events)
		if err != nil {
			t.Fatalf("digest: %v", err)
		}
		m := checkBody(t, []byte(digest))
		named, counted := account(t, m)
		if len(named)+counted != count {
			t.Errorf("the digest names %d and counts %d events, want %d in all", len(named), counted, count)
		}
	})
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
