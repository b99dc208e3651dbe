package dingtalk_test

import (
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

// receiver is a loopback DingTalk group robot at /robot/send. It checks what DingTalk checks:
// the access token (300001), the signature and its timestamp within an hour (310000), the
// keyword when one is set (310000), the message's fields and types, a text over 20,000 bytes,
// and more than 20 messages a minute (130101).
type receiver struct {
	*httptest.Server
	clk     *clocktesting.FakeClock
	token   string
	secret  string // "" when the robot does not sign
	keyword string // "" when the robot has no keyword

	mu       sync.Mutex
	messages []message
	rejected []string
	sentAt   []time.Time
	next     []string
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
	r := &receiver{clk: clk, token: "dt-token-0123456789abcdef", secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) sinkURL() string {
	return r.URL + "/robot/send?access_token=" + r.token
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
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
	q := req.URL.Query()
	if req.Method != http.MethodPost || req.URL.Path != "/robot/send" {
		http.NotFound(w, req)
		return
	}
	if q.Get("access_token") != r.token {
		r.reject(w, 300001, "token is not exist")
		return
	}
	if r.secret != "" {
		ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			r.reject(w, 310000, "sign not match, missing timestamp")
			return
		}
		if d := r.clk.Now().Sub(time.UnixMilli(ms)); d > time.Hour || d < -time.Hour {
			r.reject(w, 310000, "sign not match, timestamp is not within one hour of the current time")
			return
		}
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + r.secret))
		if q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			r.reject(w, 310000, "sign not match")
			return
		}
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		r.reject(w, 43004, "Content-Type must be application/json")
		return
	}
	raw, _ := io.ReadAll(req.Body)
	if !utf8.Valid(raw) {
		r.reject(w, 43004, "body must be UTF-8")
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
		r.reject(w, 40035, "缺少参数 json: "+err.Error())
		return
	}
	m := message{MsgType: body.MsgType}
	switch body.MsgType {
	case "text":
		if body.Text == nil || body.Text.Content == nil || *body.Text.Content == "" {
			r.reject(w, 40035, "缺少参数 content")
			return
		}
		m.Text = *body.Text.Content
	case "markdown":
		if body.Markdown == nil || body.Markdown.Title == nil || body.Markdown.Text == nil || *body.Markdown.Text == "" {
			r.reject(w, 40035, "缺少参数 markdown title/text")
			return
		}
		m.Text, m.Title = *body.Markdown.Text, *body.Markdown.Title
	default:
		r.reject(w, 40035, "不支持的 msgtype")
		return
	}
	if len(m.Text) > maxText {
		r.reject(w, 460101, "message too long")
		return
	}
	if r.keyword != "" && !strings.Contains(m.Text, r.keyword) && !strings.Contains(m.Title, r.keyword) {
		r.reject(w, 310000, "keywords not in content")
		return
	}
	if body.At != nil {
		m.AtMobiles, m.AtUserIDs, m.IsAtAll = body.At.AtMobiles, body.At.AtUserIDs, body.At.IsAtAll
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clk.Now()
	n := 0
	for _, at := range r.sentAt {
		if now.Sub(at) < time.Minute {
			n++
		}
	}
	if n >= 20 {
		r.rejected = append(r.rejected, "130101")
		reply(w, 130101, "send too fast, exceed 20 times per minute")
		return
	}
	r.sentAt = append(r.sentAt, now)
	r.messages = append(r.messages, m)
	reply(w, 0, "ok")
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
