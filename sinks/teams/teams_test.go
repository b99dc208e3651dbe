package teams_test

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
	"github.com/heraldproject/herald/sinks/teams"
)

func TestAdaptiveCardLayout(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	_, got := kit.Send(t, "level=Warning&max_per_minute=10", sinks.Env{Cluster: "prod-eu-1", Location: berlin}, template.SampleRestartEvent())
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0].Message
	c := m.Attachments[0].Content
	if c.Version != teams.CardVersion || c.MSTeams == nil || c.MSTeams.Width != "Full" {
		t.Errorf("card version %q msteams %+v", c.Version, c.MSTeams)
	}
	head := c.Body[0]
	if !strings.HasPrefix(*head.Text, "container app of pod shop/checkout-7d4b9c6f5-x2x9z restarted: exit code 137 (OOMKilled)") || head.Color != "Attention" || head.Weight != "Bolder" {
		t.Errorf("title %+v", head)
	}
	want := map[string]string{"Cluster": "prod-eu-1", "Namespace": "shop", "Pod": "checkout-7d4b9c6f5-x2x9z", "Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Container": "app", "Restarts": "5", "Exit code": "137 (OOMKilled)", "Finished": "2026-11-23 19:53:13 CET"}
	for title, v := range want {
		if got := m.fact(title); got != v {
			t.Errorf("fact %s = %q, want %q", title, got, v)
		}
	}
	texts := strings.Join(m.texts(), "\n")
	for _, w := range []string{"exit code 137 (OOMKilled)", "Previous log", "cache warm: 1.9 GiB"} {
		if !strings.Contains(texts, w) {
			t.Errorf("the card does not show %q:\n%s", w, texts)
		}
	}
}

func TestNormalEventsAreGood(t *testing.T) {
	e := event("shop", "web-1", "Pulled", "pulled image")
	e.Type = "Normal"
	_, got := kit.Send(t, "level=Normal", sinks.Env{}, e)
	if c := got[0].Message.card()[0].Color; c != "Good" {
		t.Errorf("title colour %q, want Good", c)
	}
}

func TestStatuses(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "teams:"+serverURL+"/workflows/x/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abcdefghij", sinks.Env{})
		return s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
	})
}

func TestWorkflowReplies(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		retryAfter string
		want       string
		wait       time.Duration
	}{
		{"InvalidRequestContent", 400, "", httpxtest.Permanent, 0},
		{"DirectApiAuthorizationRequired", 401, "", httpxtest.Credential, 0},
		{"WorkflowNotFound", 404, "", httpxtest.Permanent, 0},
		{"WorkflowTriggerIsNotEnabled", 409, "", httpxtest.Permanent, 0},
		{"RequestEntityTooLarge", 413, "", httpxtest.Permanent, 0},
		{"WorkflowRequestsThrottled", 429, "17", httpxtest.Retry, 17 * time.Second},
		{"ServiceUnavailable", 503, "", httpxtest.Retry, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeWorkflow(t)
			f.Reply = func(_ int, w http.ResponseWriter) bool {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				// Echo the request's query, as an error page might.
				fmt.Fprintf(w, `{"error":{"code":%q,"message":"for %s"}}`, c.name, f.hookURL())
				return true
			}
			s := build(t, "teams:"+f.hookURL(), sinks.Env{})
			err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")})
			httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: c.status, Want: c.want, Wait: c.wait}, err)
			if !strings.Contains(err.Error(), c.name) {
				t.Errorf("the error does not quote the service's code: %v", err)
			}
			httpxtest.AssertNoSecret(t, err, f.sig)
		})
	}
}

