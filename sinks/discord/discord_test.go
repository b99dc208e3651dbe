package discord_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/discord"
)

func TestEmbedLayout(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	_, got := kit.Send(t, "mentions=role:234567890123456789,user:345678901234567890&username=herald&avatar_url=https://example.com/h.png", sinks.Env{Cluster: "prod-eu-1", Location: tokyo}, template.SampleEvent())
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0].Message
	if m.Content != "<@&234567890123456789> <@345678901234567890>" {
		t.Errorf("content %q, want the mentions", m.Content)
	}
	a := m.AllowedMentions
	if a == nil || len(a.Parse) != 0 || !slices.Equal(a.Roles, []string{"234567890123456789"}) || !slices.Equal(a.Users, []string{"345678901234567890"}) {
		t.Errorf("allowed_mentions %+v, want exactly the configured role and user", a)
	}
	if m.Username != "herald" || m.AvatarURL != "https://example.com/h.png" {
		t.Errorf("username %q avatar %q", m.Username, m.AvatarURL)
	}
	if len(m.Embeds) != 1 {
		t.Fatalf("%d embeds", len(m.Embeds))
	}
	em := m.Embeds[0]
	if em.Color == nil || *em.Color != discord.ColorWarning {
		t.Errorf("colour %v, want orange for a Warning", em.Color)
	}
	if em.Timestamp != "2026-11-23T18:53:15Z" {
		t.Errorf("timestamp %q", em.Timestamp)
	}
	if !strings.Contains(em.Title, "BackOff") || !strings.Contains(em.Title, "shop/checkout\\-7d4b9c6f5\\-x2x9z") && !strings.Contains(em.Title, "shop/checkout-7d4b9c6f5-x2x9z") {
		t.Errorf("title %q", em.Title)
	}
	if !strings.Contains(em.Description, "容器启动失败") {
		t.Errorf("description %q lacks the message", em.Description)
	}
	want := map[string]string{"Cluster": "prod-eu-1", "Namespace": "shop", "Kind": "Pod", "Reason": "BackOff", "Count": "12", "Time": "2026-11-24 03:53:15 JST", "Node": "node-3"}
	for name, v := range want {
		if got := em.field(name); got != v {
			t.Errorf("field %s = %q, want %q", name, got, v)
		}
	}
}

func TestNormalEventsAreGreen(t *testing.T) {
	e := event("shop", "web-1", "Pulled", "pulled image")
	e.Type = "Normal"
	_, got := kit.Send(t, "level=Normal", sinks.Env{}, e)
	if c := got[0].Message.Embeds[0].Color; c == nil || *c != discord.ColorNormal {
		t.Errorf("colour %v, want green", c)
	}
}

func TestEventTextNeverPingsOrFormats(t *testing.T) {
	e := event("shop", "web-1", "Failed", "**bold** @everyone <@&234567890123456789> [click](https://evil.example)\n# heading")
	_, got := kit.Send(t, "", sinks.Env{}, e)
	m := got[0].Message
	if m.Content != "" {
		t.Errorf("content %q: event text must stay out of the content, the only part that pings", m.Content)
	}
	if m.AllowedMentions == nil || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions %+v, want parse: [] so nothing pings", m.AllowedMentions)
	}
	d := m.Embeds[0].Description
	for _, raw := range []string{"**bold**", "[click]", "\n# heading"} {
		if strings.Contains(d, raw) {
			t.Errorf("markdown %q reached Discord unescaped: %q", raw, d)
		}
	}
	if !strings.Contains(d, `\*\*bold\*\*`) {
		t.Errorf("description %q", d)
	}
}

func TestWaitAndThread(t *testing.T) {
	_, got := kit.Send(t, "wait=true&thread_id=345678901234567890&level=Warning&max_per_minute=5", sinks.Env{}, event("shop", "web-1", "BackOff", "x"))
	if q := got[0].Query; q.Get("wait") != "true" || q.Get("thread_id") != "345678901234567890" || len(q) != 2 {
		t.Errorf("query %v, want wait=true and thread_id only", q)
	}
}

func TestStatuses(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "discord:"+serverURL+"/api/webhooks/1/tok", sinks.Env{})
		return s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
	})
}

