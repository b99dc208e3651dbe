package template

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// compatMessages hold what breaks templates written without escaping: quotes (kube-eventer
// deleted them), line breaks and tabs (raw in a JSON string: invalid), backslashes (some form a
// JSON escape, some do not), Chinese text.
var compatMessages = map[string]string{
	"quotes":                 `Failed to pull image "nginx:1.27": rpc error: code = NotFound desc = "not found"`,
	"newlines":               "Liveness probe failed: HTTP probe failed with statuscode: 500\nretrying in 10s\n",
	"tab and CR":             "col1\tcol2\r\nnext",
	"backslash, no escape":   `MountVolume.SetUp failed: C:\var\lib\kubelet\pods is not a directory`,
	"backslash, JSON escape": `exec: "sh -c echo a\nb": escapes \n, \t and \\ as written`,
	"trailing backslash":     `path ends in \`,
	"chinese":                "容器启动失败：数据库连接被拒绝（端口 5432），请检查 \"db\" 服务",
	"everything":             "引号 \"x\"\n反斜杠 C:\\temp\\new\ttab <b>&</b>",
}

// compatTemplates are the templates users wrote for kube-eventer (testdata/compat), plus
// kube-eventer's default body and templates that quote or place values themselves (kube-eventer
// had no helper functions: printf is text/template's own).
func compatTemplates(t *testing.T) map[string]string {
	files, err := filepath.Glob("testdata/compat/*.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in testdata/compat: %v", err)
	}
	out := map[string]string{"default": KubeEventerDefault}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	out["printf %q, bare count"] = `{"msg": {{ printf "%q" .Message }}, "count": {{ .Count }}, "reason": "{{ .Reason }}"}`
	out["escaped quotes in the text"] = `{"text": "said \"{{ .Message }}\" at {{ .LastTimestamp }}"}`
	return out
}

// kubeEventerMeant is the document kube-eventer's render of tmpl stood for: its render decoded
// when that is valid JSON; otherwise (a raw line break, a lone backslash) its render with the
// message replaced by a placeholder, decoded, with the message (quotes deleted, as
// kube-eventer deleted them) put back in every string.
func kubeEventerMeant(t *testing.T, tmpl string, ev *corev1.Event, now time.Time) (doc any, valid bool) {
	t.Helper()
	out := kubeEventerRender(t, tmpl, ev, now)
	if json.Valid(out) {
		return decodeJSON(t, "kube-eventer's render", out), true
	}
	shape := ev.DeepCopy()
	shape.Message = placeholder
	doc = decodeJSON(t, "kube-eventer's render with a plain message", kubeEventerRender(t, tmpl, shape, now))
	return replaceStrings(doc, placeholder, strings.ReplaceAll(ev.Message, `"`, "")), false
}

// TestCompatTemplatesRenderAsKubeEventer: every template users wrote for kube-eventer, rendered
// as a kube-eventer template (a custom_body_configmap, or the default body), gives the JSON
// document kube-eventer sent (byte for byte where kube-eventer's body was valid JSON), and a valid
// document where kube-eventer's was not, for messages with quotes, line breaks, backslashes and
// Chinese text.
func TestCompatTemplatesRenderAsKubeEventer(t *testing.T) {
	now := time.Date(2026, 11, 23, 19, 0, 1, 0, time.UTC)
	for name, text := range compatTemplates(t) {
		b, err := New(context.Background(), Options{Owner: "test", Inline: text, JSON: true, KubeEventer: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for msgName, msg := range compatMessages {
			t.Run(name+"/"+msgName, func(t *testing.T) {
				ev := ordinaryEvent()
				ev.Message = msg
				before := ev.DeepCopy()
				got, err := b.Render(&core.Event{Event: ev})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(before, ev) {
					t.Fatal("Render changed the event")
				}
				if !json.Valid(got) {
					t.Fatalf("invalid JSON:\n%s", got)
				}
				want, valid := kubeEventerMeant(t, text, ev, now)
				if g := decodeJSON(t, "herald's render", got); !reflect.DeepEqual(g, want) {
					t.Errorf("decoded documents differ\nherald:       %s\nkube-eventer: %s", got, kubeEventerRender(t, text, ev, now))
				}
				if ke := kubeEventerRender(t, text, ev, now); valid && string(got) != string(ke) {
					t.Errorf("kube-eventer's body was valid JSON and herald's differs in its bytes\nherald:       %s\nkube-eventer: %s", got, ke)
				}
			})
		}
	}
}

// TestKubeEventerEventTimes: the times kube-eventer printed, in the zone time.Local names (TZ).
func TestKubeEventerEventTimes(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ev := ordinaryEvent()
	// The API client decodes times into time.Local; TZ=Asia/Shanghai makes that Shanghai.
	ev.LastTimestamp = metav1.NewTime(time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC).In(shanghai))
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true, KubeEventer: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Render(&core.Event{Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"EventTime": "2026-11-24 02:53:15 +0800 CST"`; !strings.Contains(string(got), want) {
		t.Errorf("render %s lacks %s", got, want)
	}
	if ke := kubeEventerRender(t, KubeEventerDefault, ev, time.Time{}); string(ke) != string(got) {
		t.Errorf("herald %s\nkube-eventer %s", got, ke)
	}
}
