package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

func restartEv(prev, cur string) *core.Event {
	e := ev("shop", "web-1", "ContainerRestarted", "container app of pod shop/web-1 restarted", 0)
	e.Restart = &core.PodRestart{
		Namespace: "shop", Pod: "web-1", Container: "app", Node: "node-3",
		OwnerKind: "Deployment", OwnerName: "web", RestartCount: 5, Folded: 2,
		LastState:   &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"},
		PreviousLog: prev, CurrentLog: cur,
		RecentEvents: []*corev1.Event{
			{Type: "Normal", Reason: "Pulled", Message: "image pulled"},
			{Type: "Warning", Reason: "Unhealthy", Message: "probe failed"},
			{Type: "Warning", Reason: "BackOff", Message: "Back-off restarting\nfailed container", Count: 3},
		},
	}
	return e
}

func TestTextLayoutRestartSection(t *testing.T) {
	e := restartEv("line 1\nOOM at <@all> ```x```\n", "starting")
	md := TextLayout{Style: Markdown}.Event(FieldsOf(e, "prod", nil))
	for _, want := range []string{
		"**container app of pod shop/web-1 restarted: exit code 137 (OOMKilled) · restart 5 · 2 more folded**",
		"> Cluster: prod · Namespace: shop · Owner: Deployment web · Node: node-3",
		"Recent events:\n- Normal Pulled: image pulled\n- Warning Unhealthy: probe failed\n- Warning BackOff: Back-off restarting failed container (×3)",
		"Previous log:\n```\nline 1\nOOM at ＜@all> `\u200b``x`\u200b``\n```",
		"Current log:\n```\nstarting\n```",
	} {
		assert.Contains(t, md, want)
	}
	assert.Equal(t, 4, strings.Count(md, "```"), "two fences open and close; the log's own are broken")

	e.Restart.PreviousLog, e.Restart.CurrentLog = "", ""
	e.Restart.LogNote = "previous log unavailable: the pod or container no longer exists"
	plain := TextLayout{Style: PlainText}.Event(FieldsOf(e, "prod", nil))
	assert.Contains(t, plain, "container app of pod shop/web-1 restarted: exit code 137 (OOMKilled)")
	assert.True(t, strings.HasSuffix(plain, e.Restart.LogNote), plain)
	assert.NotContains(t, plain, "```")
	assert.NotContains(t, plain, "Previous log:")
}

func TestFitSingleCutsTheLogsFirstKeepingTheirEnds(t *testing.T) {
	prev := strings.Repeat("x", 200<<10) + "\nthe last line before the kill"
	e := restartEv(prev, strings.Repeat("y", 1000)+"\ncurrent end")
	f := FieldsOf(e, "prod", nil)
	assert.LessOrEqual(t, len(f.PreviousLog), MaxLogBytes, "a 200 KiB log is cut to MaxLogBytes before any layout")
	assert.Equal(t, prev, e.Restart.PreviousLog, "the shared event is not changed")

	layout := TextLayout{Style: Markdown}
	render := func(f Fields) ([]byte, int, error) {
		text := layout.Event(f)
		b, err := json.Marshal(map[string]string{"text": text})
		return b, len(text), err
	}
	for _, limit := range []int{4096, 2048, 1200} {
		body, err := FitSingle(f, limit, render)
		require.NoError(t, err, limit)
		var got map[string]string
		require.NoError(t, json.Unmarshal(body, &got))
		text := got["text"]
		assert.LessOrEqual(t, len(text), limit)
		assert.Greater(t, len(text), limit*3/4, "the room is used: %d of %d", len(text), limit)
		assert.Contains(t, text, "restarted: exit code 137 (OOMKilled)")
		assert.Contains(t, text, "Previous log:\n```\n"+Marker)
		assert.Contains(t, text, "the last line before the kill\n```", "the end of the log is kept")
	}
	// Too small for any log: the facts still go out.
	bare := f
	bare.PreviousLog, bare.CurrentLog = "", ""
	_, base, _ := render(bare)
	body, err := FitSingle(f, base+5, render)
	require.NoError(t, err)
	assert.Contains(t, string(body), "restart 5")
	assert.NotContains(t, string(body), "Previous log:")
}

