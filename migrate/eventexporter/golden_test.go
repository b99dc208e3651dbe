package eventexporter

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/test/golden"
)

// goldenDirs hold configs with the reviewed output of herald migrate (NAME.yaml, NAME.golden):
// this package's, one of which maps every receiver field herald migrate knows, and the published
// configs cmd/herald tests the command with.
var goldenDirs = []string{"testdata", "../../cmd/herald/testdata/event-exporter"}

// emits are the sink types herald migrate writes (receiverSink); the goldens cover each.
var emits = []string{"elasticsearch", "file", "kafka", "log", "loki", "slack", "syslog", "teams", "webhook"}

// run is what herald migrate event-exporter prints for the config at path, as cmd/herald's
// goldens hold it; m is nil when the config cannot be read (exit 2).
func run(t *testing.T, path string) (m *Migration, out string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err = Read(data, path)
	if err != nil {
		return nil, fmt.Sprintf("exit 2\n--- stdout\n--- stderr\nherald migrate: %s: %v\n", path, err)
	}
	m.Verify()
	var stdout, stderr bytes.Buffer
	m.WriteArgs(&stdout)
	rc := m.Report(&stderr)
	return m, fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", rc, stdout.String(), stderr.String())
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs in testdata: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, got := run(t, path)
			// HERALD_UPDATE_GOLDEN=1 rewrites the golden (test/golden).
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden", got, path)
			if strings.Contains(got, "SECRET-VALUE") {
				t.Errorf("a secret value of %s was printed:\n%s", path, got)
			}
		})
	}
}

// Every parameter herald migrate writes in the golden outputs is one the sink's Definition
// declares (by its name or an alias), for every sink type it writes: the check that the sinkSpec
// makes as it writes each one, made again on the printed text.
func TestGoldenParametersAreDeclared(t *testing.T) {
	seen := map[string]int{}
	for _, dir := range goldenDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.golden"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no goldens in %s: %v", dir, err)
		}
		for _, golden := range files {
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := run(t, strings.TrimSuffix(golden, ".golden")+".yaml")
			if m == nil {
				continue
			}
			for _, s := range m.sinks {
				value := s.value(false)
				if !strings.Contains(string(want), shellQuote("--sink="+value)) {
					t.Errorf("%s does not hold --sink=%s; update the golden", golden, value)
				}
				d, ok := sinks.Lookup(s.scheme)
				if !ok {
					t.Errorf("%s: herald has no %s sink", golden, s.scheme)
					continue
				}
				seen[s.scheme]++
				// The parameters follow the target, which may hold the receiver's own query.
				query := strings.TrimPrefix(value, s.scheme+":"+s.target)
				if query == "" {
					continue
				}
				for _, kv := range strings.Split(query[1:], "&") {
					name, _, _ := strings.Cut(kv, "=")
					if !declares(d, name) {
						t.Errorf("%s: --sink=%s: the %s sink does not declare parameter %q", golden, value, s.scheme, name)
					}
				}
			}
		}
	}
	var got []string
	for scheme := range seen {
		got = append(got, scheme)
	}
	sort.Strings(got)
	if !slices.Equal(got, emits) {
		t.Errorf("the goldens have sinks of types %v, want every type herald migrate writes, %v", got, emits)
	}
}

func declares(d sinks.Definition, name string) bool {
	for _, p := range append(sinks.CommonParamsFor(d), d.Params...) {
		if p.Name == name || slices.Contains(p.Aliases, name) {
			return true
		}
	}
	return false
}
