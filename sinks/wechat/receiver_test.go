package wechat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"
)

// receiver is a loopback Work WeChat: a group robot at /cgi-bin/webhook/send?key=... and the
// application API's /cgi-bin/gettoken and /cgi-bin/message/send. It checks requests the way
// the service documents them and answers with its errcodes: 93000 for a wrong key, 40058 for
// a content over the limit or a field of the wrong type, 44004 for empty content, 45009 when
// a robot gets more than 20 messages in a minute, 42001 for an expired token.
type receiver struct {
	*httptest.Server
	t   *testing.T
	clk *clocktesting.FakeClock
	key string
	// Application API.
	corpID, corpSecret string
	tokenLife          time.Duration

	mu       sync.Mutex
	messages []message
	rejected []string // errcodes sent back
	sentAt   []time.Time
	tokens   map[string]time.Time // token -> expiry
	tokenN   int
	// next replies, consumed first (a JSON body, or "HTTP nnn").
	next []string
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
	r := &receiver{t: t, clk: clk, key: "robot-key-0123456789", corpID: "ww0123", corpSecret: "corp-secret-abcdef", tokenLife: 7200 * time.Second, tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/webhook/send", r.robot)
	mux.HandleFunc("/cgi-bin/gettoken", r.getToken)
	mux.HandleFunc("/cgi-bin/message/send", r.appSend)
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) robotURL() string {
	return r.URL + "/cgi-bin/webhook/send?key=" + r.key
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
}

// scripted answers with the next scripted reply, if any.
func (r *receiver) scripted(w http.ResponseWriter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.next) == 0 {
		return false
	}
	n := r.next[0]
	r.next = r.next[1:]
	if code, ok := strings.CutPrefix(n, "HTTP "); ok {
		var c int
		fmt.Sscan(code, &c)
		w.WriteHeader(c)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, n)
	return true
}

func (r *receiver) robot(w http.ResponseWriter, req *http.Request) {
	if r.scripted(w) {
		return
	}
	if req.Method != http.MethodPost {
		reply(w, 40001, "method must be POST")
		return
	}
	if req.URL.Query().Get("key") != r.key {
		r.reject(w, 93000, "invalid webhook url")
		return
	}
	m, code, msg := decodeMessage(req, false)
	if code != 0 {
		r.reject(w, code, msg)
		return
	}
	r.accept(w, m)
}

func (r *receiver) reject(w http.ResponseWriter, code int, msg string) {
	r.mu.Lock()
	r.rejected = append(r.rejected, fmt.Sprint(code))
	r.mu.Unlock()
	reply(w, code, msg)
}

// accept records m, unless it is the 21st message within a minute.
func (r *receiver) accept(w http.ResponseWriter, m message) {
	r.mu.Lock()
	now := r.clk.Now()
	n := 0
	for _, at := range r.sentAt {
		if now.Sub(at) < time.Minute {
			n++
		}
	}
	if n >= 20 {
		r.rejected = append(r.rejected, "45009")
		r.mu.Unlock()
		reply(w, 45009, "api freq out of limit")
		return
	}
	r.sentAt = append(r.sentAt, now)
	r.messages = append(r.messages, m)
	r.mu.Unlock()
	reply(w, 0, "ok")
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
	if r.scripted(w) {
		return
	}
	q := req.URL.Query()
	if q.Get("corpid") != r.corpID {
		reply(w, 40013, "invalid corpid")
		return
	}
	if q.Get("corpsecret") != r.corpSecret {
		reply(w, 40001, "invalid credential")
		return
	}
	r.mu.Lock()
	r.tokenN++
	tok := fmt.Sprintf("token-%d-abcdefgh", r.tokenN)
	r.tokens[tok] = r.clk.Now().Add(r.tokenLife)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":%d}`, tok, int(r.tokenLife/time.Second))
}

func (r *receiver) appSend(w http.ResponseWriter, req *http.Request) {
	if r.scripted(w) {
		return
	}
	tok := req.URL.Query().Get("access_token")
	r.mu.Lock()
	exp, ok := r.tokens[tok]
	r.mu.Unlock()
	switch {
	case tok == "":
		r.reject(w, 41001, "access_token missing")
		return
	case !ok:
		r.reject(w, 40014, "invalid access_token")
		return
	case !r.clk.Now().Before(exp):
		r.reject(w, 42001, "access_token expired")
		return
	}
	m, code, msg := decodeMessage(req, true)
	if code != 0 {
		r.reject(w, code, msg)
		return
	}
	r.accept(w, m)
}

// expireTokens makes every token the receiver issued expired, as a token revoked early.
func (r *receiver) expireTokens() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.tokens {
		r.tokens[k] = time.Time{}
	}
}

func (r *receiver) script(replies ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = append(r.next, replies...)
}

func (r *receiver) got() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.messages...)
}

func (r *receiver) rejections() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}
