package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald.local/hack/release/modinfo"
)

// TestSBOMOfHerald builds herald and checks its SBOM names herald, the Go standard library and
// the modules it links, each with its version and licence, and that NOTICE lists them.
func TestSBOMOfHerald(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "herald")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/herald")
	build.Dir = "../../../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cache, err := modinfo.ModCache()
	if err != nil {
		t.Fatal(err)
	}
	b, err := modinfo.Read(bin, cache)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeCycloneDX(&buf, b, "v9.8.7", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var doc bom
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.BOMFormat != "CycloneDX" || doc.SpecVersion != "1.5" || !strings.HasPrefix(doc.SerialNumber, "urn:uuid:") {
		t.Errorf("header: %s %s %s", doc.BOMFormat, doc.SpecVersion, doc.SerialNumber)
	}
	if c := doc.Metadata.Component; c.Name != "github.com/heraldproject/herald" || c.Version != "v9.8.7" || c.PURL != "pkg:golang/github.com/heraldproject/herald@v9.8.7" {
		t.Errorf("main component %+v", c)
	}
	want := map[string]string{"k8s.io/client-go": "Apache-2.0", "github.com/go-sql-driver/mysql": "MPL-2.0",
		"github.com/IBM/sarama": "MIT", "golang.org/x/net": "BSD-3-Clause", "stdlib": "BSD-3-Clause"}
	for _, c := range doc.Components {
		if id, ok := want[c.Name]; ok {
			if len(c.Licenses) != 1 || c.Licenses[0].License.ID != id || c.Version == "" || !strings.HasPrefix(c.PURL, "pkg:golang/"+c.Name+"@") {
				t.Errorf("component %s: %+v, want licence %s", c.Name, c, id)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("components lack %v", want)
	}
	if len(doc.Dependencies) != 1 || len(doc.Dependencies[0].DependsOn) != len(doc.Components) {
		t.Errorf("dependencies: want the main component depending on all %d components", len(doc.Components))
	}
	// The same binary gives the same SBOM.
	var again bytes.Buffer
	_ = writeCycloneDX(&again, b, "v9.8.7", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two SBOMs of one binary differ")
	}

	var notice bytes.Buffer
	if err := writeNotice(&notice, b); err != nil {
		t.Fatal(err)
	}
	for _, d := range b.Deps {
		if !strings.Contains(notice.String(), d.Path+"@"+d.Version) {
			t.Errorf("NOTICE lacks %s@%s", d.Path, d.Version)
		}
	}
	if !strings.Contains(notice.String(), "Prometheus instrumentation library for Go applications") {
		t.Error("NOTICE lacks client_golang's NOTICE text (Apache-2.0 §4(d))")
	}
}

func TestClassify(t *testing.T) {
	for file, want := range map[string]string{
		"../../../../LICENSE":                "Apache-2.0",
		"/usr/share/common-licenses/MPL-2.0": "MPL-2.0",
		"/usr/share/common-licenses/BSD":     "BSD-3-Clause",
		"/usr/share/common-licenses/GPL-3":   "",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := modinfo.Classify(b); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}
