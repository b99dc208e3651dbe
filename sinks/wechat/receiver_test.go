package wechat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// receiver is a loopback Work WeChat: a group robot at /cgi-bin/webhook/send?key=... and the
// application API's /cgi-bin/gettoken and /cgi-bin/message/send. It checks requests the way
// the service documents them and answers with its errcodes: 93000 for a wrong key, 40058 for
// a content over the limit or a field of the wrong type, 44004 for empty content, 45009 when
// a robot gets more than 20 messages in a minute, 42001 for an expired token.
type receiver struct {
	*chattest.Robot[message]
	key string
	// Application API.
	corpID, corpSecret string
	tokenLife          time.Duration

	mu     sync.Mutex
	tokens map[string]time.Time // token -> expiry
	tokenN int
}

// message is one accepted message, decoded.
type message struct {
	MsgType         string
	Content         string
	Mentioned       []string
	MentionedMobile []string
	ToUser          string
	AgentID         int
	Raw             []byte
}

func newReceiver(t *testing.T, clk *clocktesting.FakeClock) *receiver {
	r := &receiver{key: "robot-key-0123456789", corpID: "ww0123", corpSecret: "corp-secret-abcdef", tokenLife: 7200 * time.Second, tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/webhook/send", r.robot)
	mux.HandleFunc("/cgi-bin/gettoken", r.getToken)
	mux.HandleFunc("/cgi-bin/message/send", r.appSend)
	r.Robot = chattest.NewRobot[message](t, chattest.RobotSpec{
		Name: "Work WeChat", Reply: chattest.ReplyErrcode, OK: "ok",
		Limits: []chattest.Rate{{Max: 20, Per: time.Minute}}, TooFast: 45009, TooFastMsg: "api freq out of limit",
	}, clk, mux)
	return r
}

func (r *receiver) robotURL() string {
	return r.URL + "/cgi-bin/webhook/send?key=" + r.key
}

func (r *receiver) robot(w http.ResponseWriter, req *http.Request) {
	if r.Scripted(w) {
		return
	}
	if req.Method != http.MethodPost {
		r.Reply(w, 40001, "method must be POST")
		return
	}
	if req.URL.Query().Get("key") != r.key {
		r.Reject(w, 93000, "invalid webhook url")
		return
	}
	m, code, msg := decodeMessage(req, false)
	if code != 0 {
		r.Reject(w, code, msg)
		return
	}
	r.Accept(w, m)
}

// decodeMessage checks a message body as Work WeChat does.
func decodeMessage(req *http.Request, app bool) (message, int, string) {
	raw, _ := io.ReadAll(req.Body)
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return message{}, 40058, "content-type must be json, got " + ct
	}
	if !utf8.Valid(raw) {
		return message{}, 40033, "invalid charset. please check your request, if include \\uxxxx will create fail!"
	}
	var body struct {
		ToUser  *string `json:"touser"`
		AgentID *int    `json:"agentid"`
		MsgType string  `json:"msgtype"`
		Text    *struct {
			Content         *string  `json:"content"`
			Mentioned       []string `json:"mentioned_list"`
			MentionedMobile []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown *struct {
			Content *string `json:"content"`
		} `json:"markdown"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&body); err != nil {
		// A field of the wrong type (mentioned_list as a string) lands here too.
		return message{}, 40058, "invalid parameter: " + err.Error()
	}
	m := message{MsgType: body.MsgType, Raw: raw}
	var content *string
	limit := 2048
	switch body.MsgType {
	case "text":
		if body.Text == nil {
			return m, 40058, "missing text"
		}
		content = body.Text.Content
		m.Mentioned, m.MentionedMobile = body.Text.Mentioned, body.Text.MentionedMobile
	case "markdown":
		if body.Markdown == nil {
			return m, 40058, "missing markdown"
		}
		content = body.Markdown.Content
		if !app {
			limit = 4096
		}
	default:
		return m, 40008, "invalid message type"
	}
	if content == nil || *content == "" {
		return m, 44004, "empty content"
	}
	if len(*content) > limit {
		return m, 40058, fmt.Sprintf("content exceed max length %d", limit)
	}
	m.Content = *content
	if app {
		if body.ToUser == nil || body.AgentID == nil {
			return m, 40058, "missing touser or agentid"
		}
		m.ToUser, m.AgentID = *body.ToUser, *body.AgentID
	}
	return m, 0, ""
}

func (r *receiver) getToken(w http.ResponseWriter, req *http.Request) {
	if r.Scripted(w) {
		return
	}
	q := req.URL.Query()
	if q.Get("corpid") != r.corpID {
		r.Reply(w, 40013, "invalid corpid")
		return
	}
	if q.Get("corpsecret") != r.corpSecret {
		r.Reply(w, 40001, "invalid credential")
		return
	}
	r.mu.Lock()
	r.tokenN++
	tok := fmt.Sprintf("token-%d-abcdefgh", r.tokenN)
	r.tokens[tok] = r.Clock.Now().Add(r.tokenLife)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":%d}`, tok, int(r.tokenLife/time.Second))
}

func (r *receiver) appSend(w http.ResponseWriter, req *http.Request) {
	if r.Scripted(w) {
		return
	}
	tok := req.URL.Query().Get("access_token")
	r.mu.Lock()
	exp, ok := r.tokens[tok]
	r.mu.Unlock()
	switch {
	case tok == "":
		r.Reject(w, 41001, "access_token missing")
		return
	case !ok:
		r.Reject(w, 40014, "invalid access_token")
		return
	case !r.Clock.Now().Before(exp):
		r.Reject(w, 42001, "access_token expired")
		return
	}
	m, code, msg := decodeMessage(req, true)
	if code != 0 {
		r.Reject(w, code, msg)
		return
	}
	r.Accept(w, m)
}

// expireTokens makes every token the receiver issued expired, as a token revoked early.
func (r *receiver) expireTokens() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.tokens {
		r.tokens[k] = time.Time{}
	}
}
