package template

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/core"
)

// mode is how a sink loads a template: text, JSON (herald's own body_template, a chat robot),
// or JSON as kube-eventer (the webhook's default body and ConfigMaps).
type mode struct {
	name              string
	json, kubeEventer bool
}

var modes = []mode{{"text", false, false}, {"json", true, false}, {"kube-eventer", true, true}, {"kube-eventer text", false, true}}

// renderBoth renders e with b's plan and with text/template (the same compiled template with its
// plan taken away), as Render would. It fails the test when b's template has no plan.
func renderBoth(t testing.TB, b *Body, e *core.Event) (fast, slow []byte, errFast, errSlow error) {
	t.Helper()
	c := b.cur.Load()
	if c.plan == nil {
		t.Fatalf("%q has no plan", c.text)
	}
	withoutPlan := *c
	withoutPlan.plan = nil
	fast, errFast = b.execute(c, e)
	slow, errSlow = b.execute(&withoutPlan, e)
	return fast, slow, errFast, errSlow
}

// sameRender fails the test when the plan's render of e differs from text/template's, in a
// byte or in the error. what and i say which template and event.
func sameRender(t testing.TB, what string, i int, b *Body, e *core.Event) {
	t.Helper()
	fast, slow, errFast, errSlow := renderBoth(t, b, e)
	if (errFast == nil) != (errSlow == nil) || errFast != nil && errFast.Error() != errSlow.Error() {
		t.Fatalf("%s, event %d: plan error %v, text/template error %v", what, i, errFast, errSlow)
	}
	if !bytes.Equal(fast, slow) {
		t.Fatalf("%s, event %d: the plan renders\n%q\ntext/template renders\n%q\nevent: %#v", what, i, fast, slow, e.Event)
	}
}

// Pieces the generated events' strings are made of: what needs JSON escaping, what kube-eventer's
// quote deletion turns into a broken escape (\" becomes \), what is not UTF-8, what is.
var pieces = []string{
	"", "a", "Pod", "BackOff", " ", `"`, `\`, `\"`, `\n`, `\u00e9`, `\u12`, "\n", "\r\n", "\t", "\x00",
	"\x1f", "\x7f", "<", ">", "&", "</script>", "\u2028", "\u2029", "\xff", "\xe4\xb8", "中文", "容器启动失败",
	"🔥", "{{ .Reason }}", "%v", "é", "\ufffd", "m=+1.5",
}

func randString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// zones are the locations generated times are in: a time prints its zone's name, which
// may be anything (a FixedZone's name needs escaping in JSON).
var zones = func() []*time.Location {
	out := []*time.Location{time.UTC, time.Local, time.FixedZone("CST", 8*3600), time.FixedZone("", -(5*3600 + 30*60)),
		time.FixedZone(`q"u\o<te>`, 3600), time.FixedZone("中文", 7200), time.FixedZone("\xff", 0)}
	for _, name := range []string{"Asia/Shanghai", "America/St_Johns", "Europe/Berlin"} {
		if loc, err := time.LoadLocation(name); err == nil {
			out = append(out, loc)
		}
	}
	return out
}()

// monotonic is a time with a monotonic clock reading, which time.Time.String prints too.
var monotonic = time.Now()

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return monotonic
	case 2:
		return time.Time{}.In(zones[r.IntN(len(zones))]) // zero instant, but not the zero struct
	}
	sec := r.Int64N(1<<34) - 1<<33 // years around 1700 to 2240, and some before year 1
	if r.IntN(10) == 0 {
		sec = r.Int64N(1 << 40) // past year 9999: time.Time's MarshalJSON fails
	}
	nsec := int64(0)
	switch r.IntN(3) {
	case 1:
		nsec = r.Int64N(1e9)
	case 2:
		nsec = r.Int64N(1e6) * 1000
	}
	return time.Unix(sec, nsec).In(zones[r.IntN(len(zones))])
}

