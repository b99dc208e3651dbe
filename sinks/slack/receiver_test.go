package slack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// Slack's documented limits, written here apart from the sink's own constants so that a sink
// that miscounts is caught (docs.slack.dev/reference/block-kit/blocks, chat.postMessage).
const (
	slackMaxBlocks     = 50
	slackMaxHeader     = 150
	slackMaxSection    = 3000
	slackMaxFields     = 10
	slackMaxFieldText  = 2000
	slackMaxText       = 40000
	slackMaxBlocksText = 11000 // observed: msg_blocks_too_long from 11,341 (slackapi/bolt-js#2867)
)

// chars counts UTF-16 code units, the stricter reading of "characters".
func chars(s string) int { return len(utf16.Encode([]rune(s))) }

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text"`
	Fields []slackText `json:"fields"`
}

// slackMessage is what the receiver decodes; unknown fields are refused, as a typo in a field
// name would silently lose the setting at Slack.
type slackMessage struct {
	Channel   string       `json:"channel"`
	Text      string       `json:"text"`
	Blocks    []slackBlock `json:"blocks"`
	Username  string       `json:"username"`
	IconEmoji string       `json:"icon_emoji"`
}

// validateSlack checks a message body the way Slack does and returns the error code Slack
// would answer with ("invalid_blocks", ...), or "" when Slack would post it.
func validateSlack(body []byte) (slackMessage, string, string) {
	var m slackMessage
	if !utf8.Valid(body) {
		return m, "invalid_payload", "body is not UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, "invalid_payload", err.Error()
	}
	if dec.More() {
		return m, "invalid_payload", "trailing data after the JSON object"
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		return m, "no_text", "neither text nor blocks"
	}
	if chars(m.Text) > slackMaxText {
		return m, "msg_too_long", fmt.Sprintf("text is %d characters", chars(m.Text))
	}
	if len(m.Blocks) > slackMaxBlocks {
		return m, "invalid_blocks", fmt.Sprintf("%d blocks", len(m.Blocks))
	}
	total := 0
	textObj := func(where string, t *slackText, max int, types ...string) string {
		if t == nil {
			return where + ": missing text object"
		}
		ok := false
		for _, ty := range types {
			ok = ok || t.Type == ty
		}
		if !ok {
			return fmt.Sprintf("%s: text type %q not allowed", where, t.Type)
		}
		if t.Emoji != nil && t.Type != "plain_text" {
			return where + ": emoji is only for plain_text"
		}
		n := chars(t.Text)
		total += n
		if n < 1 || n > max {
			return fmt.Sprintf("%s: must be 1 to %d characters, is %d", where, max, n)
		}
		return ""
	}
	for i, b := range m.Blocks {
		where := fmt.Sprintf("blocks/%d", i)
		switch b.Type {
		case "header":
			if len(b.Fields) > 0 {
				return m, "invalid_blocks", where + ": header has no fields"
			}
			if p := textObj(where+"/text", b.Text, slackMaxHeader, "plain_text"); p != "" {
				return m, "invalid_blocks", p
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return m, "invalid_blocks", where + ": a section needs text or fields"
			}
			if b.Text != nil {
				if p := textObj(where+"/text", b.Text, slackMaxSection, "plain_text", "mrkdwn"); p != "" {
					return m, "invalid_blocks", p
				}
			}
			if len(b.Fields) > slackMaxFields {
				return m, "invalid_blocks", fmt.Sprintf("%s: %d fields", where, len(b.Fields))
			}
			for j := range b.Fields {
				if p := textObj(fmt.Sprintf("%s/fields/%d", where, j), &b.Fields[j], slackMaxFieldText, "plain_text", "mrkdwn"); p != "" {
					return m, "invalid_blocks", p
				}
			}
		default:
			return m, "invalid_blocks", fmt.Sprintf("%s: block type %q not expected", where, b.Type)
		}
	}
	if total > slackMaxBlocksText {
		return m, "msg_blocks_too_long", fmt.Sprintf("blocks hold %d characters", total)
	}
	return m, "", ""
}

// fakeSlack serves an incoming webhook at hookPath and chat.postMessage at /api/chat.postMessage,
// checking each request as Slack does. Reply, when set, answers instead after the checks.
type fakeSlack struct {
	*chattest.Receiver[slackMessage]
	hookPath string
	token    string
	channel  string
}

const apiPath = "/api/chat.postMessage"

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{hookPath: "/services/T0001/B0001/s3cr3tHookToken0123456789", token: "xoxb-1-test-bot-token", channel: "C0ALERTS"}
	f.Receiver = chattest.NewReceiver[slackMessage](t, "Slack", f.serve)
	return f
}

func (f *fakeSlack) hookURL() string { return f.URL + f.hookPath }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	api := r.URL.Path == apiPath
	fail := func(status int, code, why string) {
		f.Refuse(code + ": " + why)
		if api {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, code)
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_payload", "method "+r.Method)
		return
	}
	if !api && r.URL.Path != f.hookPath {
		fail(http.StatusNotFound, "no_service", "unknown webhook path")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(http.StatusBadRequest, "invalid_payload", "Content-Type "+r.Header.Get("Content-Type"))
		return
	}
	if api && r.Header.Get("Authorization") != "Bearer "+f.token {
		fail(http.StatusOK, "invalid_auth", "Authorization header")
		return
	}
	m, code, why := validateSlack(body)
	if code != "" {
		fail(http.StatusBadRequest, code, why)
		return
	}
	if api && m.Channel != f.channel {
		fail(http.StatusOK, "channel_not_found", "channel "+m.Channel)
		return
	}
	n, answered := f.Accept(r, body, m, w)
	if answered {
		return
	}
	if api {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, m.Channel, n)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprint(w, "ok")
}

// texts returns the texts of a message's blocks of the given type ("" for all), in order.
func (m slackMessage) texts(typ string) []string {
	var out []string
	for _, b := range m.Blocks {
		if b.Text != nil && (typ == "" || b.Text.Type == typ) {
			out = append(out, b.Text.Text)
		}
		for _, f := range b.Fields {
			if typ == "" || f.Type == typ {
				out = append(out, f.Text)
			}
		}
	}
	return out
}

// field returns the value of a "*Label*\nvalue" field.
func (m slackMessage) field(label string) string {
	for _, b := range m.Blocks {
		for _, f := range b.Fields {
			if v, ok := strings.CutPrefix(f.Text, "*"+label+"*\n"); ok {
				return v
			}
		}
	}
	return ""
}
