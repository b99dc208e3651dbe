package dingtalk

import (
	"fmt"
	"net/url"
	"slices"
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

// Limit is the most bytes herald puts in a message's text (text.content or markdown.text).
// DingTalk documents about 20,000 bytes per message; herald keeps 2,000 bytes of room for the
// JSON around the text and the "at" list.
const Limit = 18000

// Params are the dingtalk sink's own parameters: kube-eventer's, plus the mentions.
var Params = slices.Concat([]uri.Param{
	{Name: "access_token", Secret: true, Example: "${DINGTALK_TOKEN}",
		Help: "the robot's access token, as in its webhook URL https://oapi.dingtalk.com/robot/send?access_token=TOKEN"},
	{Name: "sign", Secret: true, Example: "${DINGTALK_SECRET}",
		Help: `the robot's signing secret ("SEC..."), when its security setting is "加签" (signature): each message carries timestamp and sign`},
	{Name: "msg_type", Default: "text", Example: "markdown",
		Help: "text or markdown"},
	{Name: "label", Repeatable: true, Example: "prod-cluster",
		Help: "a line put at the top of every message (e.g. a cluster ID); repeatable"},
	{Name: "at_mobiles", Repeatable: true, Example: "13800001111,13900002222",
		Help: "mobile numbers of group members to @mention in every message, comma separated"},
	{Name: "at_user_ids", Repeatable: true, Example: "manager01",
		Help: "DingTalk user IDs to @mention in every message, comma separated"},
	{Name: "at_all", Default: "false", Example: "true",
		Help: "@mention everyone in the group"},
	{Name: "cluster_id", Example: "c550367cdf1e84dfabab013b277cc6bc2",
		Help: "Alibaba Cloud ACK cluster ID (kube-eventer's markdown form): names the cluster when --cluster-name is not set, and with region= links objects to the ACK console in markdown"},
	{Name: "region", Example: "cn-hangzhou",
		Help: "Alibaba Cloud region of cluster_id, for the console links"},
}, chat.Params)

// Config is a dingtalk sink's configuration, parsed from its --sink value.
type Config struct {
	ID string
	// URL is the robot's send URL without its query; the token is added per request.
	URL         *url.URL
	AccessToken redact.Secret
	Secret      redact.Secret
	MsgType     string
	Labels      []string
	AtMobiles   []string
	AtUserIDs   []string
	AtAll       bool
	ClusterID   string
	Region      string

	Pacing   chat.PacerOptions
	Template *template.Options
	HTTP     httpx.Options
	Cluster  string
	Location *time.Location
	// Clock paces messages and stamps signatures; tests set a fake one.
	Clock clock.Clock
}

// ParseConfig reads a dingtalk --sink value: kube-eventer's
// dingtalk:https://oapi.dingtalk.com/robot/send?access_token=TOKEN&sign=SEC...&label=...
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster, Location: env.Location, Clock: clock.RealClock{}}
	c.AccessToken = redact.Secret(p.String("access_token"))
	c.Secret = redact.Secret(p.String("sign"))
	c.MsgType = p.OneOf("msg_type", "text", "markdown")
	c.Labels = p.Values("label")
	c.AtMobiles = p.List("at_mobiles")
	c.AtUserIDs = p.List("at_user_ids")
	c.AtAll = p.Bool("at_all")
	c.ClusterID = p.String("cluster_id")
	c.Region = p.String("region")
	if c.Cluster == "" {
		c.Cluster = c.ClusterID
	}
	c.Pacing = chat.PacingFromParams(p)
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Secrets = nonEmpty(c.AccessToken.Reveal(), c.Secret.Reveal())

	const form = "write dingtalk:https://oapi.dingtalk.com/robot/send?access_token=${TOKEN} (the robot's webhook URL)"
	u := t.URL
	switch {
	case u == nil || u.Host == "":
		p.Errorf("access_token", form, "no robot webhook URL")
	case u.Scheme != "http" && u.Scheme != "https":
		p.Errorf("access_token", form, "the robot URL must be https, got %q", u.Scheme)
	case c.AccessToken == "":
		p.Errorf("access_token", form+"; put the token in ${ENV}", "missing")
	default:
		c.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	}
	if c.Secret != "" && !strings.HasPrefix(c.Secret.Reveal(), "SEC") {
		p.Errorf("sign", `give the secret shown under "加签" in the robot's security settings`, "DingTalk signing secrets start with SEC")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// robotID identifies the robot for pacing.
func (c *Config) robotID() string {
	return fmt.Sprintf("dingtalk %s?access_token=%s", c.URL, c.AccessToken.Reveal())
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
