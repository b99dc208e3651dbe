package feishu_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/feishu"
)

const secret = "qX9aT3bY7cZ1dW5e"

var cst = time.FixedZone("CST", 8*3600)

var env = sinks.Env{Cluster: "prod", Location: cst}

// build parses a --sink value the way the registry does and builds the sink on clk.
func build(t testing.TB, raw string, clk *clocktesting.FakeClock) *feishu.Sink {
	t.Helper()
	return kind.Build(t, raw, env, clk)
}

func event(ns, name, reason, msg string) *core.Event {
	return chattest.RobotEvent(ns, "Pod", name, reason, msg, 2)
}

var export = chattest.Export

func TestSignedCard(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	s := build(t, "feishu:"+rc.hook()+"?secret="+secret+"&at_user_ids=ou_abc&at_all=true&label=team-shop", clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "Back-off <b>restarting</b>")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if m.MsgType != "interactive" || m.Header != "Warning · BackOff · Pod shop/web-1" || m.Color != "red" {
		t.Fatalf("card %+v", m)
	}
	want := "team-shop\n> Cluster: **prod** · Count: 2 · 2026-11-24 02:00:53 CST\nBack-off ＜b>restarting＜/b>\n<at id=ou_abc></at><at id=all></at>"
	if m.Text != want {
		t.Fatalf("card text %q\nwant %q", m.Text, want)
	}
}

func TestText(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, "")
	s := build(t, "feishu:"+rc.hook()+"?msg_type=text&at_user_ids=ou_abc", clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "x")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if m.MsgType != "text" || !strings.HasPrefix(m.Text, "[Warning] BackOff · Pod shop/web-1\n") || !strings.HasSuffix(m.Text, `<at user_id="ou_abc"></at>`) {
		t.Fatalf("text %+v", m)
	}
}

func TestSignature(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	late := build(t, "feishu:"+rc.hook()+"?secret="+secret, clocktesting.NewFakeClock(chattest.Start.Add(-2*time.Hour)))
	err := export(t, late, event("shop", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "19021") {
		t.Fatalf("stale timestamp: got %v, want a refused credential 19021", err)
	}
	wrong := build(t, "feishu:"+rc.hook()+"?secret=someOtherSecret1", clk)
	err = export(t, wrong, event("shop", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "19021") {
		t.Fatalf("wrong secret: got %v, want a refused credential 19021", err)
	}
	httpxtest.AssertNoSecret(t, err, "someOtherSecret1", rc.token)
	// A vector computed apart from herald (Python's hmac over an empty message).
	ts, sign := feishu.Sign("demo-secret", time.Unix(1599360473, 0))
	if ts != "1599360473" || sign != "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s=" {
		t.Fatalf("Sign = %s %s", ts, sign)
	}
}

func TestKeywordAndToken(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, "")
	rc.keyword = "告警"
	s := build(t, "feishu:"+rc.hook(), clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "x")); !core.IsPermanent(err) || !strings.Contains(err.Error(), "19024") {
		t.Fatalf("got %v, want a permanent 19024", err)
	}
	s = build(t, "feishu:"+rc.hook()+"?label=告警", clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "x")); err != nil {
		t.Fatal(err)
	}
	bad := build(t, "feishu:"+rc.URL+"/open-apis/bot/v2/hook/11111111-2222-3333-4444-555555555555", clk)
	err := export(t, bad, event("shop", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "19001") {
		t.Fatalf("got %v, want a refused credential 19001", err)
	}
	httpxtest.AssertNoSecret(t, err, "11111111-2222-3333-4444-555555555555")
}

