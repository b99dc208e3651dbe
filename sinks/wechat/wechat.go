// Package wechat delivers events to Work WeChat (企业微信): to a group robot's webhook, with
// @mentions, or through kube-eventer's application message API form (corp_id, corp_secret,
// agent_id, to_user). Messages are paced per robot and merged into digests in a storm.
package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
	"github.com/heraldproject/herald/sinks/filter"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "wechat",
		Summary: "Work WeChat: a group robot (text or markdown, @mentions) or the application message API (kube-eventer's wechat:?corp_id=...); paced per robot, merged into digests in a storm",
		Example: "wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa&msg_type=markdown&mentioned_list=zhangsan&namespaces=shop",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it.
		KubeEventer: true,
		Filter:      filter.KubeEventerRobot,
	})
}

// Codes are Work WeChat's error codes as herald treats them: 45009 (too many messages) is
// retried after a minute, -1 (system busy) after backoff; the codes that refuse the credential
// (93000 invalid webhook key, 40001 invalid corp secret, 40013 invalid corp ID, 40014 and 42001
// invalid or expired access token, 60020 caller IP not allowed, 48002 API not allowed) make the
// sink down until it is fixed, keeping its events; every other code (40058 invalid parameter,
// 44004 empty content...) is permanent for that message. The application API's token codes are
// first handled by fetching a new token.
var Codes = httpx.Codes{
	Fields:        []string{"errcode"},
	MessageFields: []string{"errmsg"},
	RateLimited:   []string{"45009"},
	RateLimitWait: time.Minute,
	Retryable:     []string{"-1"},
	Credential: map[string]string{
		"93000": "Work WeChat does not know the robot's key (key= of the webhook URL): the robot was removed or the key mistyped; copy the webhook URL from the group's robot settings",
		"40001": "corp_secret is wrong for this application: copy the application's Secret from the Work WeChat admin console",
		"40013": "corp_id is wrong: copy the company's ID from the Work WeChat admin console",
		"40014": "Work WeChat refused the access token even after herald fetched a new one: check corp_id and corp_secret",
		"42001": "Work WeChat says the access token expired even after herald fetched a new one: check corp_id and corp_secret",
		"60020": "Work WeChat refuses calls from this IP: add herald's egress IP to the application's trusted IPs",
		"48002": "the application may not call this API: enable it in the application's settings",
	},
}

// Sink is a wechat sink.
type Sink struct {
	chat.Robot
	cfg    *Config
	layout chat.TextLayout
	token  *tokenCache // app mode
}

// New builds a sink from a parsed Config (tests set cfg.Clock first).
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	pacing := cfg.Pacing
	pacing.Clock = cfg.Clock
	res, err := chat.Open(env, cfg.HTTP, cfg.Template, cfg.robotID(), pacing)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:    cfg,
		layout: chat.TextLayout{Style: style(cfg.MsgType), Labels: cfg.Labels},
	}
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: cfg.Location, Limit: cfg.Limit(),
		Event: s.renderEvent, Digest: s.renderDigest, Template: s.completeTemplateBody,
		DigestFix: "shorten label= or the mentions", Post: s.Post})
	if cfg.Mode == ModeApp {
		s.token = &tokenCache{cfg: cfg, client: res.Client}
		glog.Infof("%s: Work WeChat application %d of corp %s via %s, to %s, %s messages", cfg.ID, cfg.AgentID, cfg.CorpID, cfg.Endpoint, strings.Join(cfg.ToUser, ","), cfg.MsgType)
	} else {
		s.layout.Footer = mentionFooter(cfg)
		glog.Infof("%s: Work WeChat group robot at %s://%s (key not shown), %s messages, %d mentions", cfg.ID, cfg.Robot.Scheme, cfg.Robot.Host, cfg.MsgType, len(cfg.Mentioned)+len(cfg.MentionedMobile))
	}
	return s, nil
}

// style is the text layout's markup for msg_type.
func style(msgType string) chat.Style {
	if msgType != "markdown" {
		return chat.PlainText
	}
	st := chat.Markdown
	// Work WeChat's markdown documents inline code "not across lines" and no code block: a
	// log's lines are quoted instead.
	st.Code = chat.QuotedLines
	st.Title = func(typ, title string) string {
		color := "info"
		if typ == "Warning" {
			color = "warning"
		}
		return fmt.Sprintf(`### <font color="%s">%s</font> %s`, color, typ, title)
	}
	return st
}

