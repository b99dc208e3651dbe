package wechat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/wechat"
)

var cst = time.FixedZone("CST", 8*3600)

var env = sinks.Env{Cluster: "prod", Location: cst}

// build parses a --sink value the way the registry does and builds the sink on clk.
func build(t testing.TB, raw string, clk *clocktesting.FakeClock) *wechat.Sink {
	t.Helper()
	return kind.Build(t, raw, env, clk)
}

func event(ns, name, reason, msg string) *core.Event {
	e := chattest.RobotEvent(ns, "Pod", name, reason, msg, 5)
	e.Source.Host = "node-3"
	return e
}

var export = chattest.Export

func TestRobotTextMessage(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	s := build(t, "wechat:"+rc.robotURL()+"&mentioned_list=zhangsan,@all&mentioned_mobile_list=13800001111&label=cluster-a&label=team-shop", clk)
	e := event("shop", "web-1", "BackOff", `Back-off restarting failed container "app"`+"\n容器启动失败")
	before := e.DeepCopy()
	if err := export(t, s, e); err != nil {
		t.Fatal(err)
	}
	got := rc.Got()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	m := got[0]
	if m.MsgType != "text" || strings.Join(m.Mentioned, ",") != "zhangsan,@all" || strings.Join(m.MentionedMobile, ",") != "13800001111" {
		t.Fatalf("message %+v", m)
	}
	want := "cluster-a\nteam-shop\n[Warning] BackOff · Pod shop/web-1\nCluster: prod · Count: 5 · 2026-11-24 02:00:53 CST · Node: node-3\n" +
		"Back-off restarting failed container \"app\"\n容器启动失败"
	if m.Content != want {
		t.Fatalf("content\n%s\nwant\n%s", m.Content, want)
	}
	if !equalEvent(before, e.Event) {
		t.Fatal("the sink changed the event")
	}
}

func equalEvent(a, b *corev1.Event) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestRobotMarkdownMentionsInContent(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	s := build(t, "wechat:"+rc.robotURL()+"&msg_type=markdown&mentioned_list=zhangsan,lisi", clk)
	if err := export(t, s, event("shop", "web-1", "BackOff", "a <@all> b")); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if m.MsgType != "markdown" || len(m.Mentioned) != 0 {
		t.Fatalf("message %+v", m)
	}
	if !strings.HasPrefix(m.Content, `### <font color="warning">Warning</font> BackOff · Pod shop/web-1`) ||
		!strings.HasSuffix(m.Content, "\n<@zhangsan><@lisi>") {
		t.Fatalf("content %q", m.Content)
	}
	// A message from the cluster cannot mention anyone.
	if strings.Contains(m.Content, "<@all>") {
		t.Fatalf("the event's text became a mention: %q", m.Content)
	}
}

func TestConfigErrors(t *testing.T) {
	kind.TestParseErrors(t, env, [][2]string{
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&msg_type=markdown&mentioned_mobile_list=138", `parameter "mentioned_mobile_list": Work WeChat's markdown messages cannot mention by mobile number; use msg_type=text`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&msg_type=markdown&mentioned_list=@all", `parameter "mentioned_list"`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send", `the robot URL has no key`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&msg_type=html", `parameter "msg_type": "html" is not allowed; write one of text, markdown`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&mentioned_lst=a", `unknown parameter "mentioned_lst"; did you mean "mentioned_list"?`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&to_user=a", `parameter "to_user": is a parameter of the application message API`},
		{"wechat:?level=Warning", `no group robot URL and no corp_id`},
		{"wechat:?corp_id=ww1&agent_id=1", `parameter "corp_secret": missing`},
		{"wechat:?corp_id=ww1&corp_secret=s&agent_id=abc", `parameter "agent_id": "abc" is not the application's numeric AgentId`},
		{"wechat:?corp_id=ww1&corp_secret=s&agent_id=1&endpoint=qyapi", `parameter "endpoint"`},
		{"wechat:?corp_id=ww1&corp_secret=s&agent_id=1&mentioned_list=a", `parameter "mentioned_list": is a group robot parameter`},
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&max_per_minute=10&burst=10", `parameter "burst"`},
	})
}