func TestCodes(t *testing.T) {
	cases := []struct{ reply, want string }{
		{`{"code":11232,"msg":"frequency limited psm"}`, httpxtest.Retry},
		{`{"code":9499,"msg":"too many request"}`, httpxtest.Retry},
		{`{"code":9499,"msg":"Bad Request","data":{}}`, httpxtest.Permanent},
		{`{"code":19021,"msg":"sign match fail"}`, httpxtest.Credential},
		{`{"code":19022,"msg":"Ip Not Allowed"}`, httpxtest.Credential},
		{`{"code":19024,"msg":"Key Words Not Found"}`, httpxtest.Permanent},
		{`{"StatusCode":0,"StatusMessage":"success"}`, httpxtest.Delivered},
	}
	for _, c := range cases {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "feishu:"+rc.hook(), clk)
		rc.Script(c.reply)
		err := export(t, s, event("shop", "web-1", "BackOff", "x"))
		httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 200, Want: c.want}, err)
	}
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "feishu:"+serverURL+"/open-apis/bot/v2/hook/tok", clocktesting.NewFakeClock(chattest.Start))
		return export(t, s, event("shop", "web-1", "BackOff", "x"))
	})
}

func TestSizeLimit(t *testing.T) {
	for _, mt := range []string{"interactive", "text"} {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, secret)
		s := build(t, "feishu:"+rc.hook()+"?secret="+secret+"&msg_type="+mt, clk)
		// Quotes and newlines grow in JSON: the limit is on the encoded body.
		if err := export(t, s, event("shop", "web-1", "BackOff", strings.Repeat("\"容器\"\n", 5000))); err != nil {
			t.Fatal(err)
		}
		m := rc.Got()[0]
		if len(m.Raw) > feishu.Limit || len(m.Raw) < feishu.Limit-200 || !strings.HasSuffix(m.Text, chat.Marker) {
			t.Fatalf("%s: body of %d bytes, limit %d", mt, len(m.Raw), feishu.Limit)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	kind.TestParseErrors(t, env, [][2]string{
		{"feishu:https://open.feishu.cn/open-apis/bot/v2/hook/", "no token after /hook/"},
		{"feishu:?secret=x", "no bot webhook URL"},
		{"feishu:https://open.feishu.cn/open-apis/bot/v2/hook/t?msg_type=post", `"post" is not allowed`},
		{"feishu:https://open.feishu.cn/open-apis/bot/v2/hook/t?secrte=x", `did you mean "secret"?`},
		{"feishu:https://open.feishu.cn/open-apis/bot/v2/hook/t?burst=8", `parameter "burst": Feishu accepts at most 5 messages a second`},
	})
}

func TestTemplateOverrideIsSigned(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	tmpl := `{"msg_type":"text","content":{"text":"{{ .Reason }}: {{ .Message }}"}}`
	s := build(t, "feishu:"+rc.hook()+"?secret="+secret+"&body_template="+url.QueryEscape(tmpl), clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "a \"quoted\"\nline")); err != nil {
		t.Fatal(err)
	}
	if m := rc.Got()[0]; m.Text != "BackOff: a \"quoted\"\nline" {
		t.Fatalf("text %q", m.Text)
	}
}

func TestStorm(t *testing.T) {
	for _, mt := range []string{"interactive", "text"} {
		t.Run(mt, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(chattest.Start)
			rc := newReceiver(t, clk, secret)
			s := build(t, "feishu:"+rc.hook()+"?secret="+secret+"&msg_type="+mt, clk)
			rc.TestStorm(t, s, func(m message) string {
				if mt == "interactive" && strings.Contains(m.Header, " events") {
					// The card's header holds the digest's title.
					return m.Header + "\n" + m.Text
				}
				return m.Text
			})
		})
	}
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as a card; the receiver checks Feishu's 20 KB body limit.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "feishu:"+rc.hook()+"?msg_type=interactive", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.Rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		m := rc.Got()[0]
		if m.MsgType != "interactive" || !strings.Contains(m.Header, "ContainerRestarted") || !strings.Contains(m.Text, "Previous log:\n```\n") {
			t.Errorf("message type %q, header %q, or the previous log is not a code block:\n%.2000s", m.MsgType, m.Header, m.Text)
		}
		if large && (len(m.Raw) < 20000*3/4 || !strings.Contains(m.Text, "Current log:\n```\n")) {
			t.Errorf("%d bytes of 20000 used, or no current log", len(m.Raw))
		}
		return m.Header + "\n" + m.Text
	})
}
