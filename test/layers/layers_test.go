// Package layers checks that herald's packages import only downwards: core imports nothing of
// herald's; common imports core and common; sinks and sources import core, common and their own
// tree, never each other; migrate (the migration tools) reads the sink definitions; routes (team
// routes) builds sinks and adds them to the pipeline; cmd wires everything. Test-only files are
// not checked.
package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/heraldproject/herald/"

// allowed says which top-level trees a tree's production code may import.
var allowed = map[string][]string{
	"core":    {"core"},
	"common":  {"core", "common"},
	"sinks":   {"core", "common", "sinks"},
	"sources": {"core", "common", "sources"},
	"migrate": {"core", "common", "sinks", "migrate"},
	"routes":  {"core", "common", "sinks", "routes"},
	"cmd":     {"core", "common", "sinks", "sources", "migrate", "routes", "cmd"},
	"test":    {"core", "common", "sinks", "sources", "migrate", "routes", "cmd", "test"},
	"deploy":  {"core", "common", "deploy"},
}

func TestImportsRunDownTheLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "_output", "testdata", "node_modules":
				return filepath.SkipDir
			}
			if rel == filepath.Join("hack", "release") { // a module of its own
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		tree := strings.Split(filepath.ToSlash(rel), "/")[0]
		ok, known := allowed[tree]
		if !known {
			return nil // hack/ tools and the like
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			to := strings.Split(strings.TrimPrefix(p, module), "/")[0]
			if !contains(ok, to) {
				t.Errorf("%s imports %s: %s may import only %v", rel, p, tree, ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked %d files; the walk missed the repository", checked)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the module root: %v", root, err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
