package dingtalk_test

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
	"github.com/heraldproject/herald/sinks/dingtalk"
)

const secret = "SECf00dcafe0123456789abcdef0123456789abcdef0123456789abcdef012345"

var cst = time.FixedZone("CST", 8*3600)

var env = sinks.Env{Cluster: "prod", Location: cst}

// build parses a --sink value the way the registry does and builds the sink on clk.
func build(t testing.TB, raw string, clk *clocktesting.FakeClock) *dingtalk.Sink {
	t.Helper()
	return kind.Build(t, raw, env, clk)
}

func event(ns, kind, name, reason, msg string) *core.Event {
	return chattest.RobotEvent(ns, kind, name, reason, msg, 3)
}

var export = chattest.Export

// kube-eventer's documented flag, signature included, plus the mentions herald adds.
func TestKubeEventerFlagSignedText(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	s := build(t, "dingtalk:"+rc.sinkURL()+"&label=c550367cdf1e84dfabab013b277cc6bc2&level=Normal&sign="+secret+"&at_mobiles=13800001111&at_user_ids=manager01", clk)
	if err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "Back-off restarting failed container")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	want := "c550367cdf1e84dfabab013b277cc6bc2\n[Warning] BackOff · Pod shop/web-1\nCluster: prod · Count: 3 · 2026-11-24 02:00:53 CST\nBack-off restarting failed container\n@13800001111 @manager01"
	if m.MsgType != "text" || m.Text != want {
		t.Fatalf("message %q\nwant %q", m.Text, want)
	}
	if strings.Join(m.AtMobiles, ",") != "13800001111" || strings.Join(m.AtUserIDs, ",") != "manager01" || m.IsAtAll {
		t.Fatalf("at %+v", m)
	}
}

func TestMarkdownWithConsoleLinks(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, "")
	s := build(t, "dingtalk:"+rc.sinkURL()+"&msg_type=markdown&cluster_id=c5503&region=cn-shenzhen&at_all=true", clk)
	if err := export(t, s, event("shop", "Deployment", "web", "ScalingReplicaSet", "Scaled up <b>")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if m.MsgType != "markdown" || m.Title != "ScalingReplicaSet Deployment shop/web" || !m.IsAtAll {
		t.Fatalf("message %+v", m)
	}
	link := "[Deployment shop/web](https://cs.console.aliyun.com/#/k8s/deployment/detail/cn-shenzhen/c5503/shop/web/pods)"
	if !strings.HasPrefix(m.Text, "### Warning · ScalingReplicaSet · "+link+"\n\n> Cluster: **prod**") {
		t.Fatalf("text %q", m.Text)
	}
	if strings.Contains(m.Text, "<b>") {
		t.Fatalf("markup from the event reached the message: %q", m.Text)
	}
}

func TestSignature(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	// The right secret on a clock two hours behind: DingTalk refuses timestamps an hour off.
	late := build(t, "dingtalk:"+rc.sinkURL()+"&sign="+secret, clocktesting.NewFakeClock(chattest.Start.Add(-2*time.Hour)))
	err := export(t, late, event("shop", "Pod", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "310000") {
		t.Fatalf("stale timestamp: got %v, want a refused credential 310000", err)
	}
	wrong := strings.Replace(secret, "f00d", "beef", 1)
	bad := build(t, "dingtalk:"+rc.sinkURL()+"&sign="+wrong, clk)
	err = export(t, bad, event("shop", "Pod", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "sign not match") {
		t.Fatalf("wrong secret: got %v, want a refused credential 310000", err)
	}
	httpxtest.AssertNoSecret(t, err, wrong, rc.token)
	// Unsigned, to a robot that signs.
	unsigned := build(t, "dingtalk:"+rc.sinkURL(), clk)
	if err := export(t, unsigned, event("shop", "Pod", "web-1", "BackOff", "x")); !core.IsCredential(err) {
		t.Fatalf("unsigned: got %v, want a refused credential (sign= is missing)", err)
	}
	// A vector computed apart from herald (Python's hmac, as DingTalk's documentation does).
	ts, sign := dingtalk.Sign("this is secret", time.UnixMilli(1577262236757))
	if ts != "1577262236757" || sign != "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=" {
		t.Fatalf("Sign = %s %s", ts, sign)
	}
}

func TestWrongTokenIsACredentialFailureAndSecretFree(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, "")
	const wrong = "not-the-token-99aa77"
	s := build(t, "dingtalk:"+rc.URL+"/robot/send?access_token="+wrong, clk)
	err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "300001") {
		t.Fatalf("got %v, want a refused credential 300001", err)
	}
	httpxtest.AssertNoSecret(t, err, wrong)
	b, err := sinks.Build(1, "dingtalk:"+rc.URL+"/robot/send?access_token="+wrong+"&sign="+secret, sinks.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if strings.Contains(b.Redacted, wrong) || strings.Contains(b.Redacted, secret) {
		t.Fatalf("the logged --sink value shows a secret: %s", b.Redacted)
	}
}

func TestKeywordRobot(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, "")
	rc.keyword = "k8s-alert"
	s := build(t, "dingtalk:"+rc.sinkURL(), clk)
	if err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "x")); !core.IsPermanent(err) || !strings.Contains(err.Error(), "keywords") {
		t.Fatalf("got %v, want permanent 310000 (keyword)", err)
	}
	// label= puts the keyword in every message, as kube-eventer users do.
	s = build(t, "dingtalk:"+rc.sinkURL()+"&label=k8s-alert", clk)
	if err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "x")); err != nil {
		t.Fatal(err)
	}
}

