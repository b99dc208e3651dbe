package loki_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/log" // the line is what log:?format=json writes
	"github.com/heraldproject/herald/sinks/loki/lokitest"
)

// A batch reaches Loki as the push API wants it: snappy protobuf, the tenant header, basic auth,
// one stream per label set of the chosen fields plus the constant labels, each entry at its
// event's last timestamp with the event as JSON for its line: the object log:?format=json writes.
func TestBatchReachesLokiAsStreams(t *testing.T) {
	rc := receiver(t, lokitest.Options{RequireTenant: true, User: "12345", Password: "glc_secret"})
	s := build(t, "loki:http://12345:glc_secret@"+strings.TrimPrefix(rc.URL, "http://")+"?tenant=team-a&label=job=herald")
	node := event("", "NodeNotReady", "node-7", 3*time.Second)
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-7"}
	evs := []*core.Event{
		event("shop", "BackOff", "web-1", 2*time.Second),
		event("shop", "BackOff", "web-2", time.Second), // same stream, earlier: sorted first
		event("shop", "Unhealthy", "web-1", time.Second),
		node,
	}
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	pushes := rc.Pushes()
	if len(pushes) != 1 {
		t.Fatalf("%d pushes, want 1", len(pushes))
	}
	p := pushes[0]
	if p.Status != 204 || p.ContentType != "application/x-protobuf" || p.ContentEncoding != "" || p.Tenant != "team-a" {
		t.Errorf("push: status %d, Content-Type %q, Content-Encoding %q, tenant %q", p.Status, p.ContentType, p.ContentEncoding, p.Tenant)
	}
	wantStreams := []string{
		`{cluster="prod-eu", job="herald", kind="Pod", namespace="shop", reason="BackOff"}`,
		`{cluster="prod-eu", job="herald", kind="Pod", namespace="shop", reason="Unhealthy"}`,
		`{cluster="prod-eu", job="herald", kind="Node", reason="NodeNotReady"}`,
	}
	var gotStreams []string
	for _, st := range p.Streams {
		gotStreams = append(gotStreams, st.Raw)
	}
	if !reflect.DeepEqual(gotStreams, wantStreams) {
		t.Errorf("streams, in order of their first entry:\n got %q\nwant %q", gotStreams, wantStreams)
	}
	backoff := p.Streams[0].Entries
	if len(backoff) != 2 || !backoff[0].Time.Equal(t0.Add(time.Second)) || !backoff[1].Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("BackOff entries %v: want web-2 at t0+1s, then web-1 at t0+2s", backoff)
	}
	log := build(t, "log:?format=json").(sinks.Previewer)
	for i, e := range []*core.Event{evs[1], evs[0]} {
		want, err := log.Preview(e)
		if err != nil {
			t.Fatal(err)
		}
		if backoff[i].Line != want {
			t.Errorf("line %d:\n got %s\nwant %s (what log:?format=json writes)", i, backoff[i].Line, want)
		}
		var back corev1.Event
		if err := json.Unmarshal([]byte(backoff[i].Line), &back); err != nil || back.Message != e.Message || back.InvolvedObject.Name != e.InvolvedObject.Name {
			t.Errorf("line %d does not decode to its event: %v", i, err)
		}
	}
	if n := len(rc.Stored()); n != 4 {
		t.Errorf("Loki holds %d entries, want 4", n)
	}
}

// format=json sends the same entries as Loki's JSON form, and Loki stores the same.
func TestJSONFormatStoresTheSameEntries(t *testing.T) {
	evs := []*core.Event{event("shop", "BackOff", "web-1", 2*time.Second), event("shop", "BackOff", "web-2", time.Second), event("batch", "Failed", "job-1", 0)}
	var stored [2][]lokitest.Stored
	for i, format := range []string{"protobuf", "json"} {
		rc := receiver(t, lokitest.Options{})
		s := build(t, "loki:"+rc.URL+"?format="+format+"&metadata=name,uid")
		if err := s.Export(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"protobuf": "application/x-protobuf", "json": "application/json"}[format]
		if ct := rc.Pushes()[0].ContentType; ct != want {
			t.Errorf("%s: Content-Type %q, want %q", format, ct, want)
		}
		stored[i] = rc.Stored()
	}
	if len(stored[0]) != 3 || !reflect.DeepEqual(stored[0], stored[1]) {
		t.Errorf("protobuf and JSON pushes stored differently:\n%+v\n%+v", stored[0], stored[1])
	}
	if md := stored[0][0].Metadata; md["name"] == "" || md["uid"] == "" || len(md) != 2 {
		t.Errorf("structured metadata %v, want name and uid", md)
	}
}

// Label values are quoted as Loki's parser reads them: quotes, backslashes, line breaks, control
// characters and non-ASCII text come back unchanged, and the stream holds them as given.
func TestLabelValuesAreEscaped(t *testing.T) {
	rc := receiver(t, lokitest.Options{})
	s := build(t, "loki:"+rc.URL+"?labels=reason,namespace")
	nasty := []string{`say "hi"`, `C:\path\`, "two\nlines\ttab", "容器 🚑", "nul\x00and\x1bescape", "`backtick`", `\"`}
	var evs []*core.Event
	for i, r := range nasty {
		evs = append(evs, event("shop", r, "web", time.Duration(i)*time.Second))
	}
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, st := range rc.Pushes()[0].Streams {
		labels, err := lokitest.ParseLabels(st.Raw)
		if err != nil {
			t.Errorf("%s does not parse: %v", st.Raw, err)
			continue
		}
		got[labels["reason"]] = true
	}
	for _, r := range nasty {
		if !got[r] {
			t.Errorf("reason %q did not come back from the labels string", r)
		}
	}
	if n := len(rc.Stored()); n != len(nasty) {
		t.Errorf("Loki holds %d entries, want %d", n, len(nasty))
	}
}

// A template renders the line: a text template as written, a JSON one with every value escaped.
func TestTemplateLines(t *testing.T) {
	for _, c := range []struct {
		template, want string
	}{
		{`reason={{ .Reason }} object={{ .InvolvedObject.Name }} msg={{ quote .Message }}`,
			`reason=BackOff object=web-1 msg="Back-off restarting \"app\" in web-1 容器 🚑\n\\ done"`},
		{`{"reason":"{{ .Reason }}","msg":"{{ .Message }}"}`,
			`{"reason":"BackOff","msg":"Back-off restarting \"app\" in web-1 容器 🚑\n\\ done"}`},
	} {
		rc := receiver(t, lokitest.Options{})
		s := build(t, "loki:"+rc.URL+"?body_template="+url.QueryEscape(c.template))
		if err := s.Export(context.Background(), []*core.Event{event("shop", "BackOff", "web-1", 0)}); err != nil {
			t.Fatal(err)
		}
		if got := lines(rc.Stored()); len(got) != 1 || got[0] != c.want {
			t.Errorf("template %s:\n got %q\nwant %q", c.template, got, c.want)
		}
	}
}

// herald check shows the stream and line without sending anything.
func TestPreview(t *testing.T) {
	b, err := sinks.Build(1, "loki:https://logs.example/loki/api/v1/push?tenant=a&token=${LOKI_TOKEN}&metadata=name", sinks.Env{CheckOnly: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	out, err := b.Sink.(sinks.Previewer).Preview(event("shop", "BackOff", "web-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST https://logs.example/loki/api/v1/push (protobuf)", "X-Scope-OrgID: a",
		`stream {cluster="prod-eu", kind="Pod", namespace="shop", reason="BackOff"}`, `structured metadata {name="web-1"}`, "entry at 2026-11-23T18:53:15Z", `"reason":"BackOff"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
}
