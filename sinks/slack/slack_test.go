package slack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
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
	"github.com/heraldproject/herald/sinks/slack"
)

func TestWebhookPostsBlockKitLayout(t *testing.T) {
	f := newFakeSlack(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s := build(t, "slack:"+f.hookURL()+"?mentions=S0123ABCD,U0456EFGH,here&level=Warning", sinks.Env{Cluster: "prod-eu-1", Location: shanghai})
	e := template.SampleEvent()
	before := e.DeepCopy()
	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	got := f.Messages()
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	r := got[0]
	if r.Path != f.hookPath {
		t.Errorf("posted to %q", r.Path)
	}
	m := r.Message
	if m.Blocks[0].Type != "header" || !strings.Contains(m.Blocks[0].Text.Text, "BackOff") || !strings.Contains(m.Blocks[0].Text.Text, "shop/checkout-7d4b9c6f5-x2x9z") {
		t.Errorf("header block %+v", m.Blocks[0])
	}
	want := map[string]string{
		"Cluster":   "prod-eu-1",
		"Namespace": "shop",
		"Kind":      "Pod",
		"Name":      "checkout-7d4b9c6f5-x2x9z",
		"Reason":    "BackOff",
		"Count":     "12",
		"Time":      "2026-11-24 02:53:15 CST", // --timezone Asia/Shanghai
		"Node":      "node-3",
	}
	for label, v := range want {
		if got := m.field(label); got != v {
			t.Errorf("field %s = %q, want %q", label, got, v)
		}
	}
	texts := strings.Join(m.texts(""), "\n")
	if !strings.Contains(texts, e.Message) {
		t.Errorf("the message is not shown whole:\n%s", texts)
	}
	for _, mention := range []string{"<!subteam^S0123ABCD>", "<@U0456EFGH>", "<!here>"} {
		if !strings.Contains(texts, mention) || !strings.Contains(m.Text, mention) {
			t.Errorf("mention %s missing from the blocks or the notification text", mention)
		}
	}
	if m.Channel != "" || m.Username != "" {
		t.Errorf("channel %q username %q sent though not configured", m.Channel, m.Username)
	}
	if !e.Event.LastTimestamp.Equal(&before.LastTimestamp) || e.Message != before.Message {
		t.Error("the sink changed the event")
	}
}

func TestMarkupInEventsIsEscaped(t *testing.T) {
	e := event("shop", "web-1", "Failed<x>", "see <https://evil.example|click> & <!channel>")
	f, _ := kit.Send(t, "", sinks.Env{}, e)
	m := f.Messages()[0].Message
	// mrkdwn and the notification text parse <...> as links and mentions; plain_text does not.
	for _, text := range append(m.texts("mrkdwn"), m.Text) {
		if strings.Contains(text, "<!channel>") || strings.Contains(text, "<https://evil") {
			t.Errorf("an event's text reached Slack unescaped (it would ping or link): %q", text)
		}
	}
	if plain := strings.Join(m.texts("plain_text"), "\n"); !strings.Contains(plain, "see <https://evil.example|click> & <!channel>") {
		t.Errorf("the message in plain_text should be shown as written, got %q", plain)
	}
	if got := m.field("Reason"); got != "Failed&lt;x&gt;" {
		t.Errorf("reason field %q, want it escaped", got)
	}
}

func TestChatPostMessage(t *testing.T) {
	f := newFakeSlack(t)
	t.Setenv("SLACK_BOT_TOKEN", f.token)
	s := build(t, "slack:"+f.URL+"/api/chat.postMessage?token=${SLACK_BOT_TOKEN}&channel="+f.channel+"&username=herald&icon_emoji=:rotating_light:", sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "restarting")}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	got := f.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0].Message
	if m.Channel != f.channel || m.Username != "herald" || m.IconEmoji != ":rotating_light:" {
		t.Errorf("channel %q username %q icon %q", m.Channel, m.Username, m.IconEmoji)
	}
	if q := got[0].Header.Get("Authorization"); q != "Bearer "+f.token {
		t.Errorf("Authorization %q", q)
	}
}

