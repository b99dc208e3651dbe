package template

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/core"
)

// kubeEventerTemplates returns the templates kube-eventer's docs give (testdata/kube-eventer),
// by file name, as they reach the template engine: .tmpl files as is, .yaml ConfigMaps decoded
// and their "content" taken.
func kubeEventerTemplates(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/kube-eventer/*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		switch filepath.Ext(f) {
		case ".tmpl":
			out[name] = string(b)
		case ".yaml":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(b, &cm); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			content, ok := cm.Data["content"]
			if !ok {
				t.Fatalf("%s has no data.content", f)
			}
			out[name] = content
		}
	}
	if len(out) != 8 {
		t.Fatalf("want the 8 templates of testdata/kube-eventer, found %d: %v", len(out), reflect.ValueOf(out).MapKeys())
	}
	return out
}

// jsonTemplates are the kube-eventer templates that are JSON documents (all but bear chat's,
// which is a fragment), plus kube-eventer's default body.
func jsonTemplates(t testing.TB) map[string]string {
	out := kubeEventerTemplates(t)
	delete(out, "bearychat.tmpl")
	out["default"] = KubeEventerDefault
	return out
}

// kubeEventerRender renders tmpl the way kube-eventer's webhook sink does in
// RenderBodyTemplate (sinks/webhook/webhook.go): plain text/template over the *v1.Event, after
// deleting every double quote from the message and setting LastTimestamp from
// util.GetLastEventTimestamp (lastTimestamp, else eventTime, else now).
func kubeEventerRender(t testing.TB, tmpl string, event *corev1.Event, now time.Time) []byte {
	t.Helper()
	event = event.DeepCopy()
	tp, err := texttemplate.New("body").Parse(tmpl)
	if err != nil {
		t.Fatalf("kube-eventer would not parse the template either: %v", err)
	}
	event.Message = strings.Replace(event.Message, `"`, ``, -1)
	last := now
	if !event.LastTimestamp.IsZero() {
		last = event.LastTimestamp.Time
	} else if !event.EventTime.IsZero() {
		last = event.EventTime.Time
	}
	event.LastTimestamp = metav1.Time{Time: last}
	var buf bytes.Buffer
	if err := tp.Execute(&buf, event); err != nil {
		t.Fatalf("kube-eventer render: %v", err)
	}
	return buf.Bytes()
}

func decodeJSON(t testing.TB, what string, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s is not valid JSON: %v\n%s", what, err, b)
	}
	return v
}

// ordinaryEvent is an event without quotes in its message, which kube-eventer renders into
// valid JSON.
func ordinaryEvent() *corev1.Event {
	e := SampleEvent().Event
	e.Message = "Back-off restarting failed container app in pod web-0_default(0a9b8c7d), 容器启动失败"
	return e
}

func TestKubeEventerDefaultIsVerbatim(t *testing.T) {
	src, err := os.ReadFile("testdata/kube-eventer/default.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(src), "`")
	if len(parts) != 3 {
		t.Fatalf("default.go.txt should hold one raw string literal, got %q", src)
	}
	if parts[1] != KubeEventerDefault {
		t.Errorf("KubeEventerDefault differs from kube-eventer's defaultBodyTemplate:\nkube-eventer: %q\nherald:       %q", parts[1], KubeEventerDefault)
	}
}

// TestKubeEventerTemplatesRenderTheSame renders each template kube-eventer documents through
// herald (JSON mode) and through kube-eventer's own code, for ordinary events, and compares the
// decoded documents.
func TestKubeEventerTemplatesRenderTheSame(t *testing.T) {
	now := time.Date(2026, 11, 23, 19, 0, 1, 0, time.UTC)
	withEventTime := ordinaryEvent()
	withEventTime.LastTimestamp = metav1.Time{}
	withEventTime.EventTime = metav1.NewMicroTime(time.Date(2026, 11, 23, 18, 59, 58, 123456000, time.UTC))
	noTimes := ordinaryEvent()
	noTimes.LastTimestamp = metav1.Time{}
	events := map[string]*corev1.Event{
		"lastTimestamp":        ordinaryEvent(),
		"eventTime only":       withEventTime,
		"no time (uses now)":   noTimes,
		"Normal, cluster-wide": {ObjectMeta: metav1.ObjectMeta{Name: "node-3.1", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-3"}, Reason: "NodeReady", Message: "Node node-3 status is now: NodeReady", Type: "Normal", Count: 1, LastTimestamp: metav1.NewTime(now)},
	}
	for name, text := range jsonTemplates(t) {
		for evName, ev := range events {
			t.Run(name+"/"+evName, func(t *testing.T) {
				b, err := New(context.Background(), Options{Owner: "test", Inline: text, JSON: true, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				before := ev.DeepCopy()
				got, err := b.Render(&core.Event{Event: ev})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(before, ev) {
					t.Fatal("Render changed the event")
				}
				want := kubeEventerRender(t, text, ev, now)
				if g, w := decodeJSON(t, "herald's render", got), decodeJSON(t, "kube-eventer's render", want); !reflect.DeepEqual(g, w) {
					t.Errorf("documents differ\nherald:       %s\nkube-eventer: %s", got, want)
				}
			})
		}
	}
}

// nastyMessages are messages that break templates which do not escape.
var nastyMessages = map[string]string{
	"quotes":          `Back-off restarting failed container "app" in pod "web-0"`,
	"backslashes":     `C:\temp\new \" \\n \u0041 \`,
	"newlines":        "line one\nline two\r\nline three\n",
	"tabs":            "col1\tcol2\t\tcol3",
	"control chars":   "nul\x00 bell\x07 bs\b ff\f esc\x1b us\x1f del\x7f",
	"chinese":         "容器启动失败：数据库连接被拒绝（端口 5432）",
	"emoji":           "🔥 pod on fire 👩‍💻🇩🇪",
	"invalid utf-8":   "bad \xff\xfe bytes \xc3\x28 and a cut rune \xe4\xb8",
	"script":          `</script><script>alert("x")</script> & <b>`,
	"line separators": "a\u2028b\u2029c",
	"template text":   `{{ .Reason }} {{ printf "%s" }}`,
	"empty":           "",
	"100 KiB":         strings.Repeat("x\"y\\z\n\t中", 100<<10/12),
}

// placeholder stands for the message in kube-eventer's render; it needs no escaping and
// appears nowhere else.
const placeholder = "HERALDPLACEHOLDER42"

// TestNastyMessagesStayIntact: for every message, herald's render is valid JSON equal to
// kube-eventer's render of the same template with the message put back whole (kube-eventer
// itself deletes quotes and breaks on the rest). Invalid UTF-8 becomes U+FFFD.
func TestNastyMessagesStayIntact(t *testing.T) {
	for name, text := range jsonTemplates(t) {
		b, err := New(context.Background(), Options{Owner: "test", Inline: text, JSON: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for msgName, msg := range nastyMessages {
			t.Run(name+"/"+msgName, func(t *testing.T) {
				ev := ordinaryEvent()
				ev.Message = placeholder
				shape := decodeJSON(t, "kube-eventer's render", kubeEventerRender(t, text, ev, time.Time{}))
				want := replaceStrings(shape, placeholder, string([]rune(msg)))

				ev.Message = msg
				got, err := b.Render(&core.Event{Event: ev})
				if err != nil {
					t.Fatal(err)
				}
				if !json.Valid(got) {
					t.Fatalf("invalid JSON:\n%.2000s", got)
				}
				if g := decodeJSON(t, "herald's render", got); !reflect.DeepEqual(g, want) {
					t.Errorf("decoded document differs from kube-eventer's with the message intact\ngot:  %.2000v\nwant: %.2000v", g, want)
				}
			})
		}
	}
}

// replaceStrings replaces old with new in every string of a decoded JSON document.
func replaceStrings(v any, old, new string) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, old, new)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = replaceStrings(e, old, new)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[strings.ReplaceAll(k, old, new)] = replaceStrings(e, old, new)
		}
		return out
	}
	return v
}

// TestKubeEventerFragmentRefused: bear chat's documented body is not a JSON document; in JSON
// mode herald refuses it at start-up and shows where.
func TestKubeEventerFragmentRefused(t *testing.T) {
	text := kubeEventerTemplates(t)["bearychat.tmpl"]
	_, err := New(context.Background(), Options{Owner: "--sink #1 (webhook)", Inline: text, JSON: true})
	if err == nil {
		t.Fatal("a body that is not a JSON document was accepted in JSON mode")
	}
	for _, want := range []string{"--sink #1 (webhook)", "invalid JSON", "line 1, column 7", `   1 | "text":"EventType`, "fix:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Without JSON mode it renders, as in kube-eventer.
	if _, err := New(context.Background(), Options{Owner: "test", Inline: text}); err != nil {
		t.Errorf("text mode: %v", err)
	}
}
