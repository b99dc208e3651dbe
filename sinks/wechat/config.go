package wechat

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

// Modes: a group robot's webhook, or kube-eventer's application message API.
const (
	ModeRobot = "robot"
	ModeApp   = "app"
)

// Size limits of the message text, in bytes, as Work WeChat documents them: a group robot's
// text content 2048 and markdown content 4096; an application message's content 2048.
const (
	RobotTextLimit     = 2048
	RobotMarkdownLimit = 4096
	AppLimit           = 2048
)

// DefaultEndpoint is the Work WeChat API host the application form talks to.
const DefaultEndpoint = "https://qyapi.weixin.qq.com"

// Params are the wechat sink's own parameters.
var Params = slices.Concat([]uri.Param{
	{Name: "key", Secret: true, Example: "${WECHAT_ROBOT_KEY}",
		Help: "group robot: the robot's key, as in its webhook URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY"},
	{Name: "msg_type", Default: "text", Example: "markdown",
		Help: "text or markdown. Text holds 2048 bytes and mentions by userid (mentioned_list) and mobile (mentioned_mobile_list); a robot's markdown holds 4096 bytes and mentions by userid only"},
	{Name: "mentioned_list", Repeatable: true, Example: "zhangsan,lisi,@all",
		Help: "group robot: userids to @mention in every message, comma separated; @all mentions everyone (text only)"},
	{Name: "mentioned_mobile_list", Repeatable: true, Example: "13800001111,@all",
		Help: "group robot, msg_type=text: mobile numbers to @mention in every message"},
	{Name: "label", Repeatable: true, Example: "prod-cluster",
		Help: "a line put at the top of every message (kube-eventer's label=, e.g. a cluster ID); repeatable"},
	{Name: "corp_id", Example: "ww0123456789abcdef",
		Help: "application message API (kube-eventer's wechat form, wechat:?corp_id=...): your CorpID"},
	{Name: "corp_secret", Secret: true, Example: "${WECHAT_CORP_SECRET}",
		Help: "application message API: the application's Secret"},
	{Name: "agent_id", Example: "1000002",
		Help: "application message API: the application's AgentId"},
	{Name: "to_user", Default: "@all", Example: "zhangsan,lisi",
		Help: "application message API: userids to send to, comma separated; @all sends to everyone the application reaches"},
	{Name: "endpoint", Default: DefaultEndpoint, Example: "http://127.0.0.1:8080",
		Help: "application message API: the API host (scheme://host[:port]), for a proxy or a test server"},
}, chat.Params)

// Config is a wechat sink's configuration, parsed from its --sink value.
type Config struct {
	ID      string
	Mode    string
	MsgType string // "text" or "markdown"
	Labels  []string
	// Robot is the group robot's send URL, key included (robot mode).
	Robot *url.URL
	Key   redact.Secret
	// Mentioned and MentionedMobile are the robot's @mentions.
	Mentioned, MentionedMobile []string
	// Application message API (app mode).
	Endpoint   *url.URL
	CorpID     string
	CorpSecret redact.Secret
	AgentID    int
	ToUser     []string

	Pacing   chat.PacerOptions
	Template *template.Options
	HTTP     httpx.Options
	Cluster  string
	Location *time.Location
	// Clock paces messages and ages the access token; tests set a fake one.
	Clock clock.Clock
}

// Limit is the byte limit of the message text.
func (c *Config) Limit() int {
	switch {
	case c.Mode == ModeApp:
		return AppLimit
	case c.MsgType == "markdown":
		return RobotMarkdownLimit
	}
	return RobotTextLimit
}