func TestChatPostMessageReplies(t *testing.T) {
	cases := []struct {
		name, reply string
		header      string
		want        string
		wait        time.Duration
	}{
		{"ok", `{"ok":true,"ts":"1.2"}`, "", httpxtest.Delivered, 0},
		{"ratelimited", `{"ok":false,"error":"ratelimited"}`, "30", httpxtest.Retry, 30 * time.Second},
		{"rate_limited", `{"ok":false,"error":"rate_limited"}`, "", httpxtest.Retry, 0},
		{"internal_error", `{"ok":false,"error":"internal_error"}`, "", httpxtest.Retry, 0},
		{"invalid_auth", `{"ok":false,"error":"invalid_auth"}`, "", httpxtest.Credential, 0},
		{"token_revoked", `{"ok":false,"error":"token_revoked"}`, "", httpxtest.Credential, 0},
		{"channel_not_found", `{"ok":false,"error":"channel_not_found"}`, "", httpxtest.Permanent, 0},
		{"invalid_blocks", `{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]}}`, "", httpxtest.Permanent, 0},
		{"not JSON", `<html>proxy error</html>`, "", httpxtest.Retry, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSlack(t)
			f.Reply = func(_ int, w http.ResponseWriter) bool {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				fmt.Fprint(w, c.reply)
				return true
			}
			s := build(t, "slack:"+f.URL+apiPath+"?token="+f.token+"&channel="+f.channel, sinks.Env{})
			err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
			httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 200, Want: c.want, Wait: c.wait}, err)
			if err != nil {
				if code := strings.TrimPrefix(c.name, "not JSON"); code != "" && !strings.Contains(err.Error(), code) {
					t.Errorf("the error does not name Slack's code %q: %v", code, err)
				}
				httpxtest.AssertNoSecret(t, err, f.token)
			}
		})
	}
}

func TestWebhookStatuses(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "slack:"+serverURL+"/services/T1/B1/abcdefghijklmnopqrstuvwx", sinks.Env{})
		return s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
	})
}

func TestWebhookTextErrors(t *testing.T) {
	cases := []struct {
		status     int
		body       string
		retryAfter string
		want       string
		wait       time.Duration
	}{
		{400, "invalid_payload", "", httpxtest.Permanent, 0},
		{403, "action_prohibited", "", httpxtest.Credential, 0},
		{403, "invalid_token", "", httpxtest.Credential, 0},
		{404, "no_service", "", httpxtest.Permanent, 0},
		{410, "channel_is_archived", "", httpxtest.Permanent, 0},
		{429, "rate_limited", "30", httpxtest.Retry, 30 * time.Second},
		{500, "rollup_error", "", httpxtest.Retry, 0},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			f := newFakeSlack(t)
			f.Reply = func(_ int, w http.ResponseWriter) bool {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				w.WriteHeader(c.status)
				// Slack's error pages echo nothing secret, but a proxy might: echo the path.
				fmt.Fprint(w, c.body+" for "+f.hookPath)
				return true
			}
			s := build(t, "slack:"+f.hookURL(), sinks.Env{})
			err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
			httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: c.status, Want: c.want, Wait: c.wait}, err)
			if !strings.Contains(err.Error(), c.body) {
				t.Errorf("the error does not quote Slack's answer %q: %v", c.body, err)
			}
			httpxtest.AssertNoSecret(t, err, "s3cr3tHookToken0123456789")
		})
	}
}

func TestLongTextsAreCutToSlackLimits(t *testing.T) {
	f := newFakeSlack(t)
	s := build(t, "slack:"+f.hookURL(), sinks.Env{Cluster: strings.Repeat("c", 400)})
	msg := strings.Repeat("容器启动失败😀 <&> ", 20000)
	e := event("shop", strings.Repeat("n", 300), strings.Repeat("R", 300), msg)
	e.Restart = &core.PodRestart{Container: "app", RestartCount: 4, PreviousLog: strings.Repeat("line & <x>\n", 2000) + "THE LAST LINE\n"}
	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	m := f.Messages()[0].Message
	texts := strings.Join(m.texts(""), "\n")
	if !strings.Contains(texts, chat.Marker) {
		t.Error("a cut text carries no marker")
	}
	if !strings.Contains(texts, "THE LAST LINE") {
		t.Error("the end of the previous log (the lines before the crash) was cut")
	}
	if strings.Contains(texts, "&am"+chat.Marker) || strings.Contains(texts, "&l"+chat.Marker) {
		t.Error("a cut left half an entity")
	}
}

func TestDigestAccountsForEveryEvent(t *testing.T) {
	got := kit.DigestAccounts(t, "mentions=here", 20)
	if h := got.Message.Blocks[0].Text.Text; !strings.Contains(h, "500 events in prod") {
		t.Errorf("header %q", h)
	}
}

func TestPreviewIsTheBodySent(t *testing.T) {
	kit.TestPreviewIsTheBodySent(t, template.SampleEvent())
}

