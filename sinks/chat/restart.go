package chat

import (
	"fmt"
	"strings"
	"time"
)

// Restart layout bounds, shared by the chat sinks' default restart layouts.
const (
	// MaxRecentEvents is how many of a pod's recent events a restart message lists.
	MaxRecentEvents = 5
	// maxRecentLine cuts each recent event line.
	maxRecentLine = 200
	// maxTermination cuts the container's termination message (its terminationMessagePath),
	// which layouts show on one line.
	maxTermination = 300
	// MaxLogBytes is the most of each log tail a restart message carries before fitting cuts it
	// further to the service's limit.
	MaxLogBytes = 16 << 10
)

// Fact is a labelled value of a restart message (Cluster: prod).
type Fact struct{ Name, Value string }

// RestartHeader is the headline of a restart report: "container app of pod shop/web-1
// restarted: exit code 137 (OOMKilled) · restart 5 · 3 more folded". "" for a plain event.
func (f Fields) RestartHeader() string {
	r := f.Restart
	if r == nil {
		return ""
	}
	pod := r.Pod
	if r.Namespace != "" {
		pod = r.Namespace + "/" + r.Pod
	}
	h := fmt.Sprintf("container %s of pod %s restarted", r.Container, pod)
	if ls := r.LastState; ls != nil {
		h += fmt.Sprintf(": exit code %d", ls.ExitCode)
		if ls.Reason != "" {
			h += " (" + ls.Reason + ")"
		}
	}
	h += fmt.Sprintf(" · restart %d", r.RestartCount)
	if r.Folded > 0 {
		h += fmt.Sprintf(" · %d more folded", r.Folded)
	}
	return clean(OneLine(h), 2*maxShortField)
}

// RestartFacts are the cluster, namespace, owner and node of a restart report, the ones known.
func (f Fields) RestartFacts() []Fact {
	r := f.Restart
	if r == nil {
		return nil
	}
	var out []Fact
	add := func(name, v string) {
		if v = clean(OneLine(v), maxShortField); v != "" {
			out = append(out, Fact{name, v})
		}
	}
	cluster := r.Cluster
	if cluster == "" {
		cluster = f.Cluster
	}
	add("Cluster", cluster)
	add("Namespace", r.Namespace)
	if r.OwnerName != "" {
		add("Owner", strings.TrimSpace(r.OwnerKind+" "+r.OwnerName))
	}
	add("Node", r.Node)
	return out
}

// StateFacts are the container's facts of a restart report, the ones known: Container,
// Restarts (the restart count), Exit code ("137 (OOMKilled)"), Signal, and Finished (when the
// container died, in the event's time zone).
func (f Fields) StateFacts() []Fact {
	r := f.Restart
	if r == nil {
		return nil
	}
	var out []Fact
	if c := clean(OneLine(r.Container), maxShortField); c != "" {
		out = append(out, Fact{"Container", c})
	}
	out = append(out, Fact{"Restarts", fmt.Sprint(r.RestartCount)})
	ls := r.LastState
	if ls == nil {
		return out
	}
	code := fmt.Sprint(ls.ExitCode)
	if reason := clean(OneLine(ls.Reason), maxShortField); reason != "" {
		code += " (" + reason + ")"
	}
	out = append(out, Fact{"Exit code", code})
	if ls.Signal != 0 {
		out = append(out, Fact{"Signal", fmt.Sprint(ls.Signal)})
	}
	if !ls.FinishedAt.IsZero() {
		loc := time.UTC
		if !f.Time.IsZero() {
			loc = f.Time.Location()
		}
		out = append(out, Fact{"Finished", ls.FinishedAt.In(loc).Format(TimeLayout)})
	}
	return out
}

// TerminationMessage is the container's termination message on one line, cut short; "" when
// it left none.
func (f Fields) TerminationMessage() string {
	if f.Restart == nil || f.Restart.LastState == nil {
		return ""
	}
	return clean(OneLine(cutRunes(f.Restart.LastState.Message, 4*maxTermination)), maxTermination)
}

// RecentEvents are the last MaxRecentEvents of the pod's recent events, one line each
// ("Warning BackOff: Back-off restarting failed container"), oldest first.
func (f Fields) RecentEvents() []string {
	if f.Restart == nil {
		return nil
	}
	evs := f.Restart.RecentEvents
	if len(evs) > MaxRecentEvents {
		evs = evs[len(evs)-MaxRecentEvents:]
	}
	var out []string
	for _, e := range evs {
		if e == nil {
			continue
		}
		line := OneLine(e.Type + " " + e.Reason + ": " + e.Message)
		if e.Count > 1 {
			line += fmt.Sprintf(" (×%d)", e.Count)
		}
		out = append(out, clean(line, maxRecentLine))
	}
	return out
}

// LogNote is why a log is missing, "" when both logs are there.
func (f Fields) LogNote() string {
	if f.Restart == nil {
		return ""
	}
	return clean(OneLine(f.Restart.LogNote), 4*maxShortField)
}

// restartLogs fills f's log tails from the restart report, cleaned and cut to MaxLogBytes
// (the end kept).
func (f *Fields) restartLogs() {
	if f.Restart == nil {
		return
	}
	f.PreviousLog = Tail(strings.TrimRight(f.Restart.PreviousLog, "\n"), MaxLogBytes)
	f.CurrentLog = Tail(strings.TrimRight(f.Restart.CurrentLog, "\n"), MaxLogBytes)
}

// Tail returns the end of s, at most max bytes, starting after a line break when one is near,
// behind Marker when cut. The result is valid UTF-8 without NUL bytes.
func Tail(s string, max int) string {
	s = clean(s, len(s)+1)
	if len(s) <= max {
		return s
	}
	if max <= len(Marker) {
		return ""
	}
	t := s[len(s)-(max-len(Marker)):]
	if nl := strings.IndexByte(t, '\n'); nl >= 0 && nl < len(t)-1 && nl < 512 {
		t = t[nl+1:]
	}
	for len(t) > 0 && !isRuneStart(t[0]) {
		t = t[1:]
	}
	return Marker + t
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// CodeFence writes s as a markdown code block, with any ``` in s broken so the block cannot be
// closed early.
func CodeFence(s string) string {
	return "```\n" + BreakFences(s) + "\n```"
}

// BreakFences puts zero-width spaces into every run of three or more backticks in s, so that s
// cannot close (or open) a code block.
func BreakFences(s string) string {
	// One pass leaves "`\u200b```" of "````": repeat until no run of three is left.
	for strings.Contains(s, "```") {
		s = strings.ReplaceAll(s, "```", "`\u200b``")
	}
	return s
}

// FencedTail writes the end of log as a code block (CodeFence) of at most max UTF-16 code
// units, escaped by esc (nil: as it is) after the cut, so the cut never splits what esc writes.
// The block starts with Marker when the log was cut. It returns "" when log is empty or max
// leaves no room for a line.
func FencedTail(log string, max int, esc func(string) string) string {
	if esc == nil {
		esc = func(s string) string { return s }
	}
	const fences = len("```\n\n```")
	room := max - fences
	n := room
	for n > Width(Marker) {
		body := BreakFences(esc(ClipTail(log, n)))
		if body == "" {
			return ""
		}
		if w := Width(body); w > room {
			n -= w - room
			continue
		}
		return "```\n" + body + "\n```"
	}
	return ""
}