func TestTail(t *testing.T) {
	assert.Equal(t, "abc", Tail("abc", 3))
	assert.Equal(t, Marker+"def", Tail("abcde\ndef", 8), "from the line break when it is near")
	assert.Equal(t, Marker+"def", Tail("abc\ndef", 6))
	got := Tail(strings.Repeat("日本", 10), 10)
	assert.LessOrEqual(t, len(got), 10)
	assert.True(t, strings.HasPrefix(got, Marker))
	assert.Equal(t, "", Tail("abcdef", 2))
}

func TestClipAndClipTailCountUTF16(t *testing.T) {
	assert.Equal(t, 2, Width("😀"))
	assert.Equal(t, "abc", Clip("abc", 3))
	got := Clip(strings.Repeat("😀", 10), 7)
	assert.LessOrEqual(t, Width(got), 7)
	assert.True(t, strings.HasSuffix(got, Marker))
	log := "first\nsecond\nthird 😀"
	assert.Equal(t, log, ClipTail(log, Width(log)))
	tail := ClipTail(log, 12)
	assert.Equal(t, Marker+"third 😀", tail, "from a line start, the end kept")
	assert.LessOrEqual(t, Width(tail), 12)
	assert.Equal(t, "", ClipTail(log, 1))
}

func TestFencedTail(t *testing.T) {
	log := strings.Repeat("line ``` & x\n", 500) + "THE END"
	esc := func(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }
	for _, max := range []int{3000, 1024, 100, 20} {
		got := FencedTail(log, max, esc)
		assert.LessOrEqual(t, Width(got), max, max)
		assert.True(t, strings.HasPrefix(got, "```\n"+Marker), max)
		assert.True(t, strings.HasSuffix(got, "THE END\n```"), max)
		assert.Equal(t, 2, strings.Count(got, "```"), "the log's own fences are broken")
		assert.NotContains(t, got, "&am"+"\n", "escaped after the cut")
	}
	assert.Equal(t, "", FencedTail("", 100, nil))
	assert.Equal(t, "", FencedTail(log, 9, nil), "no room for a line")
}

func TestStateFactsAndTerminationMessage(t *testing.T) {
	e := restartEv("", "")
	e.Restart.LastState.Signal = 9
	e.Restart.LastState.FinishedAt = metav1.NewTime(t0)
	e.Restart.LastState.Message = "panic: out of memory\n" + strings.Repeat("goroutine 1 ", 1<<16)
	f := FieldsOf(e, "prod", time.FixedZone("CST", 8*3600))
	assert.Equal(t, []Fact{{"Container", "app"}, {"Restarts", "5"}, {"Exit code", "137 (OOMKilled)"}, {"Signal", "9"}, {"Finished", t0.In(time.FixedZone("CST", 8*3600)).Format(TimeLayout)}}, f.StateFacts())
	tm := f.TerminationMessage()
	assert.True(t, strings.HasPrefix(tm, "panic: out of memory goroutine 1"), tm)
	assert.LessOrEqual(t, len(tm), maxTermination)
	text := TextLayout{Style: Markdown}.Event(f)
	assert.Contains(t, text, "Termination message: panic: out of memory")
	assert.Contains(t, text, "Signal: 9")
	assert.Nil(t, FieldsOf(ev("shop", "web-1", "BackOff", "x", 0), "", nil).StateFacts())
}

func TestQuotedLines(t *testing.T) {
	assert.Equal(t, "> a ＜@all>\n> `\u200b``yaml\n> ", QuotedLines("a <@all>\n```yaml\n"))
}

func TestFitSingleCutsALongMessageBeforeTheLogs(t *testing.T) {
	e := restartEv(strings.Repeat("p", 3000)+"\nprevious end", "current end")
	f := FieldsOf(e, "prod", nil)
	f.Message = strings.Repeat("m", 20000)
	render := func(f Fields) ([]byte, int, error) {
		text := f.Message + "\n" + f.PreviousLog + "\n" + f.CurrentLog
		return []byte(text), len(text), nil
	}
	body, err := FitSingle(f, 6000, render)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(body), 6000)
	assert.Contains(t, string(body), strings.Repeat("p", 3000)+"\nprevious end\ncurrent end", "the logs are whole: the message gave way")
	assert.Greater(t, len(body), 6000-8, "the message takes the room left")

	f.PreviousLog = strings.Repeat("p", 10000) + "\nprevious end"
	body, err = FitSingle(f, 6000, render)
	require.NoError(t, err)
	msg, _, _ := strings.Cut(string(body), "\n")
	assert.LessOrEqual(t, len(msg), 1<<10, "the message is cut to 1 KiB before the logs are cut")
	assert.Contains(t, string(body), "previous end\ncurrent end")
}