func TestBodyTemplateOverride(t *testing.T) {
	f := newFakeSlack(t)
	tmpl := url.QueryEscape(`{"text":"{{ .Reason }}: {{ .Message }}"}`)
	s := build(t, "slack:"+f.URL+apiPath+"?token="+f.token+"&channel="+f.channel+"&body_template="+tmpl, sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", `say "hi"`)}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	m := f.Messages()[0].Message
	if m.Text != `BackOff: say "hi"` || len(m.Blocks) != 0 || m.Channel != f.channel {
		t.Errorf("template body %+v, want the rendered text with the channel added", m)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("TOK", "xoxb-very-secret-token")
	kit.TestConfigErrors(t, [][2]string{
		{"slack:?token=${TOK}", `parameter "channel"`},
		{"slack:https://hooks.slack.com/services/T/B/X?mentions=@alice", `"mentions"`},
		{"slack:https://hooks.slack.com/services/T/B/X?icon_emoji=fire", `"icon_emoji"`},
		{"slack:https://hooks.slack.com/services/T/B/X?chanel=C1", `did you mean "channel"`},
		{"slack:hooks.slack.com/services/T/B/X", "incoming webhook URL"},
		{"slack:ftp://x/y?token=${TOK}&channel=C1", "API endpoint"},
		{"slack:https://hooks.slack.com/services/T/B/X?max_per_minute=5&burst=5", `"burst"`},
	}, "xoxb-very-secret-token")
}

func TestSecretsAreRedactedInTheLoggedValue(t *testing.T) {
	for value, secret := range map[string]string{
		"slack:?token=xoxb-very-secret-token&channel=C1":                     "xoxb-very-secret-token",
		"slack:https://hooks.slack.com/services/T0001/B0001/s3cr3tHookToken": "s3cr3tHookToken",
	} {
		b, err := sinks.Build(1, value, sinks.Env{Ctx: context.Background()})
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Sink.Close()
		if strings.Contains(b.Redacted, secret) {
			t.Errorf("the secret is in the value herald logs: %s", b.Redacted)
		}
	}
}

func TestDefaultAPIEndpoint(t *testing.T) {
	cfg, err := slack.ParseConfig(target(t, "slack:?token=xoxb-1&channel=C1"), sinks.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != slack.API || cfg.URL.String() != slack.DefaultAPIURL {
		t.Errorf("mode %v URL %s", cfg.Mode, cfg.URL)
	}
}

var (
	bulletRe = regexp.MustCompile(`(?m)^• Pod (\S+)`)
	moreRe   = regexp.MustCompile(`(?m)^_… and (\d+) more_$`)
	hiddenRe = regexp.MustCompile(`^_… and (\d+) more events? in \d+ more groups?_$`)
)

// account reads a message back: the pods it names, and how many more events it only counts.
// A single-event message names its pod in the Name field.
func account(t testing.TB, m slackMessage) (named []string, counted int) {
	t.Helper()
	if name := m.field("Name"); name != "" {
		return []string{name}, 0
	}
	for _, text := range m.texts("") {
		for _, b := range bulletRe.FindAllStringSubmatch(text, -1) {
			named = append(named, b[1])
		}
		for _, more := range moreRe.FindAllStringSubmatch(text, -1) {
			n, _ := strconv.Atoi(more[1])
			counted += n
		}
		if h := hiddenRe.FindStringSubmatch(text); h != nil {
			n, _ := strconv.Atoi(h[1])
			counted += n
		}
	}
	return named, counted
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks Slack's limits.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		_, got := kit.Send(t, "mentions=here", sinks.Env{Cluster: "prod-eu-1"}, e)
		m := got[0].Message
		if h := m.Blocks[0]; h.Type != "header" || !strings.HasPrefix(h.Text.Text, "container app of pod shop/checkout-7d4b9c6f5-x2x9z restarted: exit code 137 (OOMKilled)") {
			t.Errorf("header %+v", h.Text)
		}
		for label, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5", "Finished": "2026-11-23 18:53:13 UTC"} {
			if v := m.field(label); v != want {
				t.Errorf("field %s = %q, want %q", label, v, want)
			}
		}
		if !strings.Contains(m.Text, "restarted: exit code 137") || !strings.Contains(m.Text, "<!here>") {
			t.Errorf("notification text %q", m.Text)
		}
		logs := 0
		for _, txt := range m.texts("mrkdwn") {
			if strings.HasPrefix(txt, "*Previous log*\n```\n") || strings.HasPrefix(txt, "*Current log*\n```\n") {
				logs++
				if !strings.HasSuffix(txt, "\n```") {
					t.Errorf("a log section does not end its code block: …%s", txt[max(0, len(txt)-40):])
				}
			}
		}
		if want := map[bool]int{false: 1, true: 2}[large]; logs != want {
			t.Errorf("%d log sections, want %d", logs, want)
		}
		return strings.Join(m.texts(""), "\n")
	})
}