func TestSizeLimits(t *testing.T) {
	for _, c := range []struct {
		msgType string
		limit   int
	}{{"text", 2048}, {"markdown", 4096}} {
		t.Run(c.msgType, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(chattest.Start)
			rc := newReceiver(t, clk)
			s := build(t, "wechat:"+rc.robotURL()+"&msg_type="+c.msgType, clk)
			// 3-byte characters, so a cut in the middle of one would show.
			if err := export(t, s, event("shop", "web-1", "BackOff", strings.Repeat("容器启动失败", 1000))); err != nil {
				t.Fatal(err)
			}
			m := rc.Got()[0]
			if len(m.Content) > c.limit || len(m.Content) < c.limit-8 || !strings.HasSuffix(m.Content, chat.Marker) {
				t.Fatalf("content of %d bytes (limit %d), ends %q", len(m.Content), c.limit, m.Content[len(m.Content)-9:])
			}
		})
	}
}

// The receiver rejects an over-long content like the service: the check is real.
func TestReceiverRejectsOverLimit(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	c, _ := httpx.NewClient(httpx.Options{})
	body, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]any{"content": strings.Repeat("a", 2049)}})
	_, err := chat.PostJSON(context.Background(), c, rc.robotURL(), body, httpx.JSONCodes(wechat.Codes))
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "40058") {
		t.Fatalf("got %v, want errcode 40058", err)
	}
}

func TestErrcodes(t *testing.T) {
	cases := []struct {
		reply string
		want  string
		wait  time.Duration
	}{
		{`{"errcode":45009,"errmsg":"api freq out of limit"}`, httpxtest.Retry, time.Minute},
		{`{"errcode":-1,"errmsg":"system busy"}`, httpxtest.Retry, 0},
		{`{"errcode":93000,"errmsg":"invalid webhook url"}`, httpxtest.Credential, 0},
		{`{"errcode":40058,"errmsg":"invalid parameter"}`, httpxtest.Permanent, 0},
		{`{"errcode":44004,"errmsg":"empty content"}`, httpxtest.Permanent, 0},
		{`{"errcode":0,"errmsg":"ok"}`, httpxtest.Delivered, 0},
	}
	for _, c := range cases {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk)
		s := build(t, "wechat:"+rc.robotURL(), clk)
		rc.Script(c.reply)
		err := export(t, s, event("shop", "web-1", "BackOff", "x"))
		httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 200, Want: c.want, Wait: c.wait}, err)
	}
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "wechat:"+serverURL+"/cgi-bin/webhook/send?key=k", clocktesting.NewFakeClock(chattest.Start))
		return export(t, s, event("shop", "web-1", "BackOff", "x"))
	})
}

