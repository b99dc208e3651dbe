package feishu

import (
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

// Limit is the most bytes herald sends in one request body. Feishu refuses a custom bot's
// request over 20 KB (code 9499, Bad Request); herald keeps 20,000 bytes, the timestamp and
// signature included.
const Limit = 20000

// signatureRoom is what "timestamp" and "sign" add to a body (a 10-digit timestamp and a
// 44-character signature, with their JSON keys), reserved when a body is fitted.
const signatureRoom = 80

// Params are the feishu sink's own parameters.
var Params = slices.Concat([]uri.Param{
	{Name: "secret", Secret: true, Example: "${FEISHU_SECRET}",
		Help: `the bot's signing secret, when its security setting is "签名校验" (signature): each message carries timestamp and sign`},
	{Name: "msg_type", Default: "interactive", Example: "text",
		Help: "interactive (a message card with a coloured header) or text"},
	{Name: "label", Repeatable: true, Example: "prod-cluster",
		Help: "a line put at the top of every message (e.g. a cluster ID or a keyword the bot requires); repeatable"},
	{Name: "at_user_ids", Repeatable: true, Example: "ou_7d8a6e6df7621556ce0d21922b676706ccs",
		Help: "open_ids (ou_...) or user_ids to @mention in every message, comma separated"},
	{Name: "at_all", Default: "false", Example: "true",
		Help: "@mention everyone in the group (only if the group lets bots do it)"},
}, chat.Params)

// Config is a feishu sink's configuration, parsed from its --sink value.
type Config struct {
	ID string
	// Hook is the bot's webhook URL, token in its path, without herald's parameters.
	Hook    *url.URL
	Secret  redact.Secret
	MsgType string
	Labels  []string
	AtUsers []string
	AtAll   bool

	Pacing   chat.PacerOptions
	Template *template.Options
	HTTP     httpx.Options
	Cluster  string
	Location *time.Location
	// Clock paces messages and stamps signatures; tests set a fake one.
	Clock clock.Clock
}

// ParseConfig reads a feishu --sink value:
// feishu:https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN?secret=SECRET.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster, Location: env.Location, Clock: clock.RealClock{}}
	c.Secret = redact.Secret(p.String("secret"))
	c.MsgType = p.OneOf("msg_type", "interactive", "text")
	c.Labels = p.Values("label")
	c.AtUsers = p.List("at_user_ids")
	c.AtAll = p.Bool("at_all")
	c.Pacing = chat.PacingFromParams(p)
	if c.Pacing.Burst > 5 {
		p.Errorf("burst", "write at most 5", "Feishu accepts at most 5 messages a second from a bot, and a burst of %d goes out at once", c.Pacing.Burst)
	}
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)

	const form = "write feishu:https://open.feishu.cn/open-apis/bot/v2/hook/${FEISHU_TOKEN} (the bot's webhook URL; Lark: open.larksuite.com)"
	u := t.URL
	switch {
	case u == nil || u.Host == "":
		p.Errorf("secret", form, "no bot webhook URL")
	case u.Scheme != "http" && u.Scheme != "https":
		p.Errorf("secret", form, "the webhook URL must be https, got %q", u.Scheme)
	case !strings.Contains(u.Path, "/hook/") || strings.HasSuffix(u.Path, "/hook/"):
		p.Errorf("secret", form, "the webhook URL has no token after /hook/")
	default:
		c.Hook = sinks.StripParams(u, Params)
		token := u.Path[strings.LastIndex(u.Path, "/")+1:]
		c.HTTP.Secrets = []string{token}
	}
	if c.Secret != "" {
		c.HTTP.Secrets = append(c.HTTP.Secrets, c.Secret.Reveal())
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// robotID identifies the bot for pacing.
func (c *Config) robotID() string { return "feishu " + c.Hook.String() }