// ParseConfig reads a wechat --sink value. The group robot form is
// wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY; kube-eventer's form,
// wechat:?corp_id=...&corp_secret=...&agent_id=...&to_user=..., uses the application message API.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster, Location: env.Location, Clock: clock.RealClock{}}
	c.MsgType = p.OneOf("msg_type", "text", "markdown")
	c.Labels = p.Values("label")
	c.Key = redact.Secret(p.String("key"))
	c.Mentioned = p.List("mentioned_list")
	c.MentionedMobile = p.List("mentioned_mobile_list")
	c.CorpID = p.String("corp_id")
	c.CorpSecret = redact.Secret(p.String("corp_secret"))
	agent := p.String("agent_id")
	c.ToUser = p.List("to_user")
	endpoint := p.String("endpoint")
	endpointGiven := p.Has("endpoint")
	c.Pacing = chat.PacingFromParams(p)
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Secrets = nonEmpty(c.Key.Reveal(), c.CorpSecret.Reveal())

	hasURL := t.URL != nil && t.URL.Host != ""
	switch {
	case c.CorpID != "" || p.Has("corp_secret") || p.Has("agent_id"):
		c.Mode = ModeApp
		if hasURL && !endpointGiven {
			// kube-eventer's comments show wechat:https://qyapi.weixin.qq.com/...?corp_id=...;
			// it ignored the URL. herald takes its scheme and host as the API host.
			endpoint = t.URL.Scheme + "://" + t.URL.Host
		}
		c.parseApp(p, agent, endpoint)
	case hasURL || c.Key != "":
		c.Mode = ModeRobot
		c.parseRobot(p, t.URL)
	default:
		p.Errorf("key", "write wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY for a group robot, or wechat:?corp_id=ID&corp_secret=SECRET&agent_id=N for the application message API",
			"no group robot URL and no corp_id")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseRobot(p *uri.Params, u *url.URL) {
	if u == nil || u.Host == "" {
		p.Errorf("key", "give the robot's whole webhook URL: wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY", "a key without the webhook URL")
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		p.Errorf("key", "write the webhook URL with https://", "the robot URL must be http or https, got %q", u.Scheme)
		return
	}
	if c.Key == "" {
		p.Errorf("key", "copy the whole webhook URL from the robot's settings, ?key=... included (put the key in ${ENV})", "the robot URL has no key")
		return
	}
	robot := sinks.StripParams(u, Params)
	q := robot.Query()
	q.Set("key", c.Key.Reveal())
	robot.RawQuery = q.Encode()
	c.Robot = robot
	if c.MsgType == "markdown" {
		if len(c.MentionedMobile) > 0 {
			p.Errorf("mentioned_mobile_list", "use msg_type=text, or mention by userid with mentioned_list", "Work WeChat's markdown messages cannot mention by mobile number")
		}
		if slices.Contains(c.Mentioned, "@all") {
			p.Errorf("mentioned_list", "use msg_type=text to mention everyone", "Work WeChat's markdown messages mention members only as <@userid>, not @all")
		}
	}
	for _, name := range []string{"corp_secret", "to_user"} {
		if p.Has(name) {
			p.Errorf(name, "remove it, or use the application form wechat:?corp_id=...", "is a parameter of the application message API, not of a group robot")
		}
	}
}

func (c *Config) parseApp(p *uri.Params, agent, endpoint string) {
	const form = "write wechat:?corp_id=ID&corp_secret=${SECRET}&agent_id=N&to_user=a,b"
	if c.CorpID == "" {
		p.Errorf("corp_id", form, "missing; the application message API needs corp_id, corp_secret and agent_id")
	}
	if c.CorpSecret == "" {
		p.Errorf("corp_secret", form, "missing; the application message API needs corp_id, corp_secret and agent_id")
	}
	n, err := strconv.Atoi(agent)
	if err != nil {
		p.Errorf("agent_id", form, "%q is not the application's numeric AgentId", agent)
	}
	c.AgentID = n
	if len(c.ToUser) == 0 {
		c.ToUser = []string{"@all"}
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Errorf("endpoint", "write scheme://host[:port], e.g. endpoint=https://qyapi.weixin.qq.com", "%q is not an API host", endpoint)
		return
	}
	c.Endpoint = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
	for _, name := range []string{"mentioned_list", "mentioned_mobile_list", "key"} {
		if p.Has(name) {
			p.Errorf(name, "remove it; the application API sends to to_user", "is a group robot parameter, not one of the application message API")
		}
	}
}

// robotID identifies the robot (or application) for pacing.
func (c *Config) robotID() string {
	if c.Mode == ModeApp {
		return fmt.Sprintf("wechat-app %s %s %d", c.Endpoint, c.CorpID, c.AgentID)
	}
	return "wechat-robot " + c.Robot.String()
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
