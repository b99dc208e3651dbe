package discord

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

// Params are the discord sink's own parameters; the filter and common parameters are the
// registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "mentions", Repeatable: true, Example: "role:123456789012345678,user:234567890123456789",
		Help: "who to notify, comma-separated: role:ID, user:ID (or <@&ID>, <@ID>), everyone, here. Only these are pinged: text from events never is"},
	{Name: "username", Example: "herald",
		Help: "the name messages are posted under instead of the webhook's (1 to 80 characters; Discord refuses names containing \"discord\" or \"clyde\")"},
	{Name: "avatar_url", Example: "https://example.com/herald.png",
		Help: "an image URL shown as the poster's avatar instead of the webhook's"},
	{Name: "thread_id", Example: "345678901234567890",
		Help: "post into this thread (or forum post) of the webhook's channel instead of the channel itself"},
	{Name: "wait", Default: "false", Example: "true",
		Help: "ask Discord to confirm the message is stored before answering (?wait=true): a message Discord drops is then an error instead of a silent loss"},
}, chat.Params)

// Config is a discord sink's configuration, parsed from its --sink value.
type Config struct {
	ID      string
	Cluster string
	// URL is the webhook, whose last path segment is its token; with ?wait=true and
	// ?thread_id= when asked.
	URL *url.URL
	// Username and AvatarURL override the webhook's when set.
	Username, AvatarURL string
	// Mentions are in Discord's syntax (<@&ID>, <@ID>, @everyone, @here), with the matching
	// allowed_mentions.
	Mentions []string
	Allowed  AllowedMentions
	Pacing   chat.PacerOptions
	// Template, when set, renders single-event messages instead of the embed layout.
	Template *template.Options
	HTTP     httpx.Options
}

var (
	snowflake = regexp.MustCompile(`^[0-9]{15,21}$`)
	roleRaw   = regexp.MustCompile(`^<@&([0-9]{15,21})>$`)
	userRaw   = regexp.MustCompile(`^<@!?([0-9]{15,21})>$`)
)

// ParseConfig reads a discord --sink value. Problems are recorded in t.Params and returned
// together; errors never quote the URL, whose path holds the webhook's token.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster}
	c.Username = p.String("username")
	c.AvatarURL = p.String("avatar_url")
	wait := p.Bool("wait")
	thread := p.String("thread_id")
	if thread != "" && !snowflake.MatchString(thread) {
		p.Errorf("thread_id", "give the thread's numeric ID (Developer Mode → right-click the thread → Copy ID)", "%q is not a Discord ID", thread)
	}
	c.parseMentions(p)
	c.Pacing = chat.PacingFromParams(p)
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	if p.Has("username") {
		lower := strings.ToLower(c.Username)
		switch n := chat.Width(c.Username); {
		case n < 1 || n > 80:
			p.Errorf("username", "write 1 to 80 characters", "%d characters", n)
		case strings.Contains(lower, "discord") || strings.Contains(lower, "clyde"):
			p.Errorf("username", `choose a name without "discord" or "clyde"`, "Discord refuses %q", c.Username)
		}
	}
	if c.AvatarURL != "" {
		if u, err := url.Parse(c.AvatarURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.Errorf("avatar_url", "give an http(s) URL of an image", "%q is not an image URL", c.AvatarURL)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := sinks.StripParams(t.URL, Params)
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("the target must be a webhook URL, e.g. discord:https://discord.com/api/webhooks/123456789012345678/${DISCORD_WEBHOOK_TOKEN} (channel settings → Integrations → Webhooks → Copy Webhook URL)")
	}
	q := u.Query()
	if wait {
		q.Set("wait", "true")
	}
	if thread != "" {
		q.Set("thread_id", thread)
	}
	u.RawQuery = q.Encode()
	c.URL = u
	return c, nil
}

// parseMentions turns mentions= into content mentions and the allowed_mentions that lets
// exactly those ping.
func (c *Config) parseMentions(p *uri.Params) {
	c.Allowed = AllowedMentions{Parse: []string{}}
	for _, m := range p.List("mentions") {
		kind, id, _ := strings.Cut(m, ":")
		switch {
		case m == "everyone" || m == "@everyone" || m == "here" || m == "@here":
			c.Mentions = append(c.Mentions, "@"+strings.TrimPrefix(m, "@"))
			if !slices.Contains(c.Allowed.Parse, "everyone") {
				c.Allowed.Parse = append(c.Allowed.Parse, "everyone")
			}
		case kind == "role" && snowflake.MatchString(id), roleRaw.MatchString(m):
			if id == "" || kind != "role" {
				id = roleRaw.FindStringSubmatch(m)[1]
			}
			c.Mentions = append(c.Mentions, "<@&"+id+">")
			c.Allowed.Roles = append(c.Allowed.Roles, id)
		case kind == "user" && snowflake.MatchString(id), userRaw.MatchString(m):
			if id == "" || kind != "user" {
				id = userRaw.FindStringSubmatch(m)[1]
			}
			c.Mentions = append(c.Mentions, "<@"+id+">")
			c.Allowed.Users = append(c.Allowed.Users, id)
		default:
			p.Errorf("mentions", "write role:ID or user:ID with the numeric ID (Developer Mode → right-click → Copy ID), or everyone/here",
				"%q is not a role, a user or everyone/here", m)
		}
	}
}
