package slack

import (
	"fmt"
	"strings"

	"github.com/heraldproject/herald/sinks/chat"
)

// Limits from Slack's Block Kit reference (docs.slack.dev/reference/block-kit) and
// chat.postMessage; see docs/sinks/slack.md for the sources.
const (
	MaxBlocks      = 50   // blocks in one message
	MaxHeaderText  = 150  // a header block's plain_text
	MaxSectionText = 3000 // a section block's text
	MaxFields      = 10   // a section block's fields
	MaxFieldText   = 2000 // each field's text
	MaxMessageText = 40000
	// MaxBlocksTotal is herald's budget for all block text in one message. Slack documents no
	// such limit for section blocks, but refuses messages with msg_blocks_too_long from about
	// 11,000 to 13,000 characters of block text (slackapi/bolt-js#2509, #2867); herald keeps
	// well below the lowest report.
	MaxBlocksTotal = 10000
	// maxFallback caps the top-level text, which Slack shows in notifications.
	maxFallback = 3000
)

// Message is the JSON body of an incoming webhook post or a chat.postMessage call.
type Message struct {
	Channel   string  `json:"channel,omitempty"`
	Text      string  `json:"text"`
	Blocks    []Block `json:"blocks,omitempty"`
	Username  string  `json:"username,omitempty"`
	IconEmoji string  `json:"icon_emoji,omitempty"`
}

// Block is a header or section block.
type Block struct {
	Type   string `json:"type"`
	Text   *Text  `json:"text,omitempty"`
	Fields []Text `json:"fields,omitempty"`
}

// Text is a text object: plain_text or mrkdwn.
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

func header(s string) Block {
	return Block{Type: "header", Text: &Text{Type: "plain_text", Text: chat.Clip(s, MaxHeaderText), Emoji: true}}
}

func mrkdwn(s string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: s}}
}

func plain(s string) Block {
	return Block{Type: "section", Text: &Text{Type: "plain_text", Text: chat.Clip(s, MaxSectionText)}}
}

// layout builds messages with the sink's options.
type layout struct {
	channel, username, iconEmoji string
	mentions                     []string
}

func (l *layout) message(text string, blocks []Block) *Message {
	if len(l.mentions) > 0 {
		text = strings.Join(l.mentions, " ") + " " + text
	}
	return &Message{
		Channel:   l.channel,
		Text:      clipEscaped(text, maxFallback),
		Blocks:    blocks,
		Username:  l.username,
		IconEmoji: l.iconEmoji,
	}
}

// mentionBlock notifies the configured people; mentions only notify from mrkdwn text.
func (l *layout) mentionBlock() []Block {
	if len(l.mentions) == 0 {
		return nil
	}
	return []Block{mrkdwn(chat.Clip(strings.Join(l.mentions, " "), MaxSectionText))}
}

func icon(eventType string) string {
	if eventType == "Warning" {
		return ":warning:"
	}
	return ":information_source:"
}

// event lays out one event: a header, the fields as a two-column section, the message. A
// restart report has a layout of its own (restart). Every text is cut to its block's limit.
func (l *layout) event(f chat.Fields) *Message {
	if f.Restart != nil {
		return l.restart(f)
	}
	title := chat.OneLine(fmt.Sprintf("%s %s: %s", icon(f.Type), f.Reason, f.Object()))
	blocks := []Block{header(title)}
	blocks = append(blocks, l.mentionBlock()...)
	var fields []Text
	add := fieldAdder(&fields)
	add("Cluster", f.Cluster)
	add("Namespace", f.Namespace)
	add("Kind", f.Kind)
	add("Name", f.Name)
	add("Reason", f.Reason)
	add("Type", f.Type)
	add("Count", fmt.Sprint(f.Count))
	add("Time", f.When())
	add("Node", f.Host)
	if len(fields) > 0 {
		blocks = append(blocks, Block{Type: "section", Fields: fields})
	}
	if f.Message != "" {
		blocks = append(blocks, plain(f.Message))
	}
	return l.message(fmt.Sprintf("[%s] %s %s: %s", f.Type, esc(f.Reason), esc(f.Object()), esc(f.OneLine())), blocks)
}

// fieldAdder returns a function that appends a "*label*\nvalue" field to fields, up to
// MaxFields, skipping empty values.
func fieldAdder(fields *[]Text) func(label, value string) {
	return func(label, value string) {
		if value != "" && len(*fields) < MaxFields {
			*fields = append(*fields, Text{Type: "mrkdwn", Text: clipEscaped("*"+label+"*\n"+esc(value), MaxFieldText)})
		}
	}
}

