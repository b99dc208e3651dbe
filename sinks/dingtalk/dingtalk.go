// Package dingtalk delivers events to a DingTalk (钉钉) group robot with kube-eventer's
// parameters: text or markdown, labels, the optional HMAC-SHA256 signature, and @mentions by
// mobile, user ID or everyone. Messages are paced per robot and merged into digests in a storm.
package dingtalk

import (
	"context"
	"fmt"
	"net/url"
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
		Scheme:  "dingtalk",
		Summary: "DingTalk group robot (kube-eventer's dingtalk sink): text or markdown, signature, @mentions; paced per robot, merged into digests in a storm",
		Example: "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=a5c19f3e02feba7bd5dfc22bfb04afa2&sign=SEC4801ebab0yeuq924909668e5979f7d&msg_type=markdown&at_mobiles=13800001111",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it.
		KubeEventer: true,
		Filter:      filter.KubeEventerRobot,
	})
}

// Codes are DingTalk's error codes as herald treats them: 130101 (more than 20 messages a
// minute; DingTalk then mutes the robot for ten minutes) is retried after ten minutes, -1
// (system busy) after backoff; 300001 (no such access token) and 310000 for a signature or an
// IP refused make the sink down until the credential is fixed, keeping its events; every other
// code (310000 for a missing keyword, ...) is permanent for that message.
var Codes = httpx.Codes{
	Fields:        []string{"errcode"},
	MessageFields: []string{"errmsg"},
	RateLimited:   []string{"130101"},
	RateLimitWait: 10 * time.Minute,
	Retryable:     []string{"-1"},
	Credential: map[string]string{
		"300001": "DingTalk does not know the robot's access_token: the robot was removed or the token mistyped; copy the webhook URL from the robot's settings",
	},
	CredentialCheck: func(code, msg string) (string, bool) {
		if code != "310000" {
			return "", false
		}
		m := strings.ToLower(msg)
		switch {
		case strings.Contains(m, "sign"):
			return "the signature does not match: sign= must be the robot's secret (SEC...), and herald's clock must be within an hour of DingTalk's", true
		case strings.Contains(m, "whitelist") || strings.Contains(m, "ip "):
			return "DingTalk refuses herald's egress IP: add it to the robot's IP allowlist", true
		}
		return "", false // a missing keyword: the message, not the credential
	},
}

// Sink is a dingtalk sink: a chat.Robot in DingTalk's text or markdown message.
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
	s.Robot = chat.NewRobot(res, chat.Format{Cluster: cfg.Cluster, Location: cfg.Location, Limit: Limit,
		Event: s.renderEvent, Digest: s.renderDigest, Template: templateBody,
		DigestFix: "shorten label= or the mentions", Post: s.Post})
	s.layout = chat.TextLayout{Style: chat.PlainText, Labels: cfg.Labels, Footer: mentionFooter(cfg)}
	if cfg.MsgType == "markdown" {
		st := chat.Markdown
		st.NewLine = "\n\n" // DingTalk's markdown breaks lines only at blank lines
		// DingTalk documents headings, quotes, emphasis, links, images and lists, no code
		// block: a log's lines are quoted, each ending in a hard break ("  \n").
		st.Code = func(log string) string { return strings.ReplaceAll(chat.QuotedLines(log), "\n", "  \n") }
		s.layout.Style = st
		if cfg.ClusterID != "" && cfg.Region != "" {
			s.layout.Link = consoleLink(cfg.ClusterID, cfg.Region)
		}
	}
	glog.Infof("%s: DingTalk robot at %s (token not shown), %s messages, signed %v, %d mentions, at_all %v", cfg.ID, cfg.URL.Scheme+"://"+cfg.URL.Host, cfg.MsgType, cfg.Secret != "", len(cfg.AtMobiles)+len(cfg.AtUserIDs), cfg.AtAll)
	return s, nil
}

// mentionFooter writes the mentions into the text, where DingTalk wants them ("@13800001111")
// for the mention to show.
func mentionFooter(cfg *Config) string {
	var at []string
	for _, m := range cfg.AtMobiles {
		at = append(at, "@"+m)
	}
	for _, u := range cfg.AtUserIDs {
		at = append(at, "@"+u)
	}
	return strings.Join(at, " ")
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "dingtalk" }

// renderDigest lays out a digest view; its size is the text's, which Limit bounds.
func (s *Sink) renderDigest(v *chat.View) ([]byte, int, error) {
	text := s.layout.Digest(v)
	b, err := s.encode(fmt.Sprintf("%d Kubernetes events", v.Events), text)
	return b, len(text), err
}

// renderEvent lays out one event; its size is the text's.
func (s *Sink) renderEvent(f chat.Fields) ([]byte, int, error) {
	text := s.layout.Event(f)
	b, err := s.encode(chat.Truncate(f.Reason+" "+f.Object(), 200), text)
	return b, len(text), err
}

// templateBody cuts a body template's text or markdown to the limit.
func templateBody(_ *core.Event, b []byte) ([]byte, error) {
	var err error
	if b, err = chat.ClampJSONString(b, Limit, "text", "content"); err != nil {
		return nil, fmt.Errorf("the body template's output: %w", err)
	}
	if b, err = chat.ClampJSONString(b, Limit, "markdown", "text"); err != nil {
		return nil, fmt.Errorf("the body template's output: %w", err)
	}
	return b, nil
}

// Message bodies, as DingTalk documents them.
type (
	message struct {
		MsgType  string    `json:"msgtype"`
		Text     *textPart `json:"text,omitempty"`
		Markdown *mdPart   `json:"markdown,omitempty"`
		At       *atPart   `json:"at,omitempty"`
	}
	textPart struct {
		Content string `json:"content"`
	}
	mdPart struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	atPart struct {
		AtMobiles []string `json:"atMobiles,omitempty"`
		AtUserIDs []string `json:"atUserIds,omitempty"`
		IsAtAll   bool     `json:"isAtAll,omitempty"`
	}
)

// encode wraps a message text for msg_type, with the mentions.
func (s *Sink) encode(title, text string) ([]byte, error) {
	m := message{MsgType: s.cfg.MsgType}
	if s.cfg.MsgType == "markdown" {
		m.Markdown = &mdPart{Title: title, Text: text}
	} else {
		m.Text = &textPart{Content: text}
	}
	if len(s.cfg.AtMobiles)+len(s.cfg.AtUserIDs) > 0 || s.cfg.AtAll {
		m.At = &atPart{AtMobiles: s.cfg.AtMobiles, AtUserIDs: s.cfg.AtUserIDs, IsAtAll: s.cfg.AtAll}
	}
	return chat.MarshalJSON(m)
}

// Post sends one message body, signed when the robot has a secret.
func (s *Sink) Post(ctx context.Context, body []byte) error {
	q := url.Values{"access_token": {s.cfg.AccessToken.Reveal()}}
	if s.cfg.Secret != "" {
		ts, sign := Sign(s.cfg.Secret.Reveal(), s.cfg.Clock.Now())
		q.Set("timestamp", ts)
		q.Set("sign", sign)
	}
	u := *s.cfg.URL
	u.RawQuery = q.Encode()
	_, err := chat.PostJSON(ctx, s.Client, u.String(), body, chat.Validator(Codes))
	return err
}
