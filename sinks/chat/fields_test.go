package chat

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/core"
)

// A team Route's summary and metadata lead the message of every chat layout; events to --sink
// sinks carry none.
func TestFieldsCarryTheRoutesNote(t *testing.T) {
	e := ev("shop", "web-1", "BackOff", "Back-off restarting failed container", 1)
	if f := FieldsOf(e, "", nil); f.Message != "Back-off restarting failed container" {
		t.Fatalf("without a Route: %q", f.Message)
	}
	c := *e
	c.Route = core.RouteNote{Summary: "Checkout is crash-looping", Metadata: map[string]string{"runbook": "https://runbooks.example/checkout", "env": "prod"}}
	f := FieldsOf(&c, "", nil)
	want := "Checkout is crash-looping\nenv: prod\nrunbook: https://runbooks.example/checkout\nBack-off restarting failed container"
	if f.Message != want {
		t.Errorf("message %q, want %q", f.Message, want)
	}
	out := TextLayout{Style: PlainText}.Event(f)
	if !strings.Contains(out, "Checkout is crash-looping") || !strings.Contains(out, "env: prod") {
		t.Errorf("the layout dropped the note:\n%s", out)
	}
	if e.Route.Summary != "" || e.Message != "Back-off restarting failed container" {
		t.Error("FieldsOf changed the event")
	}
}

// A message noise control folded others into says how many.
func TestFieldsSayWhatWasFolded(t *testing.T) {
	e := ev("shop", "web-1", "BackOff", "Back-off restarting failed container", 1)
	c := *e
	c.Folded = 4
	if f := FieldsOf(&c, "", nil); !strings.HasSuffix(f.Message, "(+4 more like this, folded)") {
		t.Errorf("message %q", f.Message)
	}
}
