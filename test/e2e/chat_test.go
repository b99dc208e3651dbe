package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/test/harness"
)

// wechatText is a Work WeChat group-robot text message.
type wechatText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content       string   `json:"content"`
		MentionedList []string `json:"mentioned_list"`
	} `json:"text"`
}

// TestWeChatRobotsRouteNamespacesToTheirGroups: two WeChat group-robot sinks, each filtered to
// one team's namespace and mentioning that team's on-call; each robot gets only its own team's
// events, with its own mention.
func TestWeChatRobotsRouteNamespacesToTheirGroups(t *testing.T) {
	client := shared.Client()
	nsA := namespace(t, shared, "chat-a")
	nsB := namespace(t, shared, "chat-b")
	robotA, robotB := harness.NewReceiver(t), harness.NewReceiver(t)
	for _, r := range []*harness.Receiver{robotA, robotB} {
		r.SetReply(`{"errcode":0,"errmsg":"ok"}`)
	}
	sink := func(r *harness.Receiver, ns, oncall string) string {
		return fmt.Sprintf("wechat:%s/cgi-bin/webhook/send?key=${ROBOT_KEY_%s}&namespaces=%s&mentioned_list=%s", r.URL, oncall, ns, oncall)
	}
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Sinks: []string{sink(robotA, nsA, "alice"), sink(robotB, nsB, "bob")},
		Env:   []string{"ROBOT_KEY_alice=key-a-SECRET", "ROBOT_KEY_bob=key-b-SECRET"}})

	createEvent(t, client, nsA, "a-1", "Warning", "BackOff", `team A: "web" is crash-looping`)
	createEvent(t, client, nsB, "b-1", "Warning", "FailedScheduling", "team B: 0/3 nodes available\n(insufficient memory)")

	check := func(r *harness.Receiver, key, mention, mine, theirs string) {
		t.Helper()
		got := r.WaitFor(1, 60*time.Second)
		if len(got) == 0 {
			t.Fatalf("robot for %s got nothing\n%s", mention, h.Logs())
		}
		time.Sleep(time.Second) // anything misrouted would have arrived by now too
		for _, req := range r.Requests() {
			if req.Method != "POST" || req.Path != "/cgi-bin/webhook/send" || !strings.Contains(req.Query, "key="+key) {
				t.Errorf("request %s %s?%s, want POST /cgi-bin/webhook/send?key=%s", req.Method, req.Path, req.Query, key)
			}
			var m wechatText
			if err := json.Unmarshal(req.Body, &m); err != nil {
				t.Fatalf("invalid JSON %q: %v", req.Body, err)
			}
			if m.MsgType != "text" || len(m.Text.Content) > 2048 {
				t.Errorf("msgtype %q, content of %d bytes", m.MsgType, len(m.Text.Content))
			}
			if !slices.Equal(m.Text.MentionedList, []string{mention}) {
				t.Errorf("mentioned_list %v, want [%s]", m.Text.MentionedList, mention)
			}
			if !strings.Contains(m.Text.Content, mine) || strings.Contains(m.Text.Content, theirs) {
				t.Errorf("robot for %s got %q: want %q and not %q", mention, m.Text.Content, mine, theirs)
			}
		}
	}
	check(robotA, "key-a-SECRET", "alice", `"web" is crash-looping`, "team B")
	check(robotB, "key-b-SECRET", "bob", "0/3 nodes available", "team A")
	if strings.Contains(h.Logs(), "SECRET") {
		t.Errorf("a robot key appears in herald's log")
	}
}
