// Package feishu delivers events to a Feishu (Lark) custom bot: a message card with a coloured
// header, or text, with the optional signature and @mentions. Messages are paced per bot and
// merged into digests in a storm.
package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:          "feishu",
		SecretPathAfter: []string{"hook"},
		Summary:         "Feishu / Lark custom bot: message card or text, optional signature, @mentions; paced per bot, merged into digests in a storm",
		Example:         "feishu:https://open.feishu.cn/open-apis/bot/v2/hook/0f3a9c5e-7b1d-4e2a-9c8f-6d5b4a3c2e1f?secret=qX9aT3bY7cZ1dW5e&at_all=true",
		Params:          Params,
		New:             sinks.Constructor(ParseConfig, New),
	})
}

// Codes are Feishu's reply codes as herald treats them: 11232 and 99991400 (frequency
// limit) and 9499 "too many request" are retried; 19001 (no such webhook token), 19021
// (signature or timestamp) and 19022 (IP) make the sink down until the credential is fixed,
// keeping its events; 9499 "Bad Request" (a malformed or over-20-KB body), 19024 (keyword) and
// every other code are permanent for that message. Old bots answer StatusCode/StatusMessage
// instead of code/msg.
var Codes = httpx.Codes{
	Fields:        []string{"code", "StatusCode"},
	MessageFields: []string{"msg", "StatusMessage"},
	RateLimited:   []string{"9499", "11232", "99991400"},
	Credential: map[string]string{
		"19021": "the signature does not match: secret= must be the bot's signing secret, and herald's clock must be within an hour of Feishu's",
		"19022": "Feishu refuses herald's egress IP: add it to the bot's IP allowlist",
	},
	CredentialCheck: func(code, msg string) (string, bool) {
		if code == "19001" && strings.Contains(strings.ToLower(msg), "token") {
			return "Feishu does not know the bot's webhook token: the bot was removed or the URL mistyped; copy the webhook URL from the bot's settings", true
		}
		return "", false
	},
}

// validate is chat.Validator(Codes), except that a 9499 saying "Bad Request" is permanent:
// Feishu answers 9499 both for a malformed body and for too many requests.
func validate(resp *http.Response, body []byte) error {
	var r struct {
		Code json.Number `json:"code"`
		Msg  string      `json:"msg"`
	}
	if json.Unmarshal(body, &r) == nil && r.Code == "9499" && strings.Contains(strings.ToLower(r.Msg), "bad request") {
		return httpx.Reject("9499", r.Msg+" (the body is malformed or over 20 KB)", false, 0)
	}
	return chat.Validator(Codes)(resp, body)
}

// Sink is a feishu sink: a chat.Robot in Feishu's text or interactive card message. Its
// Preview shows a body without timestamp and sign, which Post adds at send time.
type Sink struct {
	chat.Robot
	cfg    *Config
	layout chat.TextLayout
}

// New builds a sink from a parsed Config (tests set cfg.Clock first).
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	pacing := cfg.Pacing
	pacing.Clock = cfg.Clock
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, cfg.robotID(), pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg}
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: cfg.Location, Limit: Limit - signatureRoom,
		Event: s.renderEvent, Digest: s.renderDigest, Template: templateBody,
		DigestFix: "shorten label= or the mentions", Post: s.Post})
	s.layout = chat.TextLayout{Style: chat.PlainText, Labels: cfg.Labels, Footer: mentions(cfg)}
	if cfg.MsgType == "interactive" {
		st := chat.Markdown
		st.Title = func(string, string) string { return "" } // the card's header holds it
		s.layout.Style = st
	}
	glog.Infof("%s: Feishu bot at %s://%s (token not shown), %s messages, signed %v", cfg.ID, cfg.Hook.Scheme, cfg.Hook.Host, cfg.MsgType, cfg.Secret != "")
	return s, nil
}

