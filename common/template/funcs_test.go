package template

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// helperEvent is the sample event with fields the helper tests look at.
func helperEvent() *core.Event {
	e := SampleEvent()
	e.Message = "héllo wörld"
	e.Action = ""
	e.Labels = map[string]string{"app": "checkout"}
	return e
}

func TestHelpers(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name, tmpl string
		loc        *time.Location
		event      func(*core.Event)
		want       string
	}{
		// toJson
		{name: "toJson string", tmpl: `{{ toJson .Message }}`, event: func(e *core.Event) { e.Message = "a \"b\"\n<c>" }, want: `"a \"b\"\n\u003cc\u003e"`},
		{name: "toJson number", tmpl: `{{ toJson .Count }}`, want: `12`},
		{name: "toJson object", tmpl: `{{ toJson .Source }}`, want: `{"component":"kubelet","host":"node-3"}`},
		{name: "toJson map", tmpl: `{{ .Labels | toJson }}`, want: `{"app":"checkout"}`},
		{name: "toJson time", tmpl: `{{ toJson .LastTimestamp }}`, want: `"2026-11-23T18:53:15Z"`},
		{name: "toJson nil", tmpl: `{{ toJson .Restart }}`, want: `null`},
		// quote
		{name: "quote string", tmpl: `{{ quote .Message }}`, event: func(e *core.Event) { e.Message = "say \"hi\"\t\\" }, want: `"say \"hi\"\t\\"`},
		{name: "quote number prints first", tmpl: `{{ .Count | quote }}`, want: `"12"`},
		{name: "quote time prints like the template", tmpl: `{{ quote .LastTimestamp }}`, want: `"2026-11-23 18:53:15 +0000 UTC"`},
		{name: "quote invalid utf-8", tmpl: `{{ quote .Message }}`, event: func(e *core.Event) { e.Message = "x\xffy" }, want: `"x\ufffdy"`},
		// truncate
		{name: "truncate shorter", tmpl: `{{ .Message | truncate 5 }}`, want: "héll…"},
		{name: "truncate exact length", tmpl: `{{ .Message | truncate 11 }}`, want: "héllo wörld"},
		{name: "truncate longer", tmpl: `{{ .Message | truncate 200 }}`, want: "héllo wörld"},
		{name: "truncate 1", tmpl: `{{ .Message | truncate 1 }}`, want: "…"},
		{name: "truncate 0", tmpl: `{{ .Message | truncate 0 }}`, want: ""},
		{name: "truncate negative", tmpl: `{{ truncate -3 .Message }}`, want: ""},
		{name: "truncate counts runes not bytes", tmpl: `{{ .Message | truncate 3 }}`, event: func(e *core.Event) { e.Message = "中文字符串" }, want: "中文…"},
		{name: "truncate emoji", tmpl: `{{ .Message | truncate 3 }}`, event: func(e *core.Event) { e.Message = "🔥🔥🔥🔥" }, want: "🔥🔥…"},
		{name: "truncate invalid utf-8 byte is one rune", tmpl: `{{ .Message | truncate 3 }}`, event: func(e *core.Event) { e.Message = "\xff\xfeabc" }, want: "\xff\xfe…"},
		{name: "truncate a number", tmpl: `{{ .Count | truncate 1 }}`, want: "…"},
		// date
		{name: "date UTC default", tmpl: `{{ .LastTimestamp | date "2006-01-02 15:04:05" }}`, want: "2026-11-23 18:53:15"},
		{name: "date in --timezone", tmpl: `{{ .LastTimestamp | date "2006-01-02 15:04:05 MST" }}`, loc: shanghai, want: "2026-11-24 02:53:15 CST"},
		{name: "date RFC3339", tmpl: `{{ date "2006-01-02T15:04:05Z07:00" .FirstTimestamp }}`, want: "2026-11-23T18:06:15Z"},
		{name: "date micro time", tmpl: `{{ .EventTime | date "15:04:05.000000" }}`, event: func(e *core.Event) {
			e.EventTime = metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC))
		}, want: "03:04:05.123456"},
		{name: "date zero time", tmpl: `[{{ .EventTime | date "15:04" }}]`, want: "[]"},
		{name: "date nil pointer", tmpl: `[{{ .DeletionTimestamp | date "15:04" }}]`, want: "[]"},
		{name: "date pointer", tmpl: `{{ .DeletionTimestamp | date "15:04" }}`, event: func(e *core.Event) {
			ts := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			e.DeletionTimestamp = &ts
		}, want: "03:04"},
		{name: "date time.Time", tmpl: `{{ .Observed | date "15:04:05.000" }}`, want: "18:53:15.180"},
		// default
		{name: "default used for empty string", tmpl: `{{ .Action | default "none" }}`, want: "none"},
		{name: "default not used", tmpl: `{{ .Reason | default "none" }}`, want: "BackOff"},
		{name: "default zero number", tmpl: `{{ .Count | default 1 }}`, event: func(e *core.Event) { e.Count = 0 }, want: "1"},
		{name: "default nil pointer", tmpl: `{{ .Series | default "single" }}`, want: "single"},
		{name: "default missing map key", tmpl: `{{ .Labels.team | default "unowned" }}`, want: "unowned"},
		{name: "default present map key", tmpl: `{{ .Labels.app | default "unowned" }}`, want: "checkout"},
		{name: "default zero time", tmpl: `{{ .EventTime | default "never" }}`, want: "never"},
		// upper, lower
		{name: "upper", tmpl: `{{ .Type | upper }}`, want: "WARNING"},
		{name: "lower", tmpl: `{{ lower .Reason }}`, want: "backoff"},
		{name: "upper non-ASCII", tmpl: `{{ .Message | upper }}`, want: "HÉLLO WÖRLD"},
		{name: "upper number", tmpl: `{{ .Count | upper }}`, want: "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(context.Background(), Options{Owner: "test", Inline: tt.tmpl, Location: tt.loc})
			if err != nil {
				t.Fatal(err)
			}
			e := helperEvent()
			if tt.event != nil {
				tt.event(e)
			}
			out, err := b.Render(e)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("%s = %q, want %q", tt.tmpl, out, tt.want)
			}
		})
	}
}

// TestHelperErrors: a helper given the wrong kind of value fails at New, on the sample event,
// with a message that says what to give it.
func TestHelperErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{`{{ .Reason | date "15:04" }}`, "date: string is not a time"},
		{`{{ truncate "x" .Message }}`, `executing "body" at <"x">: expected integer`},
		{`{{ toJson }}`, "wrong number of args for toJson"},
	}
	for _, tt := range tests {
		_, err := New(context.Background(), Options{Owner: "--sink #2 (slack)", Inline: tt.tmpl})
		if err == nil {
			t.Errorf("%s: accepted", tt.tmpl)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--sink #2 (slack)") {
			t.Errorf("%s: error %q lacks %q or the owner", tt.tmpl, err, tt.want)
		}
	}
}
