package loki_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/sinktest"
)

// Places are the loki sink's secret places, in sinktest's form: the lines sinktest.Places needs
// for TestNoSecretLeaks (sinks/all) to cover this sink.
func Places() []sinktest.Place {
	place := func(where, param, format string) sinktest.Place {
		return sinktest.Place{Scheme: "loki", Where: where, Param: param, Local: true, Sink: func(host, secret string) string {
			return strings.NewReplacer("HOST", host, "SECRET", secret).Replace(format)
		}}
	}
	return []sinktest.Place{
		place("parameter token", "token", "loki:http://HOST?tenant=team-a&token=SECRET&level=Normal"),
		place("userinfo password", "", "loki:http://12345:SECRET@HOST?level=Normal"),
		place("header X-Api-Key", "header", "loki:http://HOST?header=X-Api-Key=SECRET&level=Normal"),
		place("header Authorization", "header", "loki:http://HOST?level=Normal&header=Authorization=Basic SECRET"),
	}
}

// TestNoSecretLeaks is sinks/all's leak test for this sink's places alone: every secret shape,
// written literally and as ${ENV}, appears in no output herald makes of the --sink value (build
// error, warnings, redacted form, checkpoint key, preview, export errors, every log line at
// -v=10, requests that reach another host after a redirect).
func TestNoSecretLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and exports a few hundred sinks")
	}
	if err := flag.Set("v", "10"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("v", "0")
	rec := sinktest.NewReceivers()
	defer rec.Close()
	cases := 0
	for _, p := range Places() {
		for _, s := range sinktest.Shapes() {
			for _, mode := range []string{"literal", "${ENV}"} {
				secret := s.Value
				if mode == "${ENV}" {
					t.Setenv(sinktest.EnvVar, s.Value)
					secret = sinktest.Ref
				}
				out := sinktest.Run(p.Sink(sinktest.Host(p, rec), secret), rec)
				cases++
				if mode == "literal" && sinktest.CutAtAmpersand(p, s.Value) {
					// Cut at '&': the rest goes to the receiver as a parameter, which it quotes
					// back in its 400; a warning must say how to write '&'.
					delete(out, "export error")
					said := out["warnings"] + out["build error"] + out["log"]
					if !strings.Contains(said, "%26") && !strings.Contains(said, "%23") {
						t.Errorf("%s, shape %q: no warning says to write '&' as %%26", p, s.Name)
					}
				}
				for _, f := range sinktest.Check(out, s.Value) {
					t.Errorf("%s, shape %q, %s: %s holds %q: %s", p, s.Name, mode, f.Output, f.Fragment, f.Excerpt)
				}
			}
		}
	}
	t.Logf("%d cases", cases)
}