func TestWrongKeyIsACredentialFailureAndSecretFree(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	const wrong = "wrong-key-5f2c9e77"
	s := build(t, "wechat:"+rc.URL+"/cgi-bin/webhook/send?key="+wrong, clk)
	err := export(t, s, event("shop", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "93000") || !strings.Contains(core.CredentialFix(err), "key") {
		t.Fatalf("got %v (fix %q), want a refused credential 93000 whose fix names the key", err, core.CredentialFix(err))
	}
	httpxtest.AssertNoSecret(t, err, wrong)
	b, err := sinks.Build(1, "wechat:"+rc.URL+"/cgi-bin/webhook/send?key="+wrong, sinks.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if strings.Contains(b.Redacted, wrong) {
		t.Fatalf("the logged --sink value shows the key: %s", b.Redacted)
	}
}

// kube-eventer's form: the application message API, token cached until it expires and
// fetched again when the API says it is invalid.
func TestApplicationMessages(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	s := build(t, fmt.Sprintf("wechat:?corp_id=%s&corp_secret=%s&agent_id=1000002&to_user=zhangsan,lisi&label=c550367&level=Warning&endpoint=%s", rc.corpID, rc.corpSecret, url.QueryEscape(rc.URL)), clk)
	for i := range 3 {
		if err := export(t, s, event("shop", fmt.Sprintf("web-%d", i), "BackOff", "x")); err != nil {
			t.Fatal(err)
		}
		clk.Step(5 * time.Second)
	}
	if got := rc.tokenN; got != 1 {
		t.Fatalf("%d gettoken calls for 3 messages, want 1 (cached)", got)
	}
	m := rc.Got()[0]
	if m.ToUser != "zhangsan|lisi" || m.AgentID != 1000002 || m.MsgType != "text" || !strings.HasPrefix(m.Content, "c550367\n[Warning] BackOff") {
		t.Fatalf("message %+v", m)
	}
	// The token's life (7200 s, less a margin) passes: a new one.
	clk.Step(2 * time.Hour)
	if err := export(t, s, event("shop", "web-3", "BackOff", "x")); err != nil {
		t.Fatal(err)
	}
	if rc.tokenN != 2 {
		t.Fatalf("%d gettoken calls after expiry, want 2", rc.tokenN)
	}
	// The API revokes it early (42001): herald fetches a new token and resends, in one Export.
	rc.expireTokens()
	clk.Step(5 * time.Second)
	if err := export(t, s, event("shop", "web-4", "BackOff", "x")); err != nil {
		t.Fatal(err)
	}
	if rc.tokenN != 3 || len(rc.Got()) != 5 || strings.Join(rc.Rejections(), ",") != "42001" {
		t.Fatalf("tokens %d, messages %d, rejections %v; want 3, 5, [42001]", rc.tokenN, len(rc.Got()), rc.Rejections())
	}
}

func TestApplicationBadSecret(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	const wrong = "not-the-secret-77aa"
	s := build(t, fmt.Sprintf("wechat:?corp_id=%s&corp_secret=%s&agent_id=1&endpoint=%s", rc.corpID, wrong, url.QueryEscape(rc.URL)), clk)
	err := export(t, s, event("shop", "web-1", "BackOff", "x"))
	if !core.IsCredential(err) || !strings.Contains(err.Error(), "40001") || !strings.Contains(err.Error(), "corp_secret") {
		t.Fatalf("got %v, want a refused credential 40001 naming corp_secret", err)
	}
	httpxtest.AssertNoSecret(t, err, wrong)
}

// Several wechat sinks, each filtered to a namespace, each with its own mentions: team A's
// events go to team A's group and ping team A.
func TestMultiGroupMentions(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	a, b := newReceiver(t, clk), newReceiver(t, clk)
	var built []*sinks.Built
	for _, raw := range []string{
		"wechat:" + a.robotURL() + "&namespaces=team-a&mentioned_list=alice",
		"wechat:" + b.robotURL() + "&namespaces=team-b&mentioned_list=bob",
	} {
		bt, err := sinks.Build(len(built)+1, raw, sinks.Env{})
		if err != nil {
			t.Fatal(err)
		}
		defer bt.Sink.Close()
		built = append(built, bt)
	}
	for _, e := range []*core.Event{event("team-a", "a-1", "BackOff", "x"), event("team-b", "b-1", "BackOff", "y"), event("team-c", "c-1", "BackOff", "z")} {
		for _, bt := range built {
			if bt.Filter.Match(e) {
				if err := export(t, bt.Sink, e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	ga, gb := a.Got(), b.Got()
	if len(ga) != 1 || !strings.Contains(ga[0].Content, "team-a/a-1") || strings.Join(ga[0].Mentioned, ",") != "alice" {
		t.Fatalf("group A got %+v", ga)
	}
	if len(gb) != 1 || !strings.Contains(gb[0].Content, "team-b/b-1") || strings.Join(gb[0].Mentioned, ",") != "bob" {
		t.Fatalf("group B got %+v", gb)
	}
}

func TestTemplateOverride(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	tmpl := `{"msgtype":"text","text":{"content":"{{ .Reason }} {{ .InvolvedObject.Name }}: {{ .Message }}","mentioned_list":["oncall"]}}`
	s := build(t, "wechat:"+rc.robotURL()+"&body_template="+url.QueryEscape(tmpl), clk)
	msg := `quotes " and \ and` + "\nnewline " + strings.Repeat("长", 1000)
	if err := export(t, s, event("shop", "web-1", "BackOff", msg)); err != nil {
		t.Fatal(err)
	}
	m := rc.Got()[0]
	if !strings.HasPrefix(m.Content, `BackOff web-1: quotes " and \ and`+"\nnewline 长") || len(m.Content) > 2048 || strings.Join(m.Mentioned, ",") != "oncall" {
		t.Fatalf("content (%d bytes) %q, mentions %v", len(m.Content), m.Content[:60], m.Mentioned)
	}
	p, err := s.Preview(event("shop", "web-1", "BackOff", "short"))
	if err != nil || !strings.Contains(p, `"content": "BackOff web-1: short"`) {
		t.Fatalf("preview %s %v", p, err)
	}
}

// kube-eventer's ConfigMap route: the robot template users wrote for the webhook sink.
func TestTemplateFromConfigMap(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	kube := fake.NewSimpleClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "custom-body", Namespace: "kube-system"},
		Data:       map[string]string{"content": `{"msgtype": "text","text": {"content": "EventType:{{ .Type }}\nEventKind:{{ .InvolvedObject.Kind }}\nEventReason:{{ .Reason }}\nEventTime:{{ .LastTimestamp }}\nEventMessage:{{ .Message }}"}}`},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := sinks.Build(1, "wechat:"+rc.robotURL()+"&custom_body_configmap=custom-body&custom_body_configmap_namespace=kube-system", sinks.Env{Ctx: ctx, Kube: kube})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if err := export(t, b.Sink, event("shop", "web-1", "BackOff", `say "hi"`)); err != nil {
		t.Fatal(err)
	}
	want := "EventType:Warning\nEventKind:Pod\nEventReason:BackOff\nEventTime:2026-11-23 18:00:53 +0000 UTC\nEventMessage:say \"hi\""
	if m := rc.Got()[0]; m.Content != want {
		t.Fatalf("content %q\nwant %q", m.Content, want)
	}
}

func TestPreviewDefaultLayout(t *testing.T) {
	s := build(t, "wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k&mentioned_list=zhangsan", clocktesting.NewFakeClock(chattest.Start))
	var _ sinks.Previewer = s
	p, err := s.Preview(event("shop", "web-1", "BackOff", "x"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content   string   `json:"content"`
			Mentioned []string `json:"mentioned_list"`
		} `json:"text"`
	}
	if err := json.Unmarshal([]byte(p), &body); err != nil || body.MsgType != "text" || !strings.Contains(body.Text.Content, "BackOff · Pod shop/web-1") || body.Text.Mentioned[0] != "zhangsan" {
		t.Fatalf("preview %s (%v)", p, err)
	}
}

// A storm of 1,000 Warning events in a minute: at most 20 messages in any minute, none
// rejected for rate or size, every event named or counted in a message.
func TestStorm(t *testing.T) {
	for _, msgType := range []string{"text", "markdown"} {
		t.Run(msgType, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(chattest.Start)
			rc := newReceiver(t, clk)
			s := build(t, "wechat:"+rc.robotURL()+"&msg_type="+msgType+"&mentioned_list=oncall", clk)
			rc.TestStorm(t, s, content)
		})
	}
}

func content(m message) string { return m.Content }

// The same storm through the real pipeline (queue, batching by size or age, retries): the
// pipeline's own counter says every event was delivered.
func TestStormThroughPipeline(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	s := build(t, "wechat:"+rc.robotURL()+"&msg_type=markdown&mentioned_list=oncall", clk)
	events := chattest.StormEvents(1000, chattest.Start, 60*time.Millisecond)
	res := chattest.PipelineStorm(t, clk, s, events, core.SinkOptions{QueueSize: 20000, BatchSize: 500, FlushInterval: 200 * time.Millisecond}, 30*time.Minute)
	if res.Delivered != 1000 || res.Dropped != 0 || len(res.Errors) > 0 {
		t.Fatalf("delivered %d, dropped %d, errors %v", res.Delivered, res.Dropped, res.Errors)
	}
	if r := rc.Rejections(); len(r) > 0 {
		t.Fatalf("the robot rejected %v", r)
	}
	worst := rc.CheckCounted(t, 1000, 20, content)
	t.Logf("through the pipeline: 1000 events over 60 s → %d messages (%d exports) over %s, at most %d in a minute", len(rc.Got()), res.Exports, res.End.Sub(chattest.Start).Round(time.Second), worst)
}

// A robot that answers "too many messages" (45009) to the first message: the pipeline waits
// the minute herald asks for and retries; nothing is lost or sent twice.
func TestStormAfterRateLimitReply(t *testing.T) {
	clk := clocktesting.NewFakeClock(chattest.Start)
	rc := newReceiver(t, clk)
	rc.Script(`{"errcode":45009,"errmsg":"api freq out of limit"}`)
	s := build(t, "wechat:"+rc.robotURL(), clk)
	events := chattest.StormEvents(1000, chattest.Start, 60*time.Millisecond)
	res := chattest.PipelineStorm(t, clk, s, events, core.SinkOptions{QueueSize: 20000, BatchSize: 500, FlushInterval: 200 * time.Millisecond}, 30*time.Minute)
	if res.Delivered != 1000 || res.Dropped != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "45009") {
		t.Fatalf("delivered %d, dropped %d, errors %v; want 1000, 0 and one 45009", res.Delivered, res.Dropped, res.Errors)
	}
	rc.CheckCounted(t, 1000, 20, content)
	if first := rc.SentAt()[0]; first.Sub(chattest.Start) < time.Minute {
		t.Fatalf("first delivery at +%s, want after the minute 45009 asks for", first.Sub(chattest.Start))
	}
	t.Logf("after a 45009: %d messages over %s", len(rc.Got()), res.End.Sub(chattest.Start).Round(time.Second))
}

// TestRestartLayout sends the sample restart and one with 200 KiB logs, 20 recent events and a
// 1 MiB termination message as markdown; the receiver checks the 4096-byte limit. Work WeChat
// documents no multi-line code block, so the logs are quoted lines.
func TestRestartLayout(t *testing.T) {
	chattest.ForEachRestart(t, func(t *testing.T, e *core.Event, large bool) string {
		clk := clocktesting.NewFakeClock(chattest.Start)
		rc := newReceiver(t, clk)
		s := build(t, "wechat:"+rc.robotURL()+"&msg_type=markdown", clk)
		if err := export(t, s, e); err != nil {
			t.Fatal(err)
		}
		if r := rc.Rejections(); len(r) > 0 {
			t.Fatalf("the receiver refused: %v", r)
		}
		text := rc.Got()[0].Content
		if strings.Contains(text, "```") || !strings.Contains(text, "Previous log:\n> ") {
			t.Errorf("a code fence in Work WeChat markdown, or the previous log is not quoted:\n%s", text)
		}
		if large && (len(text) < 4096*3/4 || !strings.Contains(text, "Current log:\n> ")) {
			t.Errorf("%d bytes of 4096 used, or no current log:\n%s", len(text), text)
		}
		return text
	})
}