func TestDiscordReplies(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header string
		body   string
		want   string
		wait   time.Duration
	}{
		{"rate limited, retry_after in the body only", 429, "", `{"message": "You are being rate limited.", "retry_after": 1.234, "global": false}`, httpxtest.Retry, 1234 * time.Millisecond},
		{"rate limited, header and body", 429, "3", `{"message": "You are being rate limited.", "retry_after": 2.5, "global": false}`, httpxtest.Retry, 3 * time.Second},
		{"global rate limit", 429, "", `{"message": "You are being rate limited.", "retry_after": 64.57, "global": true}`, httpxtest.Retry, 64570 * time.Millisecond},
		{"unknown webhook", 404, "", `{"message": "Unknown Webhook", "code": 10015}`, httpxtest.Permanent, 0},
		{"invalid token", 401, "", `{"message": "Invalid Webhook Token", "code": 50027}`, httpxtest.Credential, 0},
		{"invalid form body", 400, "", `{"code": 50035, "errors": {"embeds": {"0": {"description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}}, "message": "Invalid Form Body"}`, httpxtest.Permanent, 0},
		{"bad gateway", 502, "", `<html>502</html>`, httpxtest.Retry, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			f.Reply = func(_ int, w http.ResponseWriter) bool {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
				return true
			}
			s := build(t, "discord:"+f.hookURL(), sinks.Env{})
			err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
			httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: c.status, Want: c.want, Wait: c.wait}, err)
			httpxtest.AssertNoSecret(t, err, f.token)
		})
	}
}

