package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// TestSinksReferenceNamesEveryParameter checks that the generated reference lists every
// registered sink and every parameter its Definition declares.
func TestSinksReferenceNamesEveryParameter(t *testing.T) {
	for _, format := range []string{"markdown", "text"} {
		var out, errb bytes.Buffer
		if rc := runSinks([]string{"--format=" + format}, &out, &errb); rc != 0 {
			t.Fatalf("herald sinks --format=%s: exit %d: %s", format, rc, errb.String())
		}
		if len(sinks.All()) == 0 {
			t.Fatal("no sink registered")
		}
		for _, d := range sinks.All() {
			if !strings.Contains(out.String(), d.Example) {
				t.Errorf("%s: example of %s missing", format, d.Scheme)
			}
			for _, p := range append(d.Params, sinks.CommonParams...) {
				if !strings.Contains(out.String(), p.Name) {
					t.Errorf("%s: parameter %s of %s missing", format, p.Name, d.Scheme)
				}
			}
		}
	}
	var out, errb bytes.Buffer
	if rc := runSinks([]string{"nosuchsink"}, &out, &errb); rc == 0 || !strings.Contains(errb.String(), "no sink") {
		t.Errorf("unknown scheme: exit %d, stderr %q", rc, errb.String())
	}
}
