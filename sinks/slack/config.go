package slack

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

// DefaultAPIURL is Slack's chat.postMessage endpoint, used with token= when the --sink value
// names no URL.
const DefaultAPIURL = "https://slack.com/api/chat.postMessage"

// Params are the slack sink's own parameters; the filter and common parameters are the
// registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "token", Secret: true, Example: "${SLACK_BOT_TOKEN}",
		Help: "a bot token (xoxb-...) with the chat:write scope: post through chat.postMessage instead of an incoming webhook. " +
			"The URL is then the API endpoint (default " + DefaultAPIURL + "); channel= is required"},
	{Name: "channel", Example: "C0123456789",
		Help: "the channel to post to: required with token= (a channel ID, or #name); with an incoming webhook only legacy webhooks honour it, app webhooks always post to their own channel"},
	{Name: "mentions", Repeatable: true, Example: "S0123ABCD,U0456EFGH,here",
		Help: "who to notify, comma-separated: user IDs (U..., W...), user-group IDs (S...), or here, channel, everyone. Slack needs IDs, not names (profile → ⋮ → Copy member ID)"},
	{Name: "username", Example: "herald",
		Help: "the name messages are posted under (chat.postMessage with the chat:write.customize scope, or a legacy webhook)"},
	{Name: "icon_emoji", Example: ":rotating_light:",
		Help: "the emoji shown as the poster's icon, as :name: (same conditions as username)"},
}, chat.Params)

// Mode says how the sink posts.
type Mode int

// The two ways to post.
const (
	// Webhook posts to an incoming webhook URL; the reply is plain text ("ok", or an error).
	Webhook Mode = iota
	// API calls chat.postMessage with a bot token; the reply is JSON with "ok".
	API
)

// Config is a slack sink's configuration, parsed from its --sink value.
type Config struct {
	ID      string
	Cluster string
	Mode    Mode
	// URL is the incoming webhook (its path is the secret) or the chat.postMessage endpoint.
	URL   *url.URL
	Token redact.Secret
	// Channel, Username and IconEmoji are sent when set.
	Channel, Username, IconEmoji string
	// Mentions are in Slack's syntax: <@U123>, <!subteam^S123>, <!here>.
	Mentions []string
	// Pacing limits messages per minute; tests set its Clock.
	Pacing chat.PacerOptions
	// Template, when set, renders single-event messages instead of the Block Kit layout.
	Template *template.Options
	HTTP     httpx.Options
}

var (
	slackID      = regexp.MustCompile(`^[UWSBT][A-Z0-9]{2,}$`)
	rawMention   = regexp.MustCompile(`^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!here|!channel|!everyone)>$`)
	specialNames = map[string]string{"here": "<!here>", "channel": "<!channel>", "everyone": "<!everyone>"}
)

// ParseConfig reads a slack --sink value. Problems are recorded in t.Params and returned
// together, each naming the parameter and the fix; errors never quote the URL or the token.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster}
	c.Token = redact.Secret(p.String("token"))
	c.Channel = p.String("channel")
	c.Username = p.String("username")
	c.IconEmoji = p.String("icon_emoji")
	c.Mentions = parseMentions(p)
	c.Pacing = chat.PacingFromParams(p)
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	if c.IconEmoji != "" && !(strings.HasPrefix(c.IconEmoji, ":") && strings.HasSuffix(c.IconEmoji, ":") && len(c.IconEmoji) > 2) {
		p.Errorf("icon_emoji", `write it as :name:, e.g. icon_emoji=:rotating_light:`, "%q is not an emoji code", c.IconEmoji)
	}
	if c.Token != "" {
		c.Mode = API
		if c.Channel == "" {
			p.Errorf("channel", "add channel=C0123456789 (the channel's ID: channel details → bottom of the About tab)", "chat.postMessage (token=) needs a channel")
		}
		c.HTTP.Secrets = append(c.HTTP.Secrets, c.Token.Reveal())
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := sinks.StripParams(t.URL, Params)
	switch {
	case c.Mode == API && u.Host == "" && u.Path == "":
		u, _ = url.Parse(DefaultAPIURL)
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		// Never quote the URL: its path is the webhook's secret.
		if c.Mode == API {
			return nil, fmt.Errorf("with token= the URL must be Slack's API endpoint, e.g. slack:%s?token=${SLACK_BOT_TOKEN}&channel=C0123456789, or left out", DefaultAPIURL)
		}
		return nil, fmt.Errorf("the target must be an incoming webhook URL, e.g. slack:https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}, or chat.postMessage: slack:?token=${SLACK_BOT_TOKEN}&channel=C0123456789")
	}
	c.URL = u
	return c, nil
}

// parseMentions turns mentions= into Slack's mention syntax.
func parseMentions(p *uri.Params) []string {
	var out []string
	for _, m := range p.List("mentions") {
		switch {
		case specialNames[strings.ToLower(strings.TrimPrefix(m, "@"))] != "":
			out = append(out, specialNames[strings.ToLower(strings.TrimPrefix(m, "@"))])
		case rawMention.MatchString(m):
			out = append(out, m)
		case slackID.MatchString(m) && m[0] == 'S':
			out = append(out, "<!subteam^"+m+">")
		case slackID.MatchString(m) && (m[0] == 'U' || m[0] == 'W'):
			out = append(out, "<@"+m+">")
		default:
			p.Errorf("mentions", "give member IDs (U0456EFGH), user-group IDs (S0123ABCD) or here/channel/everyone; Slack does not notify by display name",
				"%q is not a Slack user or user-group ID", m)
		}
	}
	return out
}
