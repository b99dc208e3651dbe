package otlp_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/sinktest"
)

// places are where an otlp --sink value holds a secret, in sinktest.Place's form (the same
// entries belong in sinktest.Places, which sinks/all's TestNoSecretLeaks runs over every sink).
func places() []sinktest.Place {
	hostFirst := func(where, param, format string) sinktest.Place {
		return sinktest.Place{Scheme: "otlp", Where: where, Param: param, Local: true, Sink: func(host, secret string) string {
			return fmt.Sprintf(format, host, secret)
		}}
	}
	return []sinktest.Place{
		hostFirst("header Authorization", "header", "otlp:http://%s?level=Normal&header=Authorization=Bearer %s"),
		hostFirst("header X-Api-Key", "header", "otlp:http://%s/otlp?level=Normal&header=X-Api-Key=%s&header=Accept-Language=en"),
		hostFirst("userinfo password", "", "otlp:http://herald:%[2]s@%[1]s?level=Normal"),
	}
}

// TestNoSecretLeaks is sinks/all's leak test for this sink's places: every secret shape,
// written literally and as ${ENV}, must leave no fragment in the build error, the warnings, the
// redacted value, the checkpoint key, the preview, the export errors (a redirect to another host,
// then a 400 that quotes the whole request back), the log at -v=10, or a request to another host.
func TestNoSecretLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and exports about 130 sinks")
	}
	if err := flag.Set("v", "10"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("v", "0")
	rec := sinktest.NewReceivers()
	defer rec.Close()
	cases := 0
	for _, p := range places() {
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
					// Cut at '&' as kube-eventer cut it; the rest goes to the receiver, which
					// quotes it back. Everything else must hold none of it, and say how to write '&'.
					delete(out, "export error")
					said := out["warnings"] + out["build error"] + out["log"]
					if !strings.Contains(said, "%26") && !strings.Contains(said, "%23") {
						t.Errorf("%s, shape %q: nothing says to write '&' as %%26", p, s.Name)
					}
				}
				for _, f := range sinktest.Check(out, s.Value) {
					t.Errorf("%s, shape %q, %s: %s holds %q: %s", p, s.Name, mode, f.Output, f.Fragment, f.Excerpt)
				}
			}
		}
	}
	if cases == 0 {
		t.Fatal("no case ran")
	}
}
