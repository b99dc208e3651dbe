package teams

import (
	"fmt"
	"strings"

	"github.com/heraldproject/herald/sinks/chat"
)

// MaxBody is the largest body herald posts. Microsoft documents a message size limit of 28 KB
// for Teams webhooks and the Teams connector's "post card" actions; herald reads it as 28,000
// bytes, below both 28,000 and 28,672.
const MaxBody = 28_000

// CardVersion is the Adaptive Card schema version herald writes; Teams renders up to 1.5.
const CardVersion = "1.4"

// Message is the body a Workflows "when a Teams webhook request is received" trigger expects:
// a message whose attachments are Adaptive Cards.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries one card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	MSTeams *MSTeams  `json:"msteams,omitempty"`
	Body    []Element `json:"body"`
}

// MSTeams holds Teams' card options: a full-width card reads better for events.
type MSTeams struct {
	Width string `json:"width"`
}

// Element is a TextBlock or a FactSet.
type Element struct {
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	Weight    string `json:"weight,omitempty"`
	Size      string `json:"size,omitempty"`
	Color     string `json:"color,omitempty"`
	FontType  string `json:"fontType,omitempty"`
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	Wrap      bool   `json:"wrap,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	Facts     []Fact `json:"facts,omitempty"`
}

// Fact is one title/value row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

func message(body []Element) *Message {
	return &Message{
		Type: "message",
		Attachments: []Attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: Card{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: CardVersion,
				MSTeams: &MSTeams{Width: "Full"},
				Body:    body,
			},
		}},
	}
}

func text(s string) Element {
	return Element{Type: "TextBlock", Text: s, Wrap: true}
}

func title(s, color string) Element {
	return Element{Type: "TextBlock", Text: s, Weight: "Bolder", Size: "Medium", Color: color, Wrap: true}
}

func subtle(s string) Element {
	return Element{Type: "TextBlock", Text: s, IsSubtle: true, Wrap: true}
}

// event lays out one event: a title coloured by type, the fields as facts, the message. A
// restart report has a layout of its own (restart).
func event(f chat.Fields) *Message {
	if f.Restart != nil {
		return restart(f)
	}
	body := []Element{title(chat.OneLine(f.Reason+": "+f.Object()), color(f.Type))}
	var facts []Fact
	add := factAdder(&facts)
	add("Cluster", f.Cluster)
	add("Namespace", f.Namespace)
	add("Kind", f.Kind)
	add("Name", f.Name)
	add("Reason", f.Reason)
	add("Type", f.Type)
	add("Count", fmt.Sprint(f.Count))
	add("Time", f.When())
	add("Node", f.Host)
	body = append(body, Element{Type: "FactSet", Facts: facts})
	if f.Message != "" {
		body = append(body, text(f.Message))
	}
	return message(body)
}

// color is a title's colour by the event's type.
func color(eventType string) string {
	if eventType == "Warning" {
		return "Attention"
	}
	return "Good"
}

// factAdder returns a function that appends a fact to facts, skipping empty values.
func factAdder(facts *[]Fact) func(name, value string) {
	return func(name, value string) {
		if value != "" {
			*facts = append(*facts, Fact{Title: name, Value: value})
		}
	}
}

// restart lays out a restart report: the headline as title; the cluster, namespace, pod,
// owner, node and the container's state as facts; the termination message; the pod's recent
// events as a list; and the previous and current logs' ends in monospace blocks (a ``` in a log
// broken, should a Teams client read it as a code fence), or the note on why a log is missing. chat.FitSingle cuts the logs further when the card is over MaxBody.
func restart(f chat.Fields) *Message {
	body := []Element{title(f.RestartHeader(), color(f.Type))}
	var facts []Fact
	add := factAdder(&facts)
	for _, fa := range f.RestartFacts() {
		add(fa.Name, fa.Value)
	}
	add("Pod", chat.OneLine(f.Restart.Pod))
	for _, fa := range f.StateFacts() {
		add(fa.Name, fa.Value)
	}
	body = append(body, Element{Type: "FactSet", Facts: facts})
	if tm := f.TerminationMessage(); tm != "" {
		body = append(body, text("Termination message: "+tm))
	}
	heading := func(s string) Element {
		return Element{Type: "TextBlock", Text: s, Weight: "Bolder", Wrap: true, Separator: true}
	}
	if recent := f.RecentEvents(); len(recent) > 0 {
		body = append(body, heading("Recent events"), text("- "+strings.Join(recent, "\n- ")))
	}
	for _, lg := range []struct{ label, log string }{{"Previous log", f.PreviousLog}, {"Current log", f.CurrentLog}} {
		if lg.log != "" {
			body = append(body, heading(lg.label),
				Element{Type: "TextBlock", Text: chat.BreakFences(chat.Tail(lg.log, maxLog)), FontType: "Monospace", IsSubtle: true, Wrap: true})
		}
	}
	if n := f.LogNote(); n != "" {
		body = append(body, subtle(n))
	}
	return message(body)
}

// maxLog is the most of each log a card shows, in bytes: two of them stay well within MaxBody.
const maxLog = 8 << 10

// digest lays out merged events: a title with the count, a summary, then per group a heading
// and its named events as facts, each group's rest and the hidden groups counted in "and N
// more".
func digest(v *chat.View) *Message {
	where := "Kubernetes"
	if v.Cluster != "" {
		where = v.Cluster
	}
	color := "Accent"
	if v.Warnings > 0 {
		color = "Attention"
	}
	body := []Element{title(chat.OneLine(count(v.Events, "event")+" in "+where), color)}
	summary := fmt.Sprintf("%d Warning · %d Normal · %s", v.Warnings, v.Events-v.Warnings, count64(v.Occurrences, "occurrence"))
	if !v.First.IsZero() {
		summary += fmt.Sprintf(" · %s – %s", v.First.Format(chat.TimeLayout), v.Last.Format(chat.TimeLayout))
	}
	body = append(body, subtle(summary))
	for _, g := range v.Groups {
		head := chat.OneLine(g.Reason)
		if g.Namespace != "" {
			head += " in " + chat.OneLine(g.Namespace)
		}
		head += " — " + count(len(g.Events), "event")
		if g.Occurrences > int64(len(g.Events)) {
			head += " (" + count64(g.Occurrences, "occurrence") + ")"
		}
		body = append(body, Element{Type: "TextBlock", Text: head, Weight: "Bolder", Wrap: true, Separator: true})
		if len(g.Shown) > 0 {
			facts := make([]Fact, len(g.Shown))
			for i, f := range g.Shown {
				name := chat.OneLine(f.Kind + " " + f.Name)
				if !f.Time.IsZero() {
					name += " · " + f.Time.Format("15:04:05")
				}
				value := f.Message
				if value == "" {
					value = "—"
				}
				facts[i] = Fact{Title: name, Value: value}
			}
			body = append(body, Element{Type: "FactSet", Facts: facts})
		}
		if g.More > 0 {
			body = append(body, subtle(fmt.Sprintf("… and %d more", g.More)))
		}
	}
	if v.HiddenGroups > 0 {
		body = append(body, subtle("… and "+count(v.HiddenEvents, "more event")+" in "+count(v.HiddenGroups, "more group")))
	}
	return message(body)
}

// count writes n with word, plural unless n is 1: "1 event", "3 events".
func count(n int, word string) string { return count64(int64(n), word) }

func count64(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