// randEvent returns an event with every field a plan reads set to generated values (or left
// empty or zero).
func randEvent(r *rand.Rand) *core.Event {
	e := SampleEvent()
	ev := e.Event
	for _, s := range []*string{&ev.Reason, &ev.Message, &ev.Type, &ev.Action, &ev.ReportingController, &ev.ReportingInstance,
		&ev.Source.Component, &ev.Source.Host, &ev.InvolvedObject.Kind, &ev.InvolvedObject.Namespace, &ev.InvolvedObject.Name,
		&ev.InvolvedObject.APIVersion, &ev.InvolvedObject.ResourceVersion, &ev.InvolvedObject.FieldPath,
		&ev.Kind, &ev.APIVersion, &ev.Name, &ev.GenerateName, &ev.Namespace, &ev.SelfLink, &ev.ResourceVersion, &e.Cluster} {
		if r.IntN(4) != 0 {
			*s = randString(r)
		}
	}
	ev.UID = types.UID(randString(r))
	ev.InvolvedObject.UID = types.UID(randString(r))
	ev.Count = []int32{0, 1, 12, -1, 1<<31 - 1, -1 << 31}[r.IntN(6)]
	ev.Generation = []int64{0, 7, -1 << 63}[r.IntN(3)]
	e.Position = []uint64{0, 918273, 1<<64 - 1}[r.IntN(3)]
	ev.FirstTimestamp = metav1.Time{Time: randTime(r)}
	ev.LastTimestamp = metav1.Time{Time: randTime(r)}
	ev.EventTime = metav1.MicroTime{Time: randTime(r)}
	ev.CreationTimestamp = metav1.Time{Time: randTime(r)}
	e.Observed = randTime(r)
	return e
}

// corpus returns every template of testdata (kube-eventer's documented bodies, users' ConfigMaps),
// kube-eventer's default body and the examples of docs/templates.md, by name.
func corpus(t testing.TB) map[string]string {
	out := kubeEventerTemplates(t)
	out["default"] = KubeEventerDefault
	files, err := os.ReadDir("testdata/compat")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".tmpl") {
			b, err := os.ReadFile("testdata/compat/" + f.Name())
			if err != nil {
				t.Fatal(err)
			}
			out["compat/"+f.Name()] = string(b)
		}
	}
	doc, err := os.ReadFile("../../docs/templates.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range codeBlock.FindAllStringSubmatch(string(doc), -1) {
		text := m[2]
		if m[1] == "yaml" {
			var cm corev1.ConfigMap
			if !strings.Contains(text, "kind: ConfigMap") || yaml.Unmarshal([]byte(text), &cm) != nil {
				continue
			}
			text = cm.Data[ContentKey]
		}
		out[fmt.Sprintf("docs/templates.md#%d", i)] = text
	}
	return out
}

// TestPlanMatchesTextTemplate: every template of the corpus that has a plan renders through
// it exactly what text/template renders, byte for byte, in every mode, for 500 generated
// events (quotes, backslashes, control characters, invalid UTF-8, Chinese text, times in odd
// zones, with a monotonic reading, zero; eventTime only; nothing at all). And the plan is
// used: kube-eventer's default body and every template of testdata have one.
func TestPlanMatchesTextTemplate(t *testing.T) {
	now := monotonic.Add(time.Hour)
	r := rand.New(rand.NewPCG(21, 2026))
	events := make([]*core.Event, 500)
	for i := range events {
		events[i] = randEvent(r)
	}
	texts := corpus(t)
	names := sortedKeys(texts)
	withPlan := map[string]bool{}
	for _, name := range names {
		for _, m := range modes {
			b, err := New(context.Background(), Options{Owner: "test", Inline: texts[name], JSON: m.json, KubeEventer: m.kubeEventer,
				Warnf: func(string, string, ...any) {}, Now: func() time.Time { return now }, Location: zones[3]})
			if err != nil {
				continue // bear chat's fragment in JSON mode, a docs example that is not JSON
			}
			if b.cur.Load().plan == nil {
				continue
			}
			withPlan[name] = true
			for i, e := range events {
				sameRender(t, name+" in "+m.name+" mode", i, b, e)
			}
		}
	}
	for _, name := range names {
		if !strings.HasPrefix(name, "docs/") && !withPlan[name] {
			t.Errorf("%s has no plan: it renders with text/template", name)
		}
	}
	t.Logf("%d of %d templates have a plan", len(withPlan), len(names))
}

