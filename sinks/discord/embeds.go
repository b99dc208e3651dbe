package discord

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldproject/herald/sinks/chat"
)

// Limits from Discord's developer documentation (Execute Webhook; Message resource, "Embed
// Limits"); see docs/sinks/discord.md for the sources.
const (
	MaxContent     = 2000 // message content
	MaxEmbeds      = 10   // embeds in one message
	MaxTitle       = 256
	MaxDescription = 4096
	MaxFields      = 25
	MaxFieldName   = 256
	MaxFieldValue  = 1024
	MaxFooter      = 2048
	// MaxEmbedTotal bounds title, description, field names and values, footer and author text
	// of all embeds in one message together.
	MaxEmbedTotal = 6000
)

// Embed colours: orange for a Warning, green for a Normal event; a digest is red when it holds
// a Warning and blue otherwise.
const (
	ColorWarning       = 0xE67E22
	ColorNormal        = 0x2ECC71
	ColorDigestWarning = 0xE74C3C
	ColorDigestNormal  = 0x3498DB
)

// Message is the JSON body of an Execute Webhook request.
type Message struct {
	Content         string           `json:"content,omitempty"`
	Username        string           `json:"username,omitempty"`
	AvatarURL       string           `json:"avatar_url,omitempty"`
	Embeds          []Embed          `json:"embeds,omitempty"`
	AllowedMentions *AllowedMentions `json:"allowed_mentions,omitempty"`
}

// AllowedMentions says whom a message may ping: nobody but the configured mentions.
type AllowedMentions struct {
	Parse []string `json:"parse"`
	Roles []string `json:"roles,omitempty"`
	Users []string `json:"users,omitempty"`
}