// restart lays out a restart report: the headline as header; the cluster, namespace, pod,
// owner, node and the container's state as fields; the termination message; the pod's recent
// events; and the previous and current logs' ends in code blocks, or the note on why a log is
// missing. chat.FitSingle cuts the logs further when the blocks together are over budget.
func (l *layout) restart(f chat.Fields) *Message {
	blocks := []Block{header(f.RestartHeader())}
	blocks = append(blocks, l.mentionBlock()...)
	var fields []Text
	add := fieldAdder(&fields)
	for _, fa := range f.RestartFacts() {
		add(fa.Name, fa.Value)
	}
	add("Pod", f.Restart.Pod)
	for _, fa := range f.StateFacts() {
		add(fa.Name, fa.Value)
	}
	blocks = append(blocks, Block{Type: "section", Fields: fields})
	if tm := f.TerminationMessage(); tm != "" {
		blocks = append(blocks, mrkdwn(clipEscaped("*Termination message*\n"+esc(tm), MaxSectionText)))
	}
	if recent := f.RecentEvents(); len(recent) > 0 {
		text := "*Recent events*"
		for _, r := range recent {
			text += "\n• " + esc(r)
		}
		blocks = append(blocks, mrkdwn(clipEscaped(text, MaxSectionText)))
	}
	for _, lg := range []struct{ label, log string }{{"*Previous log*", f.PreviousLog}, {"*Current log*", f.CurrentLog}} {
		if code := chat.FencedTail(lg.log, MaxSectionText-chat.Width(lg.label)-1, esc); code != "" {
			blocks = append(blocks, mrkdwn(lg.label+"\n"+code))
		}
	}
	if n := f.LogNote(); n != "" {
		blocks = append(blocks, mrkdwn(clipEscaped(esc(n), MaxSectionText)))
	}
	return l.message(fmt.Sprintf("[%s] %s", f.Type, esc(f.RestartHeader())), blocks)
}

// digest lays out a view of merged events: a header with the count, a summary line, then one
// section per group naming its latest events, each group's and the digest's rest counted in
// "and N more".
func (l *layout) digest(v *chat.View) *Message {
	where := "Kubernetes"
	if v.Cluster != "" {
		where = v.Cluster
	}
	blocks := []Block{header(chat.OneLine(":rotating_light: " + count(v.Events, "event") + " in " + where))}
	summary := fmt.Sprintf("%d Warning · %d Normal · %s", v.Warnings, v.Events-v.Warnings, count64(v.Occurrences, "occurrence"))
	if !v.First.IsZero() {
		summary += fmt.Sprintf(" · %s – %s", v.First.Format(chat.TimeLayout), v.Last.Format(chat.TimeLayout))
	}
	blocks = append(blocks, mrkdwn(esc(summary)))
	blocks = append(blocks, l.mentionBlock()...)
	for _, g := range v.Groups {
		blocks = append(blocks, mrkdwn(groupText(g)))
	}
	if v.HiddenGroups > 0 {
		blocks = append(blocks, mrkdwn("_… and "+count(v.HiddenEvents, "more event")+" in "+count(v.HiddenGroups, "more group")+"_"))
	}
	var reasons []string
	for _, g := range v.Digest.Groups {
		reasons = append(reasons, g.Reason)
	}
	return l.message(esc(count(v.Events, "event")+" in "+where+": "+strings.Join(reasons, ", ")), blocks)
}

// groupText is one group's section: its reason, namespace and counts, its named events, and
// how many more it holds.
func groupText(g chat.GroupView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*", esc(chat.OneLine(g.Reason)))
	if g.Namespace != "" {
		fmt.Fprintf(&b, " in `%s`", esc(chat.OneLine(g.Namespace)))
	}
	b.WriteString(" — " + count(len(g.Events), "event"))
	if g.Occurrences > int64(len(g.Events)) {
		b.WriteString(" (" + count64(g.Occurrences, "occurrence") + ")")
	}
	for _, f := range g.Shown {
		fmt.Fprintf(&b, "\n• %s", esc(chat.OneLine(f.Kind+" "+f.Name)))
		if !f.Time.IsZero() {
			fmt.Fprintf(&b, " · %s", f.Time.Format("15:04:05"))
		}
		if f.Message != "" {
			fmt.Fprintf(&b, ": %s", esc(f.Message))
		}
	}
	if g.More > 0 {
		fmt.Fprintf(&b, "\n_… and %d more_", g.More)
	}
	return b.String()
}

// check reports the first Slack limit m breaks, or "" when it holds them all, and the total
// width of its block text.
func check(m *Message) (problem string, total int) {
	if len(m.Blocks) > MaxBlocks {
		return fmt.Sprintf("%d blocks, over %d", len(m.Blocks), MaxBlocks), 0
	}
	if chat.Width(m.Text) > MaxMessageText {
		return "text over the message limit", 0
	}
	for i, b := range m.Blocks {
		if b.Text != nil {
			w := chat.Width(b.Text.Text)
			total += w
			switch {
			case w == 0:
				return fmt.Sprintf("block %d has empty text", i), 0
			case b.Type == "header" && w > MaxHeaderText:
				return fmt.Sprintf("header block %d is %d characters, over %d", i, w, MaxHeaderText), 0
			case w > MaxSectionText:
				return fmt.Sprintf("section block %d is %d characters, over %d", i, w, MaxSectionText), 0
			}
		}
		if len(b.Fields) > MaxFields {
			return fmt.Sprintf("section block %d has %d fields, over %d", i, len(b.Fields), MaxFields), 0
		}
		for _, f := range b.Fields {
			w := chat.Width(f.Text)
			total += w
			if w > MaxFieldText {
				return fmt.Sprintf("a field of block %d is %d characters, over %d", i, w, MaxFieldText), 0
			}
		}
	}
	if total > MaxBlocksTotal {
		return fmt.Sprintf("blocks hold %d characters, over herald's budget of %d", total, MaxBlocksTotal), total
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