// TestFieldsMatchTextTemplate: every field a plan reads, through every helper a plan runs,
// renders as text/template renders it, in text and both JSON modes.
func TestFieldsMatchTextTemplate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	events := make([]*core.Event, 40)
	for i := range events {
		events[i] = randEvent(r)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	for _, path := range sortedKeys(eventFields) {
		f := eventFields[path]
		texts := []string{
			`{{ .` + path + ` }}`, `{{ $.` + path + ` }}`, `{"v":"{{ .` + path + ` }}"}`, `{"v":"x{{ .` + path + ` | upper }}y"}`,
			`{"v":"{{ lower .` + path + ` }}"}`, `{"v":"{{ .` + path + ` | truncate 9 }}"}`, `{"v":"{{ truncate 1 .` + path + ` }}"}`,
			`{"v":{{ quote .` + path + ` }}}`, `{"v":{{ .` + path + ` | toJson }}}`, `{"v":"{{ .` + path + ` | default "none" | upper }}"}`,
			`{"v":{{ .` + path + ` | truncate 30 | quote }}}`, `{"v":"{{ .` + path + ` | _herald_json_string | truncate 12 }}"}`,
			`{"v":"{{ .` + path + ` | _herald_json_string_min | upper }}"}`, `{"v":{{ .` + path + ` | default "none" | toJson }}}`,
		}
		if f.kind == kindTime {
			texts = append(texts, `{"v":"{{ .`+path+` | date "2006-01-02 15:04:05.000 MST" }}"}`,
				`{"v":"{{ date "Jan _2 03:04PM -07:00" .`+path+` | upper }}"}`)
		}
		for _, text := range texts {
			for _, m := range modes {
				b, err := New(context.Background(), Options{Owner: "test", Inline: text, JSON: m.json, KubeEventer: m.kubeEventer,
					Warnf: func(string, string, ...any) {}, Location: shanghai, Now: func() time.Time { return monotonic }})
				if err != nil {
					if m.json && !strings.HasPrefix(text, `{"`) {
						continue // not a JSON document
					}
					t.Fatalf("%s in %s mode: %v", text, m.name, err)
				}
				for i, e := range events {
					sameRender(t, text+" in "+m.name+" mode", i, b, e)
				}
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestPlanFallsBack: a template with what a plan does not do has none, and renders with
// text/template as before.
func TestPlanFallsBack(t *testing.T) {
	for _, text := range []string{
		`{{ if .Message }}{{ .Message }}{{ end }}`,
		`{{ range $k, $v := .Labels }}{{ $k }}{{ end }}`,
		`{{ with .Restart }}{{ .Container }}{{ else }}none{{ end }}`,
		`{{ $m := .Message }}{{ $m }}`,
		`{{ define "m" }}{{ .Message }}{{ end }}{{ template "m" . }}`,
		`{{ printf "%q" .Message }}`,
		`{{ .InvolvedObject }}`,
		`{{ .Labels.app }}`,
		`{{ .Series }}`,
		`{{ . }}`,
		`{{ $ }}`,
		`{{ "literal" }}`,
		`{{ .Count | default 1 }}`,
		`{{ .Message | default .Reason }}`,
		`{{ .LastTimestamp | default "never" | date "15:04" }}`,
		`{{ .Message | truncate 1.5 }}`,
		`{{ (.Message) }}`,
		`{{ .GetName }}`,
		`{{ len .Message }}`,
	} {
		b, err := New(context.Background(), Options{Owner: "test", Inline: text})
		if err != nil {
			continue // what does not load renders nothing at all
		}
		if b.cur.Load().plan != nil {
			t.Errorf("%s has a plan", text)
		}
		if _, err := b.Render(SampleEvent()); err != nil && !strings.Contains(err.Error(), "date:") {
			t.Errorf("%s: %v", text, err)
		}
	}
}

// TestPlanErrorsAsTextTemplate: a body over MaxBytes fails the same way with a plan; a toJson
// text/template's helper fails on (a time.Time past year 9999) falls back to text/template and
// fails in its words.
func TestPlanErrorsAsTextTemplate(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true, MaxBytes: 600})
	if err != nil {
		t.Fatal(err)
	}
	e := SampleEvent()
	e.Message = strings.Repeat("\n", 300) // 600 bytes escaped
	_, _, errFast, _ := renderBoth(t, b, e)
	if errFast == nil || !strings.Contains(errFast.Error(), ErrTooLarge.Error()) {
		t.Errorf("plan: %v", errFast)
	}
	sameRender(t, "too large", 0, b, e)
	e.Message = strings.Repeat("\n", 100)
	sameRender(t, "under the cap", 0, b, e)

	b, err = New(context.Background(), Options{Owner: "test", Inline: `{{ toJson .Observed }}`})
	if err != nil {
		t.Fatal(err)
	}
	e = SampleEvent()
	e.Observed = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, _, errFast, _ = renderBoth(t, b, e)
	if errFast == nil || !strings.Contains(errFast.Error(), "error calling toJson") {
		t.Errorf("toJson of year 10000: %v", errFast)
	}
	sameRender(t, "toJson year 10000", 0, b, e)
}

// TestPlanSelfCheck: a plan whose sample renders differ from text/template's (here, made
// wrong on purpose) is refused at load, so a bug in it costs speed, never a wrong body.
func TestPlanSelfCheck(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	c := b.cur.Load()
	samples := []*core.Event{SampleEvent(), SampleRestartEvent()}
	if !b.planAgrees(c, samples) {
		t.Fatal("the default body's plan disagrees with text/template")
	}
	bad := *c.plan
	bad.parts = append([]part(nil), c.plan.parts...)
	bad.parts[0].text += " "
	wrong := *c
	wrong.plan = &bad
	if b.planAgrees(&wrong, samples) {
		t.Fatal("a plan that adds a space agrees with text/template")
	}
}

// TestPlanLeavesEventAlone: a render with a plan, of a kube-eventer template (quotes deleted)
// and of an event without lastTimestamp, does not change the shared event.
func TestPlanLeavesEventAlone(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true, KubeEventer: true,
		Warnf: func(string, string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	e := SampleEvent()
	e.LastTimestamp = metav1.Time{}
	before := e.DeepCopy()
	out, _, err, _ := renderBoth(t, b, e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, e.Event) {
		t.Error("the render changed the event")
	}
	if !regexp.MustCompile(`"EventMessage": "Back-off restarting failed container app in pod checkout`).Match(out) {
		t.Errorf("quotes not deleted as kube-eventer did: %s", out)
	}
}

// FuzzPlan: for any template that has a plan and any event (message, reason, name, count,
// times in any zone), the plan renders what text/template renders, byte for byte, in every
// mode.
func FuzzPlan(f *testing.F) {
	for _, text := range corpus(f) {
		f.Add(text, "say \"hi\"\n中文", "BackOff", "web-0", int32(3), int64(1795460000), int64(5000), "CST", 28800, uint8(2))
	}
	f.Add(`{"m":"{{ .Message | truncate 10 | upper }}","t":"{{ .LastTimestamp | date "2006-01-02 15:04:05 MST" }}"}`, "héllo wörld, long enough", "r", "n", int32(0), int64(0), int64(0), "", 0, uint8(1))
	f.Add(`{"m":{{ quote .Message }},"c":{{ .Count }},"k":"{{ $.Key }}","e":{{ toJson .EventTime }}}`, `a\"b`, "", "", int32(-5), int64(-62135596800), int64(1), `q"z`, -3600, uint8(3))
	f.Add(`{{ .Event.LastTimestamp }} {{ .Reason | default "none" | lower }} {{ .ObjectMeta.Name }}`, "", "", "", int32(1), int64(253402300800), int64(999999999), "\xff", 1, uint8(0))
	f.Fuzz(func(t *testing.T, text, msg, reason, name string, count int32, sec, nsec int64, zone string, offset int, flags uint8) {
		if tooCostly(text) {
			return
		}
		loc := time.FixedZone(zone, offset%(100*3600))
		e := SampleEvent()
		e.Message, e.Reason, e.InvolvedObject.Name, e.Count = msg, reason, name, count
		ts := time.Unix(sec, nsec).In(loc)
		e.LastTimestamp = metav1.Time{}
		if flags&4 == 0 {
			e.LastTimestamp = metav1.NewTime(ts)
		}
		e.EventTime = metav1.NewMicroTime(ts.Add(time.Duration(nsec)))
		e.Observed = ts
		b, err := New(context.Background(), Options{Owner: "fuzz", Inline: text, JSON: flags&1 != 0, KubeEventer: flags&2 != 0,
			Warnf: func(string, string, ...any) {}, Now: func() time.Time { return monotonic }, Location: loc,
			MaxBytes: 64 << 10, Timeout: 50 * time.Millisecond})
		if err != nil || b.cur.Load().plan == nil {
			return
		}
		sameRender(t, text, 0, b, e)
	})
}

// TestPlanPanicFallsBack: a plan that panics on an event (a bug) does not fail the render:
// text/template renders it.
func TestPlanPanicFallsBack(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Render(SampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	broken := *b.cur.Load()
	broken.plan = &plan{parts: []part{{act: &action{}}}} // no field: a nil dereference
	b.cur.Store(&broken)
	got, err := b.Render(SampleEvent())
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}
