package all_test

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks/sinktest"
)

func TestPlacesCoverEverySink(t *testing.T) {
	for _, m := range sinktest.MissingPlaces() {
		t.Error(m)
	}
}

// TestNoSecretLeaks puts every secret shape in every secret place of every sink, written
// literally and as ${ENV}, and checks that no fragment of it appears in any output herald makes
// of that --sink value: the build error, the warnings, the redacted form and the checkpoint key,
// the preview herald check prints, the export errors, every log line at -v=10, and the requests
// that reach another host after a redirect. A panic fails too.
func TestNoSecretLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("the leak test builds and exports about 2,000 sinks; run without -short")
	}
	if err := flag.Set("v", "10"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("v", "0")
	rec := sinktest.NewReceivers()
	defer rec.Close()

	shapes := sinktest.Shapes()
	places := sinktest.Places()
	cases, leaks, panics := 0, 0, 0
	perPlace := map[string]int{}
	var report []string
	for _, p := range places {
		for _, s := range shapes {
			for _, mode := range []string{"literal", "${ENV}"} {
				secret := s.Value
				if mode == "${ENV}" {
					t.Setenv(sinktest.EnvVar, s.Value)
					secret = sinktest.Ref
				}
				value := p.Sink(sinktest.Host(p, rec), secret)
				out := sinktest.Run(value, rec)
				cases++
				if mode == "literal" && sinktest.CutAtAmpersand(p, s.Value) {
					// Written literally, a '&' ends the parameter (as in kube-eventer): herald
					// reads the part before it as the secret and sends the rest to the sink's
					// own receiver as a parameter, which this receiver quotes back in its 400.
					// Every output but that echo must hold no part of it, and a warning must
					// say how to write '&'.
					delete(out, "export error")
					said := out["warnings"] + out["build error"] + out["log"]
					if !strings.Contains(said, "%26") && !strings.Contains(said, "%23") {
						t.Errorf("%s, shape %q: no warning says to write '&' as %%26 (or '#', which cut it first, as %%23)", p, s.Name)
					}
				}
				fs := sinktest.Check(out, s.Value)
				if len(fs) == 0 {
					continue
				}
				if out["panic"] != "" {
					panics++
				}
				if len(fs) > 1 || fs[0].Output != "panic" || fs[0].Fragment != "" {
					leaks++
				}
				perPlace[p.String()]++
				if perPlace[p.String()] <= 2 {
					for _, f := range fs {
						report = append(report, fmt.Sprintf("%s, shape %q, %s: %s holds %q: %s", p, s.Name, mode, f.Output, f.Fragment, f.Excerpt))
					}
				}
			}
		}
	}
	t.Logf("%d secret shapes x %d places x 2 forms = %d cases: %d leak, %d panic", len(shapes), len(places), cases, leaks, panics)
	if len(report) > 0 {
		var names []string
		for name, n := range perPlace {
			names = append(names, fmt.Sprintf("%s: %d", name, n))
		}
		sort.Strings(names)
		t.Errorf("secrets leak (cases per place: %s); the first of each place:\n%s", strings.Join(names, "; "), strings.Join(report, "\n"))
	}
}
