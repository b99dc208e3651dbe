package template

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// TestRenderFillsLastTimestampWithoutMutating: an event with no lastTimestamp renders with its
// eventTime, else with Now, as kube-eventer does, and the shared event is left as it was.
func TestRenderFillsLastTimestampWithoutMutating(t *testing.T) {
	now := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		event func(*core.Event)
		want  string
	}{
		{"lastTimestamp", func(*core.Event) {}, "2026-11-23 18:53:15 +0000 UTC"},
		{"eventTime", func(e *core.Event) {
			e.LastTimestamp = metav1.Time{}
			e.EventTime = metav1.NewMicroTime(time.Date(2026, 11, 23, 18, 0, 0, 5000, time.UTC))
		}, "2026-11-23 18:00:00.000005 +0000 UTC"},
		{"neither", func(e *core.Event) { e.LastTimestamp = metav1.Time{} }, "2027-01-02 03:04:05 +0000 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := SampleEvent()
			tt.event(e)
			inner := e.Event
			before := e.DeepCopy()
			out, err := b.Render(e)
			if err != nil {
				t.Fatal(err)
			}
			doc := decodeJSON(t, "render", out).(map[string]any)
			if doc["EventTime"] != tt.want {
				t.Errorf("EventTime = %q, want %q", doc["EventTime"], tt.want)
			}
			if e.Event != inner || !reflect.DeepEqual(e.Event, before) {
				t.Error("Render changed the event")
			}
		})
	}
}

// TestRenderErrorIsPerEvent: an event the template cannot render is an error naming that
// event; the next event renders.
func TestRenderErrorIsPerEvent(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "--sink #3 (webhook)", JSON: true,
		Inline: `{"r":"{{ .Reason }}"{{ if eq .Reason "Evicted" }},"c":"{{ .Restart.Container }}"{{ end }}}`})
	if err != nil {
		t.Fatal(err)
	}
	bad := SampleEvent()
	bad.Reason, bad.Name = "Evicted", "web-0.1"
	_, err = b.Render(bad)
	if err == nil {
		t.Fatal("want an error for an event without .Restart")
	}
	for _, want := range []string{"--sink #3 (webhook)", "shop/web-0.1 (Evicted)", "nil pointer evaluating *core.PodRestart.Container"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if out, err := b.Render(SampleEvent()); err != nil || string(out) != `{"r":"BackOff"}` {
		t.Errorf("next event: %s, %v", out, err)
	}
}

func TestRenderSizeCap(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: KubeEventerDefault, JSON: true, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	e := SampleEvent()
	e.Message = strings.Repeat("a", 5000)
	_, err = b.Render(e)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	if !strings.Contains(err.Error(), "truncate") {
		t.Errorf("error does not say how to fix it: %v", err)
	}
	// Escaping counts: 2000 newlines are 2000 bytes of message but 4000 of body.
	e.Message = strings.Repeat("\n", 2000)
	if _, err := b.Render(e); !errors.Is(err, ErrTooLarge) {
		t.Errorf("escaped body over the cap: got %v", err)
	}
	e.Message = strings.Repeat("a", 3000)
	if _, err := b.Render(e); err != nil {
		t.Errorf("a body under the cap: %v", err)
	}
}

// TestDefaultSizeCap: without MaxBytes, bodies are capped at DefaultMaxBytes.
func TestDefaultSizeCap(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: `{{ .Message }}`})
	if err != nil {
		t.Fatal(err)
	}
	e := SampleEvent()
	e.Message = strings.Repeat("x", DefaultMaxBytes)
	if out, err := b.Render(e); err != nil || len(out) != DefaultMaxBytes {
		t.Errorf("a body of exactly DefaultMaxBytes: %d bytes, %v", len(out), err)
	}
	e.Message += "x"
	if _, err := b.Render(e); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over: %v", err)
	}
}

// TestRenderNeverPanics: misuse (a zero Body, a nil event) is an error, not a panic.
func TestRenderNeverPanics(t *testing.T) {
	if _, err := new(Body).Render(SampleEvent()); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("zero Body: %v", err)
	}
	b, err := New(context.Background(), Options{Owner: "test", Inline: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Render(nil); err == nil {
		t.Error("nil event rendered")
	}
	if _, err := b.Render(&core.Event{}); err == nil {
		t.Error("event without a v1.Event rendered")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"nothing", Options{}, []string{"--sink #1 (webhook)", "no body template", "body_template or custom_body_configmap"}},
		{"parse", Options{Inline: `{{ .Reason `}, []string{"body_template does not parse", "fix the Go template syntax"}},
		{"unknown field", Options{Inline: `{{ .Resaon }}`}, []string{"can't evaluate field Resaon", ".Reason"}},
		{"restart without with", Options{Inline: `{{ .Restart.Container }}`}, []string{"{{ with .Restart }}"}},
		{"default body broken", Options{Default: `{"a": {{ .Reason }}}`, JSON: true}, []string{"the default body template is sent as JSON", "line 1, column 7"}},
		{"JSON line shown", Options{Inline: "{\n  \"m\": \"{{ .Message }}\",\n  \"n\": {{ .Reason }}\n}", JSON: true},
			[]string{"sample BackOff event renders invalid JSON", "at line 3, column 8", "     3 |   \"n\": BackOff\n" + strings.Repeat(" ", 16) + "^", "fix: keep every"}},
		{"double quoting", Options{Inline: `{"m": "{{ quote .Message }}"}`, JSON: true}, []string{"never put toJson or quote inside"}},
		{"empty JSON body", Options{Inline: `{{/* nothing */}}`, JSON: true}, []string{"unexpected end of JSON input"}},
		{"no client for a ConfigMap", Options{ConfigMapName: "body"}, []string{"custom_body_configmap=body needs a Kubernetes client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Owner = "--sink #1 (webhook)"
			_, err := New(context.Background(), tt.o)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestInlineWinsOverDefault and the ConfigMap wins over both (see configmap_test.go).
func TestInlineWinsOverDefault(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", Inline: "inline", Default: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := b.Render(SampleEvent()); string(out) != "inline" || b.Source() != "body_template" {
		t.Errorf("got %q from %s", out, b.Source())
	}
}

func TestSampleEvents(t *testing.T) {
	a, b := SampleEvent(), SampleEvent()
	if a == b || a.Event == b.Event {
		t.Error("SampleEvent returns a shared event")
	}
	if a.Type != "Warning" || a.Reason != "BackOff" || a.InvolvedObject.Kind != "Pod" || a.Restart != nil {
		t.Errorf("not a BackOff Warning on a Pod: %+v", a)
	}
	for _, s := range []string{`"`, "\n", "容器"} {
		if !strings.Contains(a.Message, s) {
			t.Errorf("sample message lacks %q", s)
		}
	}
	r := SampleRestartEvent()
	if r.Restart == nil || r.Restart.LastState == nil || r.Restart.LastState.Reason != "OOMKilled" {
		t.Errorf("restart sample: %+v", r.Restart)
	}
}

// TestTemplateCallWithoutArgument: {{ template "name" }} (no pipeline) made the load-time bounds
// check dereference a nil pipeline, a panic that stopped herald at start-up.
func TestTemplateCallWithoutArgument(t *testing.T) {
	b, err := New(context.Background(), Options{Owner: "test", JSON: true, Inline: `{{ define "m" }}x{{ end }}{"m":"{{ template "m" }}"}`})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := b.Render(SampleEvent()); err != nil || string(out) != `{"m":"x"}` {
		t.Errorf("got %s, %v", out, err)
	}
}
