package discord_test

import (
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
	"github.com/heraldproject/herald/sinks/discord"
)

// FuzzLayouts renders arbitrary event text through the single-event layout and the digest,
// and checks every body the way the Discord receiver does: valid JSON within every limit, and
// a digest that names or counts each event once.
func FuzzLayouts(f *testing.F) {
	f.Add("Back-off restarting failed container", "BackOff", "shop", uint16(1), uint16(3))
	f.Add(strings.Repeat("容器😀*_~`|\\", 3000), strings.Repeat("R", 400), "ns\nwith newline", uint16(300), uint16(40))
	f.Add("```\n# h\n- l\n> q @everyone", "<@&1>", "", uint16(60), uint16(1))
	f.Add("\xff\xfe invalid utf8 \x00 \\", "\xc3", "a\tb", uint16(2), uint16(2))
	f.Fuzz(func(t *testing.T, message, reason, namespace string, n, groups uint16) {
		cfg, err := discord.ParseConfig(target(t, "discord:http://127.0.0.1:9/api/webhooks/1/x?mentions=here,role:234567890123456789"), sinks.Env{Cluster: "prod"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := discord.NewSink(cfg, sinks.Env{Ctx: context.Background(), Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()

		single, err := s.Preview(event(namespace, "web-1", reason, message))
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
		if m.Content == "" || m.AllowedMentions == nil {
			t.Error("the digest has no summary content or no allowed_mentions")
		}
		named, counted := account(t, m)
		if len(named)+counted != count {
			t.Errorf("the digest names %d and counts %d events, want %d in all", len(named), counted, count)
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