func TestLongTextsFitTheBodyLimit(t *testing.T) {
	f := newFakeWorkflow(t)
	s := build(t, "teams:"+f.hookURL(), sinks.Env{Cluster: strings.Repeat("c", 400)})
	e := event("shop", strings.Repeat("n", 300), strings.Repeat("R", 300), strings.Repeat("容器启动失败😀 \"quoted\" \x01 ", 20000))
	r := event("shop", strings.Repeat("n", 300), "ContainerRestarted", "restarted")
	r.Restart = &core.PodRestart{Container: "app", RestartCount: 4, PreviousLog: strings.Repeat("line\n", 20000) + "THE LAST LINE\n"}
	for _, ev := range []*core.Event{e, r} {
		if err := s.Export(context.Background(), []*core.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	f.NoProblems(t)
	got := f.Messages()
	if len(got[0].Body) < teams.MaxBody*9/10 {
		t.Errorf("body is only %d bytes: the message was cut more than needed", len(got[0].Body))
	}
	for _, m := range got {
		if len(m.Body) > teams.MaxBody {
			t.Errorf("body is %d bytes, over %d", len(m.Body), teams.MaxBody)
		}
		if texts := strings.Join(m.Message.texts(), "\n"); !strings.Contains(texts, chat.Marker) {
			t.Errorf("a cut text carries no marker:\n%.300s", texts)
		}
	}
	if texts := strings.Join(got[1].Message.texts(), "\n"); !strings.Contains(texts, "THE LAST LINE") {
		t.Error("the end of the log was lost")
	}
}

func TestDigestAccountsForEveryEvent(t *testing.T) {
	if got := kit.DigestAccounts(t, "", 40); len(got.Body) > teams.MaxBody {
		t.Errorf("digest body %d bytes", len(got.Body))
	}
}

func TestPreviewIsTheBodySent(t *testing.T) {
	kit.TestPreviewIsTheBodySent(t, template.SampleEvent())
}

func TestBodyTemplateOverride(t *testing.T) {
	f := newFakeWorkflow(t)
	tmpl := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","text":"{{ .Reason }}: {{ .Message }}","wrap":true}]}}]}`
	s := build(t, "teams:"+f.hookURL()+"&body_template="+url.QueryEscape(tmpl), sinks.Env{})
	if err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", `say "hi"`)}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	if texts := f.Messages()[0].Message.texts(); len(texts) != 1 || texts[0] != `BackOff: say "hi"` {
		t.Errorf("texts %q", texts)
	}

	err := s.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", strings.Repeat("x", 40000))})
	if err == nil || !core.IsPermanent(err) || !strings.Contains(err.Error(), "truncate") {
		t.Errorf("a template body over the limit: %v, want a permanent error that says how to shorten it", err)
	}
}

func TestConfigErrors(t *testing.T) {
	kit.TestConfigErrors(t, [][2]string{
		{"teams:https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?api-version=2016-06-01", "no sig= parameter"},
		{"teams:prod-00.westeurope.logic.azure.com/workflows/x?sig=SECRETSIGNATURE", "Workflows webhook URL"},
		{"teams:https://prod-00.westeurope.logic.azure.com/workflows/x?sig=SECRETSIGNATURE&levl=Warning", `did you mean "level"`},
		{"teams:https://prod-00.westeurope.logic.azure.com/workflows/x?sig=SECRETSIGNATURE&max_per_minute=0", `"max_per_minute"`},
	}, "SECRETSIGNATURE")
}

func TestSignatureIsRedactedAndKept(t *testing.T) {
	f := newFakeWorkflow(t)
	b, err := sinks.Build(1, "teams:"+f.hookURL()+"&future=1&name=ops", sinks.Env{Ctx: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if strings.Contains(b.Redacted, f.sig) {
		t.Errorf("sig= is in the value herald logs: %s", b.Redacted)
	}
	if err := b.Sink.Export(context.Background(), []*core.Event{event("shop", "web-1", "BackOff", "x")}); err == nil {
		t.Fatal("the receiver accepts only its own four parameters; an unknown one must reach it and fail")
	}
	got := strings.Join(f.Problems(), "\n")
	if !strings.Contains(got, "future=1") || strings.Contains(got, "name=") {
		t.Errorf("want the unknown parameter passed to the URL and herald's own removed; the receiver saw: %s", got)
	}
}

var (
	factRe   = regexp.MustCompile(`^Pod (\S+)`)
	moreRe   = regexp.MustCompile(`^… and (\d+) more$`)
	hiddenRe = regexp.MustCompile(`^… and (\d+) more events? in \d+ more groups?$`)
)

// account reads a card back: the pods it names, and how many more events it only counts. A
// single-event card names its pod in the Name fact.
func account(t testing.TB, m teamsMessage) (named []string, counted int) {
	t.Helper()
	if name := m.fact("Name"); name != "" {
		return []string{name}, 0
	}
	for _, e := range m.card() {
		for _, f := range e.Facts {
			if sub := factRe.FindStringSubmatch(*f.Title); sub != nil {
				named = append(named, sub[1])
			}
		}
		if e.Text == nil || !e.IsSubtle {
			continue
		}
		for _, re := range []*regexp.Regexp{moreRe, hiddenRe} {
			if sub := re.FindStringSubmatch(*e.Text); sub != nil {
				n, _ := strconv.Atoi(sub[1])
				counted += n
			}
		}
	}
	return named, counted
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message; the receiver checks the card and Teams' size limit.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		f, _ := kit.Send(t, "", sinks.Env{Cluster: "prod-eu-1"}, e)
		got := f.Messages()[0]
		m := got.Message
		for title, want := range map[string]string{"Owner": "ReplicaSet checkout-7d4b9c6f5", "Node": "node-3", "Cluster": "prod-eu-1", "Container": "app", "Exit code": "137 (OOMKilled)", "Restarts": "5"} {
			if v := m.fact(title); v != want {
				t.Errorf("fact %s = %q, want %q", title, v, want)
			}
		}
		texts, mono := m.texts(), 0
		for _, el := range m.card() {
			for _, fa := range el.Facts {
				texts = append(texts, *fa.Title+": "+*fa.Value)
			}
			if el.FontType == "Monospace" {
				mono++
			}
		}
		if want := map[bool]int{false: 1, true: 2}[large]; mono != want {
			t.Errorf("%d monospace log blocks, want %d", mono, want)
		}
		if large && len(got.Body) < teams.MaxBody/2 {
			t.Errorf("body is %d bytes: the logs were cut more than the limit needs", len(got.Body))
		}
		return strings.Join(texts, "\n")
	})
}
