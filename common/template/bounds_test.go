package template

import (
	"context"
	"strings"
	"testing"
)

// TestRangeBoundsAtLoad: a template whose ranges over numbers would hold a CPU is refused when it
// loads, naming the line, whatever the way it spells the loop; one within the bounds loads.
func TestRangeBoundsAtLoad(t *testing.T) {
	count := "herald allows at most 10000 iterations over a number"
	iterations := "herald allows at most 100,000 in one render (MaxRangeIterations)"
	for _, tc := range []struct{ name, text, want string }{
		{"one huge range", `{{ range 100000000000 }}{{ end }}`, count},
		{"through a variable", `{{ $n := 20000 }}{{ range $n }}x{{ end }}`, count},
		{"nested ranges multiply", `{{ range 10000 }}{{ range 10000 }}{{ range 10000 }}{{ end }}{{ end }}{{ end }}`, iterations},
		{"nested through a variable", `{{ $n := 1000 }}{{ range $i := $n }}{{ range $n }}{{ end }}{{ end }}`, iterations},
		{"ranges in a row add up", strings.Repeat(`{{ range 10000 }}{{ end }}`, 11), iterations},
		{"a template call counts its ranges", `{{ define "inner" }}{{ range 1000 }}{{ end }}{{ end }}{{ range 1000 }}{{ template "inner" }}{{ end }}`, iterations},
		{"inside if and else", `{{ if .Count }}{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}{{ else }}{{ end }}`, iterations},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{Owner: "--sink #1 (webhook)", Inline: tc.text})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "body:1:") {
				t.Fatalf("New = %v; want an error saying %q at the line", err, tc.want)
			}
		})
	}
	for _, text := range []string{
		`{{ range 10000 }}{{ end }}`,
		`{{ range 100 }}{{ range 100 }}.{{ end }}{{ end }}`,
		strings.Repeat(`{{ range 10000 }}{{ end }}`, 9),
		// Recursion is not counted here: its depth is known only when it runs.
		`{{ define "r" }}{{ range 10 }}{{ end }}{{ if . }}{{ template "r" slice . 1 }}{{ end }}{{ end }}{{ template "r" "abc" }}`,
		`{{ range .Labels }}{{ range $.Annotations }}{{ end }}{{ end }}`,
	} {
		b, err := New(context.Background(), Options{Owner: "test", Inline: text})
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if _, err := b.Render(SampleEvent()); err != nil {
			t.Errorf("%s: %v", text, err)
		}
	}
}
