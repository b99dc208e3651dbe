package feishu_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// receiver is a loopback Feishu custom bot at /open-apis/bot/v2/hook/TOKEN. It checks what
// Feishu checks: the token (19001), a body over 20 KB or not a valid message (9499 Bad
// Request), the signature and its timestamp within an hour (19021), the keyword when one is
// set (19024), and more than 5 messages a second or 100 a minute (11232).
type receiver struct {
	*chattest.Robot[message]
	token   string
	secret  string
	keyword string
}

// message is one accepted message: its type, its visible text (a card's header and lark_md
// elements, or the text) and its raw body.
type message struct {
	MsgType string
	Header  string
	Color   string
	Text    string
	Raw     []byte
}

const maxBody = 20 * 1024

func newReceiver(t *testing.T, clk *clocktesting.FakeClock, secret string) *receiver {
	r := &receiver{token: "0f3a9c5e-7b1d-4e2a-9c8f-6d5b4a3c2e1f", secret: secret}
	r.Robot = chattest.NewRobot[message](t, chattest.RobotSpec{
		Name: "Feishu", Reply: reply, OK: "success",
		Limits: []chattest.Rate{{Max: 5, Per: time.Second}, {Max: 100, Per: time.Minute}}, TooFast: 11232, TooFastMsg: "frequency limited psm[lark.oapi.app_platform_runtime]",
	}, clk, http.HandlerFunc(r.handle))
	return r
}

func (r *receiver) hook() string { return r.URL + "/open-apis/bot/v2/hook/" + r.token }

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"code":%d,"msg":%q,"data":{}}`, code, msg)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	if r.Scripted(w) {
		return
	}
	if req.Method != http.MethodPost || req.URL.Path != "/open-apis/bot/v2/hook/"+r.token {
		r.Reject(w, 19001, "param invalid: incoming webhook access token invalid")
		return
	}
	raw, _ := io.ReadAll(req.Body)
	if len(raw) > maxBody || !utf8.Valid(raw) {
		r.Reject(w, 9499, "Bad Request")
		return
	}
	var body struct {
		MsgType   string `json:"msg_type"`
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		Content   *struct {
			Text *string `json:"text"`
		} `json:"content"`
		Card *struct {
			Config *struct {
				WideScreenMode bool `json:"wide_screen_mode"`
			} `json:"config"`
			Header *struct {
				Title *struct {
					Tag     string  `json:"tag"`
					Content *string `json:"content"`
				} `json:"title"`
				Template string `json:"template"`
			} `json:"header"`
			Elements []struct {
				Tag  string `json:"tag"`
				Text *struct {
					Tag     string `json:"tag"`
					Content string `json:"content"`
				} `json:"text"`
			} `json:"elements"`
		} `json:"card"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		r.Reject(w, 9499, "Bad Request: "+err.Error())
		return
	}
	if r.secret != "" {
		sec, err := strconv.ParseInt(body.Timestamp, 10, 64)
		d := r.Clock.Now().Sub(time.Unix(sec, 0))
		mac := hmac.New(sha256.New, []byte(body.Timestamp+"\n"+r.secret))
		if err != nil || d > time.Hour || d < -time.Hour || body.Sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			r.Reject(w, 19021, "sign match fail or timestamp is not within one hour from current time")
			return
		}
	}
	m := message{MsgType: body.MsgType, Raw: raw}
	switch body.MsgType {
	case "text":
		if body.Content == nil || body.Content.Text == nil || *body.Content.Text == "" {
			r.Reject(w, 9499, "Bad Request: content.text")
			return
		}
		m.Text = *body.Content.Text
	case "interactive":
		c := body.Card
		if c == nil || c.Header == nil || c.Header.Title == nil || c.Header.Title.Content == nil || c.Header.Title.Tag != "plain_text" || len(c.Elements) == 0 {
			r.Reject(w, 9499, "Bad Request: card")
			return
		}
		m.Header, m.Color = *c.Header.Title.Content, c.Header.Template
		var parts []string
		for _, e := range c.Elements {
			if e.Tag != "div" || e.Text == nil || (e.Text.Tag != "lark_md" && e.Text.Tag != "plain_text") {
				r.Reject(w, 9499, "Bad Request: element")
				return
			}
			parts = append(parts, e.Text.Content)
		}
		m.Text = strings.Join(parts, "\n")
	default:
		r.Reject(w, 9499, "Bad Request: msg_type")
		return
	}
	if r.keyword != "" && !strings.Contains(m.Header+m.Text, r.keyword) {
		r.Reject(w, 19024, "Key Words Not Found")
		return
	}
	r.Accept(w, m)
}
