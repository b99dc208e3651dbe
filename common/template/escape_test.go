package template

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/heraldproject/herald/core"
)

func TestEscapeJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{`say "hi"`, `say \"hi\"`},
		{`back\slash`, `back\\slash`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\b\f", `\b\f`},
		{"\x00\x01\x1f", `\u0000\u0001\u001f`},
		{"\x7f", "\x7f"}, // DEL is valid in a JSON string
		{"<b>&</b>", `\u003cb\u003e\u0026\u003c/b\u003e`},
		{"a\u2028b\u2029", `a\u2028b\u2029`},
		{"中文 é 🔥", "中文 é 🔥"},
		{"bad\xffbyte", `bad\ufffdbyte`},
		{"\xe4\xb8", `\ufffd\ufffd`}, // a cut 3-byte rune: one U+FFFD per byte, like encoding/json
		{"", ""},
	}
	for _, tt := range tests {
		if got := escapeJSONString(tt.in); got != tt.want {
			t.Errorf("escapeJSONString(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(`"`+escapeJSONString(tt.in)+`"`), &back); err != nil {
			t.Errorf("%q: escaped text does not decode: %v", tt.in, err)
		} else if want := string([]rune(tt.in)); back != want {
			t.Errorf("%q: decodes to %q, want %q", tt.in, back, want)
		}
	}
}

// TestEscapeMatchesEncodingJSON checks the hand-written escaper against encoding/json, byte for
// byte, on every single byte and on the nasty messages.
func TestEscapeMatchesEncodingJSON(t *testing.T) {
	inputs := []string{}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, "x"+string([]byte{byte(c)})+"y")
	}
	for _, m := range nastyMessages {
		inputs = append(inputs, m)
	}
	for _, in := range inputs {
		enc, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		want := string(enc[1 : len(enc)-1])
		if got := escapeJSONString(in); got != want {
			t.Errorf("escape(%.60q) = %.80q, encoding/json writes %.80q", in, got, want)
		}
	}
}