func TestErrcodes(t *testing.T) {
	cases := []struct {
		reply string
		want  string
		wait  time.Duration
	}{
		{`{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, httpxtest.Retry, 10 * time.Minute},
		{`{"errcode":-1,"errmsg":"系统繁忙"}`, httpxtest.Retry, 0},
		{`{"errcode":310000,"errmsg":"ip X.X.X.X not in whitelist"}`, httpxtest.Credential, 0},
		{`{"errcode":300001,"errmsg":"token is not exist"}`, httpxtest.Credential, 0},
		{`{"errcode":310000,"errmsg":"keywords not in content"}`, httpxtest.Permanent, 0},
		{`{"errcode":0,"errmsg":"ok"}`, httpxtest.Delivered, 0},
	}
	for _, c := range cases {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "dingtalk:"+rc.sinkURL(), clk)
		rc.Script(c.reply)
		err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "x"))
		httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 200, Want: c.want, Wait: c.wait}, err)
	}
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "dingtalk:"+serverURL+"/robot/send?access_token=tok", clocktesting.NewFakeClock(chattest.Start))
		return export(t, s, event("shop", "Pod", "web-1", "BackOff", "x"))
	})
}

func TestSizeLimit(t *testing.T) {
	for _, mt := range []string{"text", "markdown"} {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "dingtalk:"+rc.sinkURL()+"&msg_type="+mt, clk)
		if err := export(t, s, event("shop", "Pod", "web-1", "BackOff", strings.Repeat("数据库连接被拒绝 ", 3000))); err != nil {
			t.Fatal(err)
		}
		m := rc.Got()[0]
		if len(m.Text) > dingtalk.Limit || len(m.Text) < dingtalk.Limit-10 || !strings.HasSuffix(m.Text, chat.Marker) {
			t.Fatalf("%s: text of %d bytes, limit %d", mt, len(m.Text), dingtalk.Limit)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	kind.TestParseErrors(t, env, [][2]string{
		{"dingtalk:https://oapi.dingtalk.com/robot/send", `parameter "access_token": missing`},
		{"dingtalk:?access_token=x", `no robot webhook URL`},
		{"dingtalk:https://oapi.dingtalk.com/robot/send?access_token=x&sign=abc", `DingTalk signing secrets start with SEC`},
		{"dingtalk:https://oapi.dingtalk.com/robot/send?access_token=x&msg_type=card", `"card" is not allowed`},
		{"dingtalk:https://oapi.dingtalk.com/robot/send?access_token=x&at_mobile=1", `did you mean "at_mobiles"?`},
		{"dingtalk:https://oapi.dingtalk.com/robot/send?access_token=x&at_all=maybe", `parameter "at_all"`},
	})
}

func TestTemplateOverride(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk, secret)
	tmpl := `{"msgtype":"markdown","markdown":{"title":"{{ .Reason }}","text":"**{{ .Reason }}** {{ .Message }}"}}`
	s := build(t, "dingtalk:"+rc.sinkURL()+"&sign="+secret+"&body_template="+url.QueryEscape(tmpl), clk)
	if err := export(t, s, event("shop", "Pod", "web-1", "BackOff", "say \"hi\"\nplease")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if m.Title != "BackOff" || m.Text != "**BackOff** say \"hi\"\nplease" {
		t.Fatalf("message %+v", m)
	}
	p, err := s.Preview(event("shop", "Pod", "web-1", "BackOff", "x"))
	if err != nil || !strings.Contains(p, `"text": "**BackOff** x"`) {
		t.Fatalf("preview %s %v", p, err)
	}
}

func TestStorm(t *testing.T) {
	for _, mt := range []string{"text", "markdown"} {
		t.Run(mt, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(chattest.Start)
			rc := newReceiver(t, clk, secret)
			s := build(t, "dingtalk:"+rc.sinkURL()+"&sign="+secret+"&msg_type="+mt+"&at_mobiles=13800001111", clk)
			rc.TestStorm(t, s, func(m message) string { return m.Text })
		})
	}
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks DingTalk's size limit.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk, "")
		s := build(t, "dingtalk:"+rc.sinkURL()+"&msg_type=markdown", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.Rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		text := rc.Got()[0].Text
		if strings.Contains(text, "```") || !strings.Contains(text, "Previous log:\n\n> ") {
			t.Errorf("the previous log is not quoted lines after its label (DingTalk documents no code block):\n%.2000s", text)
		}
		if large && (len(text) < 18000*3/4 || !strings.Contains(text, "Current log:\n\n> ")) {
			t.Errorf("%d bytes of 18000 used, or no current log", len(text))
		}
		return text
	})
}
