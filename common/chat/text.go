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
	if f.Restart != nil && f.Restart.LastState != nil {
		ls := f.Restart.LastState
		facts = append(facts, fmt.Sprintf("Last state: %s (exit %d)", s.Escape(ls.Reason), ls.ExitCode))
	}
	if len(facts) > 0 {
		lines = append(lines, s.Quote(strings.Join(facts, " · ")))
	}
	if f.Message != "" {
		lines = append(lines, s.Escape(f.Message))
	}
	if l.Footer != "" {
		lines = append(lines, l.Footer)
	}
	return strings.Join(lines, s.NewLine)
}

// Digest writes a merged batch:
//
//	[Warning] 1000 events · prod
//	2026-11-24 02:53:15 CST – 02:54:14 CST · 3 groups
//	BackOff in shop: 600 events (610 times)
//	- Pod shop/web-9: Back-off restarting failed container (×3)
//	  … and 598 more
//	… and 40 more events in 2 other groups
func (l TextLayout) Digest(v *View) string {
	s := l.Style
	var lines []string
	lines = append(lines, l.labels()...)
	title, typ := DigestTitle(v.Digest)
	lines = appendNonEmpty(lines, s.Title(typ, s.Escape(title)))
	if span := timeSpan(v.Digest); span != "" || len(v.Digest.Groups) > 0 {
		lines = append(lines, s.Quote(strings.TrimPrefix(fmt.Sprintf("%s · %d groups", span, len(v.Digest.Groups)), " · ")))
	}
	for _, g := range v.Groups {
		where := g.Namespace
		if where == "" {
			where = "cluster scope"
		}
		head := fmt.Sprintf("%s in %s: %d events", s.Bold(s.Escape(g.Reason)), s.Escape(where), len(g.Events))
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
		lines = append(lines, fmt.Sprintf("… and %d more events in %d other groups", v.HiddenEvents, v.HiddenGroups))
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
	title = fmt.Sprintf("%d events", d.Events)
	if d.Warnings > 0 && d.Warnings < d.Events {
		title = fmt.Sprintf("%d events (%d Warning)", d.Events, d.Warnings)
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

// timeSpan writes the digest's first and last event times, the date once.
func timeSpan(d *Digest) string {
	switch {
	case d.First.IsZero():
		return ""
	case d.First.Equal(d.Last):
		return d.First.Format(TimeLayout)
	case d.First.Format("2006-01-02") == d.Last.Format("2006-01-02"):
		return d.First.Format(TimeLayout) + " – " + d.Last.Format("15:04:05 MST")
	}
	return d.First.Format(TimeLayout) + " – " + d.Last.Format(TimeLayout)
}