// mentions writes the @mentions: <at user_id="..."></at> in text, <at id=...></at> in a
// card's lark_md.
func mentions(cfg *Config) string {
	ids := append([]string(nil), cfg.AtUsers...)
	if cfg.AtAll {
		ids = append(ids, "all")
	}
	var b strings.Builder
	for _, id := range ids {
		if cfg.MsgType == "text" {
			fmt.Fprintf(&b, `<at user_id="%s"></at>`, id)
		} else {
			fmt.Fprintf(&b, `<at id=%s></at>`, id)
		}
	}
	return b.String()
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "feishu" }

// renderDigest lays out a digest view; its size is the body's, which Limit bounds.
func (s *Sink) renderDigest(v *chat.View) ([]byte, int, error) {
	title, typ := chat.DigestTitle(v.Digest)
	b, err := s.encode(typ, title, s.layout.Digest(v))
	return b, len(b), err
}

// renderEvent lays out one event; its size is the body's.
func (s *Sink) renderEvent(f chat.Fields) ([]byte, int, error) {
	b, err := s.encode(f.Type, chat.EventTitle(f), s.layout.Event(f))
	return b, len(b), err
}

// templateBody refuses a body template's output over Feishu's limit (with room for the
// signature added at send time).
func templateBody(_ *core.Event, b []byte) ([]byte, error) {
	if len(b) > Limit-signatureRoom {
		return nil, fmt.Errorf("the body template renders %d bytes, over Feishu's 20 KB; shorten it, e.g. {{ .Message | truncate 2000 }}", len(b))
	}
	return b, nil
}

// Message bodies as Feishu documents them.
type (
	textMessage struct {
		MsgType string `json:"msg_type"`
		Content struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	cardMessage struct {
		MsgType string `json:"msg_type"`
		Card    card   `json:"card"`
	}
	card struct {
		Config   cardConfig    `json:"config"`
		Header   cardHeader    `json:"header"`
		Elements []cardElement `json:"elements"`
	}
	cardConfig struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	}
	cardHeader struct {
		Title    cardText `json:"title"`
		Template string   `json:"template"`
	}
	cardElement struct {
		Tag  string    `json:"tag"`
		Text *cardText `json:"text,omitempty"`
	}
	cardText struct {
		Tag     string `json:"tag"`
		Content string `json:"content"`
	}
)

// encode builds the body: a card with the title in a header coloured by type (red for
// Warning, blue otherwise), or text with the title as its first line.
func (s *Sink) encode(typ, title, text string) ([]byte, error) {
	if s.cfg.MsgType == "text" {
		var m textMessage
		m.MsgType = "text"
		m.Content.Text = text
		return chat.MarshalJSON(m)
	}
	color := "blue"
	if typ == "Warning" {
		color = "red"
	}
	if typ == "" {
		typ = "Event"
	}
	m := cardMessage{MsgType: "interactive", Card: card{
		Config: cardConfig{WideScreenMode: true},
		Header: cardHeader{Title: cardText{Tag: "plain_text", Content: chat.Truncate(typ+" · "+title, 300)}, Template: color},
		Elements: []cardElement{
			{Tag: "div", Text: &cardText{Tag: "lark_md", Content: text}},
		},
	}}
	return chat.MarshalJSON(m)
}

// Post signs the body when the bot has a secret, and sends it.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	if s.cfg.Secret != "" {
		ts, sign := Sign(s.cfg.Secret.Reveal(), s.cfg.Clock.Now())
		signed, err := addFields(body, map[string]string{"timestamp": ts, "sign": sign})
		if err != nil {
			return core.Permanent(err)
		}
		body = signed
	}
	_, err := chat.PostJSON(ctx, s.Client, s.cfg.Hook.String(), body, validate)
	return err
}

// addFields adds top-level string fields to a JSON object body, keeping the rest as it is.
func addFields(body []byte, fields map[string]string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object, so it cannot be signed: %v", err)
	}
	for k, v := range fields {
		raw, _ := json.Marshal(v)
		obj[k] = raw
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
