package cluster

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requires reads the require lines of a go.mod: module path to version.
func requires(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	block := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 2 && fields[0] == "require" && fields[1] == "(":
			block = true
		case block && len(fields) == 1 && fields[0] == ")":
			block = false
		case block && len(fields) == 2:
			out[fields[0]] = fields[1]
		case len(fields) == 3 && fields[0] == "require":
			out[fields[1]] = fields[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no require lines read", path)
	}
	return out
}

// The kube tools module (hack/tools/kube: the API server, kwok, helm, kustomize) must require
// every module it shares with herald at herald's version: then client-go, apimachinery, api
// and what they import compile to the same packages in both builds, and a fresh make test
// compiles them once (hack/test.sh starts the server builds after go vet for that reason).
// After changing a version in one go.mod, go get the same version in the other.
func TestKubeToolsShareHeraldsVersions(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	herald := requires(t, filepath.Join(root, "go.mod"))
	tools := requires(t, filepath.Join(root, "hack", "tools", "kube", "go.mod"))
	shared := 0
	for mod, v := range herald {
		tv, ok := tools[mod]
		if !ok {
			continue
		}
		shared++
		if tv != v {
			t.Errorf("%s: %s in go.mod, %s in hack/tools/kube/go.mod; run go get %s@<the newer> in the module with the older, then go mod tidy there", mod, v, tv, mod)
		}
	}
	if shared < 20 {
		t.Errorf("only %d modules found in both go.mod files; is the reader broken?", shared)
	}
}
