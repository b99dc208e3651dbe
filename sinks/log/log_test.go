package log

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

var (
	seen    = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)
	testNow = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)
)

func podEvent(reason, message string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1.18a2b", Namespace: "shop", UID: "u-1",
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1"},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Count:          3,
		LastTimestamp:  metav1.NewTime(seen),
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}}
}

// testSink is a Sink whose text lines and JSON output the test can read.
func testSink(json bool, loc *time.Location) (*Sink, *[]string, *bytes.Buffer) {
	var lines []string
	var out bytes.Buffer
	return &Sink{
		json:     json,
		location: loc,
		now:      func() time.Time { return testNow },
		line:     func(s string) { lines = append(lines, s) },
		out:      &out,
	}, &lines, &out
}

func TestTextLines(t *testing.T) {
	node := &core.Event{Event: &corev1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"},
		Reason:         "NodeNotReady", Type: "Normal", Message: "Node node-1 status is now: NodeNotReady",
		EventTime: metav1.NewMicroTime(seen.Add(time.Second)),
	}, Cluster: "prod-eu"}
	multiline := podEvent("Unhealthy", "Liveness probe failed:\nHTTP 500\r\nbody: \"down\"")
	observed := podEvent("Pulled", "image pulled")
	observed.LastTimestamp = metav1.Time{}
	observed.Observed = seen.Add(2 * time.Second)
	series := podEvent("BackOff", "m")
	series.Count = 0
	series.Series = &corev1.EventSeries{Count: 12}
	neither := podEvent("Started", "started")
	neither.LastTimestamp = metav1.Time{}

	s, lines, _ := testSink(false, nil)
	events := []*core.Event{podEvent("BackOff", "Back-off restarting failed container web"), node, multiline, observed, series, neither}
	if err := s.Export(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`2026-11-23 18:53:15 +0000 UTC Warning shop/Pod/web-1 BackOff (cnt:3): Back-off restarting failed container web`,
		`[prod-eu] 2026-11-23 18:53:16 +0000 UTC Normal Node/node-1 NodeNotReady (cnt:1): Node node-1 status is now: NodeNotReady`,
		`2026-11-23 18:53:15 +0000 UTC Warning shop/Pod/web-1 Unhealthy (cnt:3): Liveness probe failed:\nHTTP 500\nbody: "down"`,
		`2026-11-23 18:53:17 +0000 UTC Warning shop/Pod/web-1 Pulled (cnt:3): image pulled`,
		`2026-11-23 18:53:15 +0000 UTC Warning shop/Pod/web-1 BackOff (cnt:12): m`,
		`2026-11-23 19:00:00 +0000 UTC Warning shop/Pod/web-1 Started (cnt:3): started`,
	}
	if !reflect.DeepEqual(*lines, want) {
		t.Fatalf("lines\n%s\nwant\n%s", strings.Join(*lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestTextUsesTimezone(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	s, lines, _ := testSink(false, shanghai)
	if err := s.Export(context.Background(), []*core.Event{podEvent("BackOff", "m")}); err != nil {
		t.Fatal(err)
	}
	if want := "2026-11-24 02:53:15 +0800 CST Warning shop/Pod/web-1 BackOff (cnt:3): m"; (*lines)[0] != want {
		t.Fatalf("got %q, want %q", (*lines)[0], want)
	}
}

func TestJSONLines(t *testing.T) {
	s, lines, out := testSink(true, nil)
	restart := podEvent("ContainerRestarted", "container web restarted")
	restart.Restart = &core.PodRestart{Pod: "web-1", Container: "web", RestartCount: 4,
		LastState: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}
	events := []*core.Event{
		podEvent("BackOff", "Back-off <restarting> & \"failing\"\nsecond line"),
		podEvent("Failed", `镜像拉取失败："app:v1" 不存在`),
		restart,
	}
	events[0].Cluster = "prod-eu"
	if err := s.Export(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if len(*lines) != 0 {
		t.Fatalf("json format wrote glog lines: %q", *lines)
	}
	written := out.String()
	sc := bufio.NewScanner(strings.NewReader(written))
	n := 0
	for ; sc.Scan(); n++ {
		raw := sc.Bytes()
		var got struct {
			corev1.Event
			Cluster string           `json:"cluster"`
			Restart *core.PodRestart `json:"restart"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", n, err, raw)
		}
		want := events[n].Event.DeepCopy()
		want.ManagedFields = nil
		got.LastTimestamp = metav1.NewTime(got.LastTimestamp.UTC()) // metav1 decodes into Local
		if !reflect.DeepEqual(&got.Event, want) {
			t.Errorf("line %d decodes to\n%+v\nwant\n%+v", n, got.Event, want)
		}
		if got.Cluster != events[n].Cluster {
			t.Errorf("line %d: cluster %q", n, got.Cluster)
		}
		if !reflect.DeepEqual(got.Restart, events[n].Restart) {
			t.Errorf("line %d: restart %+v, want %+v", n, got.Restart, events[n].Restart)
		}
		if bytes.Contains(raw, []byte("managedFields")) {
			t.Errorf("line %d carries managedFields", n)
		}
	}
	if n != len(events) {
		t.Fatalf("%d lines, want %d", n, len(events))
	}
	if !strings.Contains(written, "<restarting> &") {
		t.Error("JSON lines escape HTML characters; they should stay readable")
	}
	if events[0].ManagedFields == nil {
		t.Error("Export changed the event it was given")
	}
}

type brokenWriter struct{ after int }

func (w *brokenWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, errors.New("broken pipe")
	}
	w.after--
	return len(p), nil
}

func TestJSONWriteFailureReturnsTheRest(t *testing.T) {
	s, _, _ := testSink(true, nil)
	s.out = &brokenWriter{after: 1}
	events := []*core.Event{podEvent("A", "m"), podEvent("B", "m"), podEvent("C", "m")}
	err := s.Export(context.Background(), events)
	var pe *core.PartialError
	if !errors.As(err, &pe) || core.IsPermanent(err) || len(pe.Failed) != 2 || pe.Failed[0] != events[1] {
		t.Fatalf("got %v, want a retryable PartialError holding B and C", err)
	}
}

func TestParams(t *testing.T) {
	env := sinks.Env{Ctx: context.Background(), Location: time.UTC}
	for v, wantJSON := range map[string]bool{"log": false, "log:?format=text": false, "log:?format=JSON&level=Normal": true} {
		b, err := sinks.Build(1, v, env)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if got := b.Sink.(*Sink).json; got != wantJSON {
			t.Errorf("%s: json %v, want %v", v, got, wantJSON)
		}
	}
	for v, want := range map[string]string{
		"log:?format=jsno": `"jsno" is not allowed; write one of text, json (did you mean "json"?)`,
	} {
		_, err := sinks.Build(1, v, env)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #1 (log)") {
			t.Errorf("%s: got %v, want an error containing %q", v, err, want)
		}
	}
}
