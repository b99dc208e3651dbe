package chat

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

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
