package dingtalk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// receiver is a loopback DingTalk group robot at /robot/send. It checks what DingTalk checks:
// the access token (300001), the signature and its timestamp within an hour (310000), the
// keyword when one is set (310000), the message's fields and types, a text over 20,000 bytes,
// and more than 20 messages a minute (130101).
type receiver struct {
	*chattest.Robot[message]
	token   string
	secret  string // "" when the robot does not sign
	keyword string // "" when the robot has no keyword
}

type message struct {
	MsgType   string
	Text      string // text.content or markdown.text
	Title     string
	AtMobiles []string
	AtUserIDs []string
	IsAtAll   bool
}

// maxText is the size over which this receiver refuses a message. DingTalk documents about
// 20,000 bytes but not the code it answers with; any non-zero code is permanent for herald.
const maxText = 20000

func newReceiver(t *testing.T, clk *clocktesting.FakeClock, secret string) *receiver {
	r := &receiver{token: "dt-token-0123456789abcdef", secret: secret}
	r.Robot = chattest.NewRobot[message](t, chattest.RobotSpec{
		Name: "DingTalk", Reply: chattest.ReplyErrcode, OK: "ok",
		Limits: []chattest.Rate{{Max: 20, Per: time.Minute}}, TooFast: 130101, TooFastMsg: "send too fast, exceed 20 times per minute",
	}, clk, http.HandlerFunc(r.handle))
	return r
}

func (r *receiver) sinkURL() string {
	return r.URL + "/robot/send?access_token=" + r.token
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	if r.Scripted(w) {
		return
	}
	q := req.URL.Query()
	if req.Method != http.MethodPost || req.URL.Path != "/robot/send" {
		http.NotFound(w, req)
		return
	}
	if q.Get("access_token") != r.token {
		r.Reject(w, 300001, "token is not exist")
		return
	}
	if r.secret != "" {
		ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			r.Reject(w, 310000, "sign not match, missing timestamp")
			return
		}
		if d := r.Clock.Now().Sub(time.UnixMilli(ms)); d > time.Hour || d < -time.Hour {
			r.Reject(w, 310000, "sign not match, timestamp is not within one hour of the current time")
			return
		}
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + r.secret))
		if q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			r.Reject(w, 310000, "sign not match")
			return
		}
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		r.Reject(w, 43004, "Content-Type must be application/json")
		return
	}
	raw, _ := io.ReadAll(req.Body)
	if !utf8.Valid(raw) {
		r.Reject(w, 43004, "body must be UTF-8")
		return
	}
	var body struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content *string `json:"content"`
		} `json:"text"`
		Markdown *struct {
			Title *string `json:"title"`
			Text  *string `json:"text"`
		} `json:"markdown"`
		At *struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIDs []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		r.Reject(w, 40035, "缺少参数 json: "+err.Error())
		return
	}
	m := message{MsgType: body.MsgType}
	switch body.MsgType {
	case "text":
		if body.Text == nil || body.Text.Content == nil || *body.Text.Content == "" {
			r.Reject(w, 40035, "缺少参数 content")
			return
		}
		m.Text = *body.Text.Content
	case "markdown":
		if body.Markdown == nil || body.Markdown.Title == nil || body.Markdown.Text == nil || *body.Markdown.Text == "" {
			r.Reject(w, 40035, "缺少参数 markdown title/text")
			return
		}
		m.Text, m.Title = *body.Markdown.Text, *body.Markdown.Title
	default:
		r.Reject(w, 40035, "不支持的 msgtype")
		return
	}
	if len(m.Text) > maxText {
		r.Reject(w, 460101, "message too long")
		return
	}
	if r.keyword != "" && !strings.Contains(m.Text, r.keyword) && !strings.Contains(m.Title, r.keyword) {
		r.Reject(w, 310000, "keywords not in content")
		return
	}
	if body.At != nil {
		m.AtMobiles, m.AtUserIDs, m.IsAtAll = body.At.AtMobiles, body.At.AtUserIDs, body.At.IsAtAll
	}
	r.Accept(w, m)
}