// Embed is a rich embed.
type Embed struct {
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Color       int     `json:"color"`
	Timestamp   string  `json:"timestamp,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
	Footer      *Footer `json:"footer,omitempty"`
}

// Field is an embed field; Discord refuses an empty name or value.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Footer is an embed's footer.
type Footer struct {
	Text string `json:"text"`
}

// layout builds messages with the sink's options.
type layout struct {
	username, avatarURL string
	mentions            []string
	allowed             AllowedMentions
}

func (l *layout) message(content string, embeds []Embed) *Message {
	if len(l.mentions) > 0 {
		content = strings.TrimSpace(strings.Join(l.mentions, " ") + " " + content)
	}
	allowed := l.allowed
	return &Message{
		Content:         clip(content, MaxContent),
		Username:        l.username,
		AvatarURL:       l.avatarURL,
		Embeds:          embeds,
		AllowedMentions: &allowed,
	}
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// event lays out one event as one embed: the reason and object as title, the message as
// description, the other fields inline. A restart report has a layout of its own (restart).
func (l *layout) event(f chat.Fields) *Message {
	if f.Restart != nil {
		return l.restart(f)
	}
	e := Embed{
		Title:       clip(md(chat.OneLine(f.Reason+": "+f.Object())), MaxTitle),
		Description: clip(md(f.Message), MaxDescription),
		Color:       color(f.Type),
		Timestamp:   timestamp(f.Time),
		Footer:      &Footer{Text: "herald"},
	}
	add := fieldAdder(&e)
	add("Cluster", md(f.Cluster), true)
	add("Namespace", md(f.Namespace), true)
	add("Kind", md(f.Kind), true)
	add("Name", md(f.Name), true)
	add("Reason", md(f.Reason), true)
	add("Type", md(f.Type), true)
	add("Count", fmt.Sprint(f.Count), true)
	add("Time", f.When(), true)
	add("Node", md(f.Host), true)
	return l.message("", []Embed{e})
}

// color is an event's embed colour by its type.
func color(eventType string) int {
	if eventType == "Warning" {
		return ColorWarning
	}
	return ColorNormal
}

// fieldAdder returns a function that appends a field to e, up to MaxFields, skipping empty
// values and cutting long ones.
func fieldAdder(e *Embed) func(name, value string, inline bool) {
	return func(name, value string, inline bool) {
		if strings.TrimSpace(value) != "" && len(e.Fields) < MaxFields {
			e.Fields = append(e.Fields, Field{Name: name, Value: clip(value, MaxFieldValue), Inline: inline})
		}
	}
}

// restart lays out a restart report as one embed: the headline as title; the cluster,
// namespace, pod, owner, node and the container's state as inline fields; the termination
// message and the pod's recent events as fields; and as description the previous and current
// logs' ends in code blocks (the previous log, the container that died, gets three quarters of
// the room when both are long), or the note on why a log is missing. chat.FitSingle cuts the
// logs further when the embed is over Discord's total.
func (l *layout) restart(f chat.Fields) *Message {
	e := Embed{
		Title:     clip(md(f.RestartHeader()), MaxTitle),
		Color:     color(f.Type),
		Timestamp: timestamp(f.Time),
		Footer:    &Footer{Text: "herald"},
	}
	add := fieldAdder(&e)
	for _, fa := range f.RestartFacts() {
		add(fa.Name, md(fa.Value), true)
	}
	add("Pod", md(chat.OneLine(f.Restart.Pod)), true)
	for _, fa := range f.StateFacts() {
		add(fa.Name, md(fa.Value), true)
	}
	add("Termination message", md(f.TerminationMessage()), false)
	if recent := f.RecentEvents(); len(recent) > 0 {
		add("Recent events", "• "+md(strings.Join(recent, "\n• ")), false)
	}
	const prevLabel, curLabel = "**Previous log**\n", "\n**Current log**\n"
	note := f.LogNote()
	if note != "" {
		note = "\n*" + clip(md(note), MaxDescription/4) + "*"
	}
	room := MaxDescription - chat.Width(prevLabel) - chat.Width(curLabel) - chat.Width(note)
	curRoom := room
	if f.PreviousLog != "" {
		curRoom = room / 4
	}
	cur := chat.FencedTail(f.CurrentLog, curRoom, nil)
	prev := chat.FencedTail(f.PreviousLog, room-chat.Width(cur), nil)
	var d strings.Builder
	if prev != "" {
		d.WriteString(prevLabel + prev)
	}
	if cur != "" {
		d.WriteString(curLabel + cur)
	}
	d.WriteString(note)
	e.Description = strings.TrimPrefix(d.String(), "\n")
	return l.message("", []Embed{e})
}

// digest lays out merged events: a summary in the content, one embed per group naming its
// latest events, each group's rest and the hidden groups counted in "and N more".
func (l *layout) digest(v *chat.View) *Message {
	where := "Kubernetes"
	if v.Cluster != "" {
		where = v.Cluster
	}
	content := fmt.Sprintf("**%s** in %s (%d Warning, %d Normal)", count(v.Events, "event"), md(chat.OneLine(where)), v.Warnings, v.Events-v.Warnings)
	if v.HiddenGroups > 0 {
		content += "\n*… and " + count(v.HiddenEvents, "more event") + " in " + count(v.HiddenGroups, "more group") + "*"
	}
	var embeds []Embed
	for _, g := range v.Groups {
		color := ColorDigestNormal
		if g.Type == "Warning" {
			color = ColorDigestWarning
		}
		title := chat.OneLine(g.Reason)
		if g.Namespace != "" {
			title += " in " + chat.OneLine(g.Namespace)
		}
		embeds = append(embeds, Embed{
			Title:       clip(md(title), MaxTitle),
			Description: groupText(g),
			Color:       color,
			Timestamp:   timestamp(g.Latest),
		})
	}
	return l.message(content, embeds)
}

// groupText is a group's description: its counts, its named events, and how many more.
func groupText(g chat.GroupView) string {
	var b strings.Builder
	b.WriteString("**" + count(len(g.Events), "event") + "**")
	if g.Occurrences > int64(len(g.Events)) {
		b.WriteString(" (" + count64(g.Occurrences, "occurrence") + ")")
	}
	for _, f := range g.Shown {
		fmt.Fprintf(&b, "\n• **%s**", md(chat.OneLine(f.Kind+" "+f.Name)))
		if !f.Time.IsZero() {
			fmt.Fprintf(&b, " · %s", f.Time.Format("15:04:05"))
		}
		if f.Message != "" {
			fmt.Fprintf(&b, ": %s", md(f.Message))
		}
	}
	if g.More > 0 {
		fmt.Fprintf(&b, "\n*… and %d more*", g.More)
	}
	return b.String()
}

// check reports the first Discord limit m breaks ("" when none) and the characters its embeds
// hold, which Discord limits in total.
func check(m *Message) (problem string, total int) {
	if chat.Width(m.Content) > MaxContent {
		return "content over the limit", 0
	}
	if len(m.Embeds) > MaxEmbeds {
		return fmt.Sprintf("%d embeds, over %d", len(m.Embeds), MaxEmbeds), 0
	}
	for i, e := range m.Embeds {
		switch {
		case chat.Width(e.Title) > MaxTitle:
			return fmt.Sprintf("embed %d: title over %d", i, MaxTitle), 0
		case chat.Width(e.Description) > MaxDescription:
			return fmt.Sprintf("embed %d: description over %d", i, MaxDescription), 0
		case len(e.Fields) > MaxFields:
			return fmt.Sprintf("embed %d: %d fields, over %d", i, len(e.Fields), MaxFields), 0
		}
		total += chat.Width(e.Title) + chat.Width(e.Description)
		if e.Footer != nil {
			total += chat.Width(e.Footer.Text)
		}
		for _, f := range e.Fields {
			if chat.Width(f.Name) > MaxFieldName || chat.Width(f.Value) > MaxFieldValue || strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
				return fmt.Sprintf("embed %d: field %q is empty or too long", i, f.Name), 0
			}
			total += chat.Width(f.Name) + chat.Width(f.Value)
		}
	}
	if total > MaxEmbedTotal {
		return fmt.Sprintf("embeds hold %d characters, over %d", total, MaxEmbedTotal), total
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return "empty message", 0
	}
	return "", total
}

// count writes n with word, plural unless n is 1: "1 event", "3 events".
func count(n int, word string) string { return count64(int64(n), word) }

func count64(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
