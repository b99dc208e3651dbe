package chat

import (
	"fmt"
	"strings"
)

// Style is how a service writes a text or markdown message: the text layouts below are the
// same for every service, only the markup differs.
type Style struct {
	// NewLine separates lines ("\n"; DingTalk's markdown needs "\n\n" for a line break).
	NewLine string
	// Title writes the first line, with the event type (Warning, Normal) and the title; a
	// layout whose message has a title of its own (a card header) returns "" to leave it out.
	Title func(typ, title string) string
	// Bold emphasises s.
	Bold func(s string) string
	// Quote writes a detail line ("> " in markdown).
	Quote func(s string) string
	// Bullet starts a line of a list.
	Bullet string
	// Escape neutralises markup in text that comes from the cluster (messages, names).
	Escape func(s string) string
	// Code writes a log as a block (a markdown code fence), escaping it as it needs; nil writes
	// it as escaped plain lines.
	Code func(s string) string
}

// QuotedLines writes a log as quoted lines ("> " each, escaped), for markdown dialects that
// document no multi-line code block (Work WeChat's).
func QuotedLines(s string) string {
	lines := strings.Split(BreakFences(EscapeMarkdown(s)), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// PlainText is a style for plain text messages (Work WeChat, DingTalk and Feishu text).
var PlainText = Style{
	NewLine: "\n",
	Title:   func(typ, title string) string { return "[" + typ + "] " + title },
	Bold:    func(s string) string { return s },
	Quote:   func(s string) string { return s },
	Bullet:  "- ",
	Escape:  func(s string) string { return s },
}

// Markdown is a style for the markdown dialects of chat robots (a heading, bold, quotes);
// services adjust it (Work WeChat colours the type with <font>, DingTalk needs blank lines).
var Markdown = Style{
	NewLine: "\n",
	Title:   func(typ, title string) string { return "### " + typ + " · " + title },
	Bold:    func(s string) string { return "**" + s + "**" },
	Quote:   func(s string) string { return "> " + s },
	Bullet:  "- ",
	Escape:  EscapeMarkdown,
	Code:    func(s string) string { return CodeFence(EscapeMarkdown(s)) },
}

// EscapeMarkdown keeps text from the cluster from turning into markup that changes who is
// notified or how the message renders: "<" (mentions such as <@all>, <font> tags) becomes the
// full-width "＜". The robots' markdown dialects have no escape character that all of them
// render, so emphasis characters (* _) are left as they are.
func EscapeMarkdown(s string) string { return strings.ReplaceAll(s, "<", "＜") }

// TextLayout writes the default single-event and digest messages in a Style. Labels (the
// kube-eventer label= parameter) open every message; Footer (mentions) closes it.
type TextLayout struct {
	Style  Style
	Labels []string
	Footer string
	// Link, when set, returns a URL for the event's object (a console page); markdown
	// layouts then write the object as a link. "" means no link.
	Link func(f Fields) string
}

// object writes the event's object, linked when the layout has a Link for it.
func (l TextLayout) object(f Fields) string {
	o := l.Style.Escape(f.Object())
	if l.Link != nil {
		if u := l.Link(f); u != "" {
			return "[" + o + "](" + u + ")"
		}
	}
	return o
}

// Event writes one event:
//
//	[Warning] BackOff · Pod shop/web-1
//	Cluster: prod · Count: 5 · 2026-11-24 02:53:15 CST · Node: node-1
//	Back-off restarting failed container web in pod web-1
func (l TextLayout) Event(f Fields) string {
	s := l.Style
	var lines []string
	lines = append(lines, l.labels()...)
	lines = appendNonEmpty(lines, s.Title(typeOr(f.Type), s.Escape(f.Reason)+" · "+l.object(f)))
	var facts []string
	if f.Cluster != "" {
		facts = append(facts, "Cluster: "+s.Bold(s.Escape(f.Cluster)))
	}
	if f.Count > 1 {
		facts = append(facts, fmt.Sprintf("Count: %d", f.Count))
	}
	if w := f.When(); w != "" {
		facts = append(facts, w)
	}
	if f.Host != "" {
		facts = append(facts, "Node: "+s.Escape(f.Host))
	}
	if len(facts) > 0 && f.Restart == nil {
		lines = append(lines, s.Quote(strings.Join(facts, " · ")))
	}
	if f.Restart != nil {
		lines = append(lines, l.restart(f)...)
	} else if f.Message != "" {
		msg := s.Escape(f.Message)
		if s.NewLine != "\n" {
			msg = strings.ReplaceAll(msg, "\n", s.NewLine)
		}
		lines = append(lines, msg)
	}
	if l.Footer != "" {
		lines = append(lines, l.Footer)
	}
	return strings.Join(lines, s.NewLine)
}

// restart writes a restart report's section: the headline, its facts, the pod's recent events,
// the container's termination message, the log tails (code blocks in markdown) and the note on
// a missing log:
//
//	container app of pod shop/web-1 restarted: exit code 137 (OOMKilled) · restart 5
//	Cluster: prod · Namespace: shop · Owner: Deployment web · Node: node-3 · 2026-11-24 02:53:15 CST
//	Termination message: out of memory in the catalogue cache
//	Recent events:
//	- Warning BackOff: Back-off restarting failed container app (×3)
//	Previous log:
//	…last lines of the log
func (l TextLayout) restart(f Fields) []string {
	s := l.Style
	nl := func(x string) string {
		if s.NewLine != "\n" {
			return strings.ReplaceAll(x, "\n", s.NewLine)
		}
		return x
	}
	lines := []string{s.Bold(s.Escape(f.RestartHeader()))}
	var facts []string
	for _, fa := range f.RestartFacts() {
		facts = append(facts, fa.Name+": "+s.Escape(fa.Value))
	}
	if w := f.When(); w != "" {
		facts = append(facts, w)
	}
	if ls := f.Restart.LastState; ls != nil && ls.Signal != 0 {
		facts = append(facts, fmt.Sprintf("Signal: %d", ls.Signal))
	}
	if len(facts) > 0 {
		lines = append(lines, s.Quote(strings.Join(facts, " · ")))
	}
	if tm := f.TerminationMessage(); tm != "" {
		lines = append(lines, "Termination message: "+s.Escape(tm))
	}
	if recent := f.RecentEvents(); len(recent) > 0 {
		lines = append(lines, "Recent events:")
		for _, r := range recent {
			lines = append(lines, s.Bullet+s.Escape(r))
		}
	}
	// A code block keeps the log's own line breaks; plain lines take the style's.
	code := func(x string) string { return nl(s.Escape(x)) }
	if s.Code != nil {
		code = s.Code
	}
	for i := range lines {
		lines[i] = nl(lines[i])
	}
	if f.PreviousLog != "" {
		lines = append(lines, "Previous log:", code(f.PreviousLog))
	}
	if f.CurrentLog != "" {
		lines = append(lines, "Current log:", code(f.CurrentLog))
	}
	if n := f.LogNote(); n != "" {
		lines = append(lines, s.Escape(n))
	}
	return lines
}

// Digest writes a merged batch:
//
//	[Warning] 1000 events · prod
//	2026-11-24 02:53:15 CST – 02:54:14 CST · 3 groups
//	BackOff in shop: 600 events (610 times)
//	- Pod shop/web-9: Back-off restarting failed container (×3)
//	  … and 598 more
//	… and 40 more in 2 other groups
func (l TextLayout) Digest(v *View) string {
	s := l.Style
	var lines []string
	lines = append(lines, l.labels()...)
	title, typ := DigestTitle(v.Digest)
	lines = appendNonEmpty(lines, s.Title(typ, s.Escape(title)))
	if span := timeSpan(v.Digest); span != "" || len(v.Digest.Groups) > 0 {
		lines = append(lines, s.Quote(strings.TrimPrefix(fmt.Sprintf("%s · %s", span, plural(len(v.Digest.Groups), "group")), " · ")))
	}
	for _, g := range v.Groups {
		where := g.Namespace
		if where == "" {
			where = "cluster scope"
		}
		head := fmt.Sprintf("%s in %s: %s", s.Bold(s.Escape(g.Reason)), s.Escape(where), plural(len(g.Events), "event"))
		if g.Occurrences > int64(len(g.Events)) {
			head += fmt.Sprintf(" (%d times)", g.Occurrences)
		}
		lines = append(lines, head)
		for _, f := range g.Shown {
			item := s.Bullet + l.object(f)
			if f.Message != "" {
				item += ": " + s.Escape(f.Message)
			}
			if f.Count > 1 {
				item += fmt.Sprintf(" (×%d)", f.Count)
			}
			lines = append(lines, item)
		}
		if g.More > 0 {
			lines = append(lines, fmt.Sprintf("  … and %d more", g.More))
		}
	}
	if v.HiddenGroups > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more in %s", v.HiddenEvents, plural(v.HiddenGroups, "other group")))
	}
	if l.Footer != "" {
		lines = append(lines, l.Footer)
	}
	return strings.Join(lines, s.NewLine)
}

func (l TextLayout) labels() []string {
	var out []string
	for _, lb := range l.Labels {
		if lb = strings.TrimSpace(lb); lb != "" {
			out = append(out, l.Style.Escape(lb))
		}
	}
	return out
}

func appendNonEmpty(lines []string, s string) []string {
	if s == "" {
		return lines
	}
	return append(lines, s)
}

// EventTitle is the title of a single-event message: "BackOff · Pod shop/web-1".
func EventTitle(f Fields) string { return f.Reason + " · " + f.Object() }

// DigestTitle is the title of a digest: "57 events (50 Warning) · prod", and its type.
func DigestTitle(d *Digest) (title, typ string) {
	typ = "Normal"
	if d.Warnings > 0 {
		typ = "Warning"
	}
	title = plural(d.Events, "event")
	if d.Warnings > 0 && d.Warnings < d.Events {
		title += fmt.Sprintf(" (%d Warning)", d.Warnings)
	}
	if d.Cluster != "" {
		title += " · " + d.Cluster
	}
	return title, typ
}

func typeOr(t string) string {
	if t == "" {
		return "Event"
	}
	return t
}

// plural writes "1 event", "2 events".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// timeSpan writes the digest's first and last event times, the date once.
func timeSpan(d *Digest) string {
	switch {
	case d.First.IsZero():
		return ""
	case d.First.Format(TimeLayout) == d.Last.Format(TimeLayout):
		return d.First.Format(TimeLayout)
	case d.First.Format("2006-01-02") == d.Last.Format("2006-01-02"):
		return d.First.Format(TimeLayout) + " – " + d.Last.Format("15:04:05 MST")
	}
	return d.First.Format(TimeLayout) + " – " + d.Last.Format(TimeLayout)
}