// mentionFooter writes a robot's markdown mentions into the content, as Work WeChat wants
// them (<@userid>); text messages carry them in mentioned_list instead.
func mentionFooter(cfg *Config) string {
	if cfg.MsgType != "markdown" || len(cfg.Mentioned) == 0 {
		return ""
	}
	var b strings.Builder
	for _, u := range cfg.Mentioned {
		fmt.Fprintf(&b, "<@%s>", u)
	}
	return b.String()
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "wechat" }

func (s *Sink) renderEvent(f chat.Fields) ([]byte, int, error) {
	return s.encodeText(s.layout.Event(f))
}
func (s *Sink) renderDigest(v *chat.View) ([]byte, int, error) {
	return s.encodeText(s.layout.Digest(v))
}

// encodeText wraps a laid-out text in the body; its size is the text's, which the limit bounds.
func (s *Sink) encodeText(text string) ([]byte, int, error) {
	b, err := s.encode(text)
	return b, len(text), err
}

// completeTemplateBody cuts a template's content to the limit and, for the application API,
// adds the recipients and agent ID the template left out.
func (s *Sink) completeTemplateBody(_ *core.Event, b []byte) ([]byte, error) {
	var err error
	for _, mt := range []string{"text", "markdown"} {
		if b, err = chat.ClampJSONString(b, s.cfg.Limit(), mt, "content"); err != nil {
			return nil, fmt.Errorf("the body template's output: %w", err)
		}
	}
	if s.cfg.Mode != ModeApp {
		return b, nil
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("the body template's output is not a JSON object: %v", err)
	}
	if _, ok := obj["touser"]; !ok {
		obj["touser"] = strings.Join(s.cfg.ToUser, "|")
	}
	if _, ok := obj["agentid"]; !ok {
		obj["agentid"] = s.cfg.AgentID
	}
	return chat.MarshalJSON(obj)
}

// Message bodies. A robot's: {"msgtype":"text","text":{"content":...,"mentioned_list":[...]}};
// an application's adds touser and agentid.
type (
	robotMessage struct {
		MsgType  string    `json:"msgtype"`
		Text     *textPart `json:"text,omitempty"`
		Markdown *mdPart   `json:"markdown,omitempty"`
	}
	appMessage struct {
		ToUser   string    `json:"touser"`
		MsgType  string    `json:"msgtype"`
		AgentID  int       `json:"agentid"`
		Text     *textPart `json:"text,omitempty"`
		Markdown *mdPart   `json:"markdown,omitempty"`
		Safe     int       `json:"safe"`
	}
	textPart struct {
		Content         string   `json:"content"`
		MentionedList   []string `json:"mentioned_list,omitempty"`
		MentionedMobile []string `json:"mentioned_mobile_list,omitempty"`
	}
	mdPart struct {
		Content string `json:"content"`
	}
)

// encode wraps a message text in the body for the sink's mode and msg_type.
func (s *Sink) encode(content string) ([]byte, error) {
	var text *textPart
	var md *mdPart
	if s.cfg.MsgType == "markdown" {
		md = &mdPart{Content: content}
	} else {
		text = &textPart{Content: content}
	}
	if s.cfg.Mode == ModeApp {
		return chat.MarshalJSON(appMessage{ToUser: strings.Join(s.cfg.ToUser, "|"), MsgType: s.cfg.MsgType, AgentID: s.cfg.AgentID, Text: text, Markdown: md})
	}
	if text != nil {
		text.MentionedList = s.cfg.Mentioned
		text.MentionedMobile = s.cfg.MentionedMobile
	}
	return chat.MarshalJSON(robotMessage{MsgType: s.cfg.MsgType, Text: text, Markdown: md})
}

// Post sends one message body.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	if s.cfg.Mode == ModeApp {
		return s.token.send(ctx, body)
	}
	_, err := chat.PostJSON(ctx, s.Client, s.cfg.Robot.String(), body, chat.Validator(Codes))
	return err
}