func TestLongTextsAreCutToDiscordLimits(t *testing.T) {
	f := newFakeDiscord(t)
	s := build(t, "discord:"+f.hookURL()+"?mentions=everyone", sinks.Env{Cluster: strings.Repeat("c", 400)})
	e := event("shop", strings.Repeat("n", 300), strings.Repeat("R*", 200), strings.Repeat("容器启动失败😀 *_~ ", 20000))
	r := event("shop", strings.Repeat("n", 300), "ContainerRestarted", "restarted")
	r.Restart = &core.PodRestart{Container: "app", Pod: strings.Repeat("p", 300), RestartCount: 4, PreviousLog: strings.Repeat("line ``` x\n", 2000) + "THE LAST LINE\n"}
	for _, ev := range []*core.Event{e, r} {
		if err := s.Export(context.Background(), []*core.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	f.NoProblems(t)
	if em := f.Messages()[0].Message.Embeds[0]; !strings.HasSuffix(em.Description, chat.Marker) {
		t.Errorf("the cut description does not end with the marker")
	}
	log := f.Messages()[1].Message.Embeds[0].Description
	if !strings.Contains(log, "THE LAST LINE") || !strings.HasPrefix(log, "**Previous log**\n```\n"+chat.Marker) || !strings.HasSuffix(log, "\n```") || strings.Count(log, "```") != 2 {
		t.Errorf("description %q: want the end of the log in one code block", log)
	}
}

func TestDigestAccountsForEveryEvent(t *testing.T) {
	got := kit.DigestAccounts(t, "mentions=here", 10)
	if c := got.Message.Embeds[0].Color; c == nil || *c != discord.ColorDigestWarning {
		t.Errorf("digest colour %v, want red", c)
	}
}

func TestPreviewIsTheBodySent(t *testing.T) {
	kit.TestPreviewIsTheBodySent(t, template.SampleRestartEvent())
}

func TestBodyTemplateOverride(t *testing.T) {
	f := newFakeDiscord(t)
	tmpl := url.QueryEscape(`{"content":"{{ .Reason }}: {{ .Message }}"}`)
	s := build(t, "discord:"+f.hookURL()+"?body_template="+tmpl, sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", `say "hi"`)}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	if m := f.Messages()[0].Message; m.Content != `BackOff: say "hi"` || len(m.Embeds) != 0 {
		t.Errorf("template body %+v", m)
	}
}

func TestConfigErrors(t *testing.T) {
	kit.TestConfigErrors(t, [][2]string{
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?username=Discord%20Alerts", `"username"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?username=" + strings.Repeat("x", 81), `"username"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?mentions=@oncall", `"mentions"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?avatar_url=herald.png", `"avatar_url"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?wait=maybe", `"wait"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?thread_id=general", `"thread_id"`},
		{"discord:https://discord.com/api/webhooks/1/SECRETTOKEN?mention=everyone", `did you mean "mentions"`},
		{"discord:discord.com/api/webhooks/1/SECRETTOKEN", "webhook URL"},
	}, "SECRETTOKEN")
}

func TestTokenIsRedactedInTheLoggedValue(t *testing.T) {
	b, err := sinks.Build(1, "discord:https://discord.com/api/webhooks/123456789012345678/wHk-T0ken_abcdef?wait=true", sinks.Env{Ctx: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Sink.Close()
	if strings.Contains(b.Redacted, "wHk-T0ken_abcdef") {
		t.Errorf("the token is in the value herald logs: %s", b.Redacted)
	}
}

func TestMentionForms(t *testing.T) {
	cfg, err := discord.ParseConfig(target(t, "discord:https://discord.com/api/webhooks/1/t?mentions=<@%26234567890123456789>,<@!345678901234567890>,here"), sinks.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"<@&234567890123456789>", "<@345678901234567890>", "@here"}; !slices.Equal(cfg.Mentions, want) {
		t.Errorf("mentions %v, want %v", cfg.Mentions, want)
	}
	if !slices.Equal(cfg.Allowed.Parse, []string{"everyone"}) || len(cfg.Allowed.Roles) != 1 || len(cfg.Allowed.Users) != 1 {
		t.Errorf("allowed %+v", cfg.Allowed)
	}
}

var (
	bulletRe = regexp.MustCompile(`(?m)^• \*\*Pod (\S+)\*\*`)
	moreRe   = regexp.MustCompile(`(?m)^\*… and (\d+) more\*$`)
	hiddenRe = regexp.MustCompile(`(?m)^\*… and (\d+) more events? in \d+ more groups?\*$`)
)

// account reads a message back: the pods it names, and how many more events it only counts.
// A single-event message names its pod in the Name field.
func account(t testing.TB, m dcMessage) (named []string, counted int) {
	t.Helper()
	if len(m.Embeds) == 1 {
		if name := m.Embeds[0].field("Name"); name != "" {
			return []string{strings.ReplaceAll(name, `\`, "")}, 0
		}
	}
	texts := []string{m.Content}
	for _, e := range m.Embeds {
		texts = append(texts, e.Description)
	}
	for _, text := range texts {
		for _, b := range bulletRe.FindAllStringSubmatch(text, -1) {
			named = append(named, strings.ReplaceAll(b[1], `\`, ""))
		}
		for _, re := range []*regexp.Regexp{moreRe, hiddenRe} {
			for _, more := range re.FindAllStringSubmatch(text, -1) {
				n, _ := strconv.Atoi(more[1])
				counted += n
			}
		}
	}
	return named, counted
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks Discord's embed limits.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		_, got := kit.Send(t, "", sinks.Env{Cluster: "prod-eu-1"}, e)
		em := got[0].Message.Embeds[0]
		if !strings.HasPrefix(em.Title, "container app of pod shop/checkout-7d4b9c6f5-x2x9z restarted: exit code 137 (OOMKilled)") {
			t.Errorf("title %q", em.Title)
		}
		for name, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5"} {
			if v := em.field(name); v != want {
				t.Errorf("field %s = %q, want %q", name, v, want)
			}
		}
		texts := []string{em.Title, em.Description}
		for _, fl := range em.Fields {
			texts = append(texts, fl.Name, fl.Value)
			if wide := fl.Name == "Recent events" || fl.Name == "Termination message"; fl.Inline == wide {
				t.Errorf("field %s inline %v", fl.Name, fl.Inline)
			}
		}
		if !strings.HasPrefix(em.Description, "**Previous log**\n```\n") || !strings.HasSuffix(em.Description, "\n```") {
			t.Errorf("description does not hold the logs in code blocks: %.80q…", em.Description)
		}
		if large && (!strings.Contains(em.Description, "\n```\n**Current log**\n```\n…") || chars(em.Description) < 3000) {
			t.Errorf("the current log is not shown after the previous one, or the room is not used (%d characters)", chars(em.Description))
		}
		return strings.Join(texts, "\n")
	})
}
