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
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	clocktesting "k8s.io/utils/clock/testing"
)

// receiver is a loopback Feishu custom bot at /open-apis/bot/v2/hook/TOKEN. It checks what
// Feishu checks: the token (19001), a body over 20 KB or not a valid message (9499 Bad
// Request), the signature and its timestamp within an hour (19021), the keyword when one is
// set (19024), and more than 5 messages a second or 100 a minute (11232).
type receiver struct {
	*httptest.Server
	clk     *clocktesting.FakeClock
	token   string
	secret  string
	keyword string

	mu       sync.Mutex
	messages []message
	rejected []string
	sentAt   []time.Time
	next     []string
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
	r := &receiver{clk: clk, token: "0f3a9c5e-7b1d-4e2a-9c8f-6d5b4a3c2e1f", secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hook() string { return r.URL + "/open-apis/bot/v2/hook/" + r.token }

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"code":%d,"msg":%q,"data":{}}`, code, msg)
}

func (r *receiver) reject(w http.ResponseWriter, code int, msg string) {
	r.mu.Lock()
	r.rejected = append(r.rejected, fmt.Sprint(code))
	r.mu.Unlock()
	reply(w, code, msg)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if len(r.next) > 0 {
		n := r.next[0]
		r.next = r.next[1:]
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, n)
		return
	}
	r.mu.Unlock()
	if req.Method != http.MethodPost || req.URL.Path != "/open-apis/bot/v2/hook/"+r.token {
		r.reject(w, 19001, "param invalid: incoming webhook access token invalid")
		return
	}
	raw, _ := io.ReadAll(req.Body)
	if len(raw) > maxBody || !utf8.Valid(raw) {
		r.reject(w, 9499, "Bad Request")
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
		r.reject(w, 9499, "Bad Request: "+err.Error())
		return
	}
	if r.secret != "" {
		sec, err := strconv.ParseInt(body.Timestamp, 10, 64)
		d := r.clk.Now().Sub(time.Unix(sec, 0))
		mac := hmac.New(sha256.New, []byte(body.Timestamp+"\n"+r.secret))
		if err != nil || d > time.Hour || d < -time.Hour || body.Sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			r.reject(w, 19021, "sign match fail or timestamp is not within one hour from current time")
			return
		}
	}
	m := message{MsgType: body.MsgType, Raw: raw}
	switch body.MsgType {
	case "text":
		if body.Content == nil || body.Content.Text == nil || *body.Content.Text == "" {
			r.reject(w, 9499, "Bad Request: content.text")
			return
		}
		m.Text = *body.Content.Text
	case "interactive":
		c := body.Card
		if c == nil || c.Header == nil || c.Header.Title == nil || c.Header.Title.Content == nil || c.Header.Title.Tag != "plain_text" || len(c.Elements) == 0 {
			r.reject(w, 9499, "Bad Request: card")
			return
		}
		m.Header, m.Color = *c.Header.Title.Content, c.Header.Template
		var parts []string
		for _, e := range c.Elements {
			if e.Tag != "div" || e.Text == nil || (e.Text.Tag != "lark_md" && e.Text.Tag != "plain_text") {
				r.reject(w, 9499, "Bad Request: element")
				return
			}
			parts = append(parts, e.Text.Content)
		}
		m.Text = strings.Join(parts, "\n")
	default:
		r.reject(w, 9499, "Bad Request: msg_type")
		return
	}
	if r.keyword != "" && !strings.Contains(m.Header+m.Text, r.keyword) {
		r.reject(w, 19024, "Key Words Not Found")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clk.Now()
	perSecond, perMinute := 0, 0
	for _, at := range r.sentAt {
		if now.Sub(at) < time.Second {
			perSecond++
		}
		if now.Sub(at) < time.Minute {
			perMinute++
		}
	}
	if perSecond >= 5 || perMinute >= 100 {
		r.rejected = append(r.rejected, "11232")
		reply(w, 11232, "frequency limited psm[lark.oapi.app_platform_runtime]")
		return
	}
	r.sentAt = append(r.sentAt, now)
	r.messages = append(r.messages, m)
	reply(w, 0, "success")
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
