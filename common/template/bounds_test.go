package template

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
		// Recursion is bounded at run time (the time budget), not here.
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

// slowOnLongMessages loops len(.Message)² times, printing nothing, for a message over 1,000
// bytes: not at all for the sample event, for ever for a long message. Only the time budget
// stops it.
const slowOnLongMessages = `{"m":"{{ if gt (len .Message) 1000 }}{{ range len .Message }}{{ range len $.Message }}{{ end }}{{ end }}{{ end }}{{ .Reason }}"}`

// TestRenderTimeout: a render past Options.Timeout fails for that event, stops by itself (Render
// returns soon after the deadline, on the caller's goroutine), is counted, and the next event
// renders.
func TestRenderTimeout(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	const budget = 100 * time.Millisecond
	b, err := New(context.Background(), Options{Owner: "--sink #2 (webhook)", SinkID: "webhook#2", JSON: true,
		Inline: slowOnLongMessages, Timeout: budget, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	timeouts := func() float64 { return testutil.ToFloat64(m.failures.WithLabelValues("webhook#2", FailureTimeout)) }
	if n := testutil.CollectAndCount(reg, "herald_template_render_failures_total"); n != 3 {
		t.Errorf("%d failure series after New, want 3 at zero", n)
	}

	long := SampleEvent()
	long.Message = strings.Repeat("x", 1e5) // 10^10 iterations
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := b.Render(long)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Render did not return 30 s after its 100 ms budget")
	}
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Render = %v, want ErrTimeout", err)
	}
	for _, want := range []string{"--sink #2 (webhook)", "shop/", "(100ms, body_template_timeout)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if took > budget+2*time.Second {
		t.Errorf("Render returned %v after its %v budget", took-budget, budget)
	}
	if timeouts() != 1 {
		t.Errorf("timeouts counted: %v, want 1", timeouts())
	}
	if out, err := b.Render(SampleEvent()); err != nil || !strings.Contains(string(out), "BackOff") {
		t.Errorf("the next event: %s, %v", out, err)
	}
	if timeouts() != 1 {
		t.Errorf("timeouts counted: %v, want still 1", timeouts())
	}
}

// TestSlowSampleIsRefused: a template whose sample event takes longer than the budget (a call
// that doubles at each level) is refused when it loads, inline as from a ConfigMap.
func TestSlowSampleIsRefused(t *testing.T) {
	text := `{{ define "r" }}{{ if . }}{{ template "r" slice . 1 }}{{ template "r" slice . 1 }}{{ end }}{{ end }}{"m":"{{ template "r" .Message }}"}`
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := New(context.Background(), Options{Owner: "--sink #1 (webhook)", Inline: text, JSON: true, Timeout: 50 * time.Millisecond})
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("New did not return 30 s after its 50 ms budget")
	}
	if err == nil || !strings.Contains(err.Error(), "fails on the sample BackOff event: "+ErrTimeout.Error()+" (50ms, body_template_timeout)") {
		t.Fatalf("New = %v; want the sample render to run out of time", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("New took %v with a 50 ms budget", took)
	}
}

// TestWriteAfterDeadline: the writer text/template prints to fails once the deadline has passed,
// which stops a render that prints in a loop between two ticks.
func TestWriteAfterDeadline(t *testing.T) {
	var s renderState
	s.start(1<<20, time.Now().Add(time.Hour))
	for range 100 {
		if _, err := s.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	s.start(1<<20, time.Now().Add(-time.Millisecond))
	var err error
	for i := 0; i < 8 && err == nil; i++ {
		_, err = s.Write([]byte("x"))
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("8 writes after the deadline: %v, want ErrTimeout", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, ErrTimeout) {
		t.Fatalf("a write after a late one: %v, want ErrTimeout", err)
	}
	if _, err := s.Write(make([]byte, 2<<20)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a write past max: %v, want ErrTooLarge", err)
	}
}