// TestEscapedPipelines shows which actions JSON mode escapes: every one that prints, inside
// if/range/with/define, except those ending in toJson or quote.
func TestEscapedPipelines(t *testing.T) {
	msg := SampleEvent().Message
	tests := []struct {
		name, tmpl string
		want       map[string]any // the decoded render
	}{
		{"plain action", `{"m":"{{ .Message }}"}`, map[string]any{"m": msg}},
		{"trim markers", `{"m":"{{- .Message -}}"}`, map[string]any{"m": msg}},
		{"number outside a string", `{"n":{{ .Count }}}`, map[string]any{"n": 12.0}},
		{"quote is not escaped again", `{"m":{{ .Message | quote }}}`, map[string]any{"m": msg}},
		{"quote as a function", `{"m":{{ quote .Message }}}`, map[string]any{"m": msg}},
		{"toJson is not escaped again", `{"o":{{ toJson .InvolvedObject }}}`,
			map[string]any{"o": map[string]any{"kind": "Pod", "namespace": "shop", "name": "checkout-7d4b9c6f5-x2x9z",
				"uid": "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "apiVersion": "v1", "resourceVersion": "918001", "fieldPath": "spec.containers{app}"}}},
		{"printf output is escaped", `{"m":"{{ printf "%q" .Message }}"}`, map[string]any{"m": strconv.Quote(msg)}},
		// Outside a string literal a value is the template's own JSON, left as kube-eventer
		// printed it: escaping it would break it.
		{"printf %q outside a string", `{"m":{{ printf "%q" .Message }}}`, map[string]any{"m": msg}},
		{"contexts follow the text", `{"a":"x,\"{{ .Reason }}\"","n":{{ .Count }},"m":"{{ .Message }}","q":{{ quote .Reason }}}`,
			map[string]any{"a": `x,"BackOff"`, "n": 12.0, "m": msg, "q": "BackOff"}},
		{"branches", `{"m":{{ if .Restart }}"{{ .Reason }}"{{ else }}"{{ .Message }}"{{ end }},"n":{{ .Count }}}`, map[string]any{"m": msg, "n": 12.0}},
		{"a value in an array", `{"l":["{{ .Reason }}",{{ .Count }}]}`, map[string]any{"l": []any{"BackOff", 12.0}}},
		{"variable declaration prints nothing", `{{ $m := .Message }}{"m":"{{ $m }}"}`, map[string]any{"m": msg}},
		{"inside if and else", `{{ if .Restart }}{"r":"{{ .Reason }}"}{{ else }}{"m":"{{ .Message }}"}{{ end }}`, map[string]any{"m": msg}},
		{"inside with", `{{ with .Message }}{"m":"{{ . }}"}{{ end }}`, map[string]any{"m": msg}},
		{"inside range", `{"l":[{{ range $i, $s := .ManagedFields }}{{ end }}"{{ .Message }}"]}`, map[string]any{"l": []any{msg}}},
		{"inside a defined template", `{{ define "m" }}{{ .Message }}{{ end }}{"m":"{{ template "m" . }}"}`, map[string]any{"m": msg}},
		{"inside block", `{"m":"{{ block "m" . }}{{ .Message }}{{ end }}"}`, map[string]any{"m": msg}},
		{"helpers then escape", `{"m":"{{ .Message | upper | truncate 9 }}"}`, map[string]any{"m": "BACK-OFF…"}},
		{"a key", `{"{{ .Message }}":1}`, map[string]any{msg: 1.0}},
		{"time", `{"t":"{{ .LastTimestamp }}"}`, map[string]any{"t": "2026-11-23 18:53:15 +0000 UTC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(context.Background(), Options{Owner: "test", Inline: tt.tmpl, JSON: true})
			if err != nil {
				t.Fatal(err)
			}
			out, err := b.Render(SampleEvent())
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeJSON(t, "render", out); !jsonEqual(got, tt.want) {
				t.Errorf("got %s, want %v", out, tt.want)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestEscaperPrintsLikeTextTemplate: in JSON mode, every value prints the text text/template
// prints for it (then escaped), so kube-eventer templates keep their text for every field.
func TestEscaperPrintsLikeTextTemplate(t *testing.T) {
	exprs := []string{
		".Reason", ".Message", ".Type", ".Count", ".LastTimestamp", ".FirstTimestamp", ".EventTime",
		".InvolvedObject", ".InvolvedObject.UID", ".Source", ".Series", ".Related", ".Restart",
		".Labels.app", ".Annotations", ".Cluster", ".Observed", ".Event.Message", ".ObjectMeta.CreationTimestamp",
		".DeletionTimestamp", ".Restart.LastState", ".Restart.LastState.ExitCode", ".Restart.LastState.FinishedAt",
		".Restart.RestartCount", ".Restart.PreviousLog", ".Restart.RecentEvents", "$.Reason",
	}
	for _, expr := range exprs {
		for _, ev := range []func() *core.Event{SampleEvent, SampleRestartEvent} {
			e := ev()
			tmpl := "{{ " + expr + " }}"
			if strings.HasPrefix(expr, ".Restart.") {
				tmpl = "{{ with .Restart }}{{ " + strings.TrimPrefix(expr, ".Restart") + " }}{{ end }}"
			}
			plain := texttemplate.Must(texttemplate.New("plain").Parse(tmpl))
			var want bytes.Buffer
			if err := plain.Execute(&want, e); err != nil {
				t.Fatalf("%s: %v", tmpl, err)
			}
			b, err := New(context.Background(), Options{Owner: "test", Inline: `"` + tmpl + `"`, JSON: true})
			if err != nil {
				t.Fatalf("%s: %v", tmpl, err)
			}
			out, err := b.Render(e)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: %v: %s", tmpl, err, out)
			}
			if got != want.String() {
				t.Errorf("%s on %s: JSON mode prints %q, text/template prints %q", tmpl, e.Reason, got, want.String())
			}
		}
	}
}

// TestTextModeDoesNotEscape: without JSON mode the body is plain text/template output.
func TestTextModeDoesNotEscape(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: `{{ .Reason }}: {{ .Message }}`})
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Render(SampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	if want := "BackOff: " + SampleEvent().Message; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
