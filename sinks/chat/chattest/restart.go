package chattest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/chat"
)

// The first and last lines of RestartEvent's logs; a chat message keeps the last and cuts the
// first.
const (
	PreviousFirst = "previous log first line: starting catalogue service"
	PreviousLast  = "previous log last line: fatal error: runtime: out of memory"
	CurrentFirst  = "current log first line: starting catalogue service again"
	CurrentLast   = "current log last line: loading catalogue eu"
	// FencedLine is the previous log's last line but two: it opens with a code fence, which a
	// layout must not let end its code block.
	FencedLine = "```yaml config dump follows"
	// Termination starts RestartEvent's termination message.
	Termination = "fatal: the catalogue cache exceeded its memory limit"
)

// RecentEventCount is how many recent events RestartEvent's report carries.
const RecentEventCount = 20

// RestartEvent returns template.SampleRestartEvent with logBytes of previous and of current
// log (numbered lines between the first and last lines above), RecentEventCount recent events
// (messages ending "event 00" to "event 19", oldest first) and a termination message of 1 MiB.
// logBytes 0 leaves the sample's short previous log and no current log, events or message.
func RestartEvent(logBytes int) *core.Event {
	e := template.SampleRestartEvent()
	if logBytes <= 0 {
		return e
	}
	r := e.Restart
	r.PreviousLog = Log(PreviousFirst, logBytes, FencedLine+"\n  cacheSize: 2Gi\n"+PreviousLast)
	r.CurrentLog = Log(CurrentFirst, logBytes, CurrentLast)
	r.LastState.Message = Termination + "; " + strings.Repeat("cache shard dump 0123456789abcdef; ", (1<<20)/35)
	reasons := []string{"Pulled", "Created", "Started", "Unhealthy", "BackOff"}
	for i := range RecentEventCount {
		typ := corev1.EventTypeNormal
		reason := reasons[i%len(reasons)]
		if reason == "Unhealthy" || reason == "BackOff" {
			typ = corev1.EventTypeWarning
		}
		r.RecentEvents = append(r.RecentEvents, &corev1.Event{
			Type: typ, Reason: reason, Count: int32(1 + i%3),
			Message:       fmt.Sprintf("container app: %s, event %02d", strings.ToLower(reason), i),
			LastTimestamp: metav1.NewTime(LastSeen.Add(time.Duration(i-RecentEventCount) * time.Minute)),
		})
	}
	return e
}

// Log is a log of about n bytes: first, numbered timestamped lines, then last.
func Log(first string, n int, last string) string {
	var b strings.Builder
	b.WriteString(first + "\n")
	for i := 0; b.Len() < n-len(last); i++ {
		fmt.Fprintf(&b, "2026-11-23T18:%02d:%02dZ INFO line %06d: served request in 12ms\n", i/60%60, i%60, i)
	}
	b.WriteString(last + "\n")
	return b.String()
}

// CheckRestart fails t unless text, all the text a sink's restart message shows, names e's
// restart facts (container, pod, exit code, reason, owner, node, cluster), its newest recent
// events and not the older ones, and the ends of its logs; a log longer than chat.MaxLogBytes
// must have lost its first line. Code fences (lines starting with ```) must pair up. Limits
// are the receivers' to check.
func CheckRestart(t testing.TB, text string, e *core.Event) {
	t.Helper()
	r := e.Restart
	for name, want := range map[string]string{
		"container": r.Container, "pod": r.Pod, "exit code": fmt.Sprint(r.LastState.ExitCode),
		"reason": r.LastState.Reason, "owner": r.OwnerName, "node": r.Node, "cluster": e.Cluster,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the %s %q is not shown", name, want)
		}
	}
	for i, ev := range r.RecentEvents {
		tag := ev.Message[strings.LastIndex(ev.Message, "event "):]
		shown := strings.Contains(text, tag)
		if newest := i >= len(r.RecentEvents)-chat.MaxRecentEvents; newest != shown {
			t.Errorf("recent event %q shown %v, want %v", tag, shown, newest)
		}
	}
	for _, lg := range []struct{ name, log string }{{"previous", r.PreviousLog}, {"current", r.CurrentLog}} {
		lines := strings.Split(strings.TrimRight(lg.log, "\n"), "\n")
		if lg.log == "" {
			continue
		}
		if last := lines[len(lines)-1]; !strings.Contains(text, last) {
			t.Errorf("the %s log's last line %q is cut", lg.name, last)
		}
		if len(lg.log) > chat.MaxLogBytes && strings.Contains(text, lines[0]) {
			t.Errorf("the %s log's first line %q is shown: the log was cut at its end", lg.name, lines[0])
		}
	}
	if r.LastState.Message != "" && len(r.LastState.Message) > 1<<10 && strings.Contains(text, strings.Repeat("cache shard dump 0123456789abcdef; ", 40)) {
		t.Error("the termination message is shown at length")
	}
	fences := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fences++
		}
	}
	if fences%2 != 0 {
		t.Errorf("%d code fence lines: a code block is not closed:\n%s", fences, text)
	}
}

// LargeLogBytes is the size of each log of the large restart ForEachRestart sends.
const LargeLogBytes = 200 << 10

// ForEachRestart runs send in a subtest for the sample restart (RestartEvent(0)) and for a
// large one (RestartEvent(LargeLogBytes)); send delivers e through a sink of its own, checks
// what is particular to the sink, and returns all the text the message shows, which
// CheckRestart then checks. large says which of the two runs.
func ForEachRestart(t *testing.T, send func(t *testing.T, e *core.Event, large bool) string) {
	for _, c := range []struct {
		name  string
		bytes int
	}{{"sample", 0}, {"large", LargeLogBytes}} {
		t.Run(c.name, func(t *testing.T) {
			e := RestartEvent(c.bytes)
			CheckRestart(t, send(t, e, c.bytes > 0), e)
		})
	}
}

// FuzzRestart is the sample restart with fuzzer input in every text a restart layout shows:
// both logs, the termination message, the container, the owner and a recent event.
func FuzzRestart(message, reason string) *core.Event {
	e := RestartEvent(0)
	r := e.Restart
	r.PreviousLog, r.CurrentLog = message, reason+"\n"+message
	r.LastState.Message, r.LastState.Reason = message, reason
	r.Container, r.OwnerName = reason, message
	r.RecentEvents = []*corev1.Event{{Type: corev1.EventTypeWarning, Reason: reason, Message: message}}
	return e
}
