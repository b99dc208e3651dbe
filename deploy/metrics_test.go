package deploy_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var metricName = regexp.MustCompile(`\bherald_[a-zA-Z0-9_]+`)

// exported reads the metrics herald registers from its Go sources: every `Name: "herald_..."`
// in a prometheus *Opts literal under core/, sources/, common/, cmd/ and routes/ (tests excluded). The
// value is true for histograms, whose series add _bucket, _sum and _count.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, dir := range []string{"../core", "../sources", "../common", "../cmd", "../routes"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				typ := ""
				if sel, ok := lit.Type.(*ast.SelectorExpr); ok {
					typ = sel.Sel.Name
				}
				for _, e := range lit.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					val, ok2 := kv.Value.(*ast.BasicLit)
					if !ok || !ok2 || key.Name != "Name" || val.Kind != token.STRING {
						continue
					}
					if s, err := strconv.Unquote(val.Value); err == nil && strings.HasPrefix(s, "herald_") {
						names[s] = names[s] || typ == "HistogramOpts"
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metrics in the Go sources: %v", len(names), names)
	}
	return names
}

// documented reads the metric names of docs/operations.md's metric table.
func documented(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| `herald_") {
			cell := strings.Split(line, "|")[1]
			for _, n := range metricName.FindAllString(cell, -1) {
				names[n] = true
			}
		}
	}
	return names
}

// unknown returns the queried names herald does not export (and document): histograms may be
// queried with _bucket, _sum or _count.
func unknown(queried []string, code, docs map[string]bool) []string {
	var bad []string
	for _, q := range queried {
		base := q
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(q, suffix); ok && code[b] {
				base = b
			}
		}
		if _, inCode := code[base]; !inCode || !docs[base] {
			bad = append(bad, q)
		}
	}
	return bad
}

// dashboardQueries returns every PromQL expression and variable query of the dashboard.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("grafana/herald.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Type  string
				Query any
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("grafana/herald.json: %v", err)
	}
	var qs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			qs = append(qs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			b, _ := json.Marshal(v.Query)
			qs = append(qs, string(b))
		}
	}
	return qs
}

// ruleQueries returns every alert's expression.
func ruleQueries(t *testing.T) []string {
	t.Helper()
	var qs []string
	for _, o := range readManifests(t, "prometheus/*.yaml") {
		groups, _, _ := unstructured.NestedSlice(o.Object, "spec", "groups")
		for _, g := range groups {
			rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
			for _, r := range rules {
				rule := r.(map[string]any)
				expr, _ := rule["expr"].(string)
				if rule["alert"] == nil || expr == "" {
					t.Errorf("rule %v: want alert and expr", rule)
				}
				qs = append(qs, expr)
			}
		}
	}
	return qs
}

func names(queries []string) []string {
	set := map[string]bool{}
	for _, q := range queries {
		for _, n := range metricName.FindAllString(q, -1) {
			set[n] = true
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestDashboardAndRulesQueryExportedMetrics(t *testing.T) {
	code, docs := exported(t), documented(t)
	for name, queries := range map[string][]string{
		"grafana/herald.json":          dashboardQueries(t),
		"prometheus/herald-rules.yaml": ruleQueries(t),
	} {
		queried := names(queries)
		if len(queried) < 5 {
			t.Errorf("%s queries only %v", name, queried)
		}
		for _, q := range unknown(queried, code, docs) {
			_, inCode := code[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(q, "_bucket"), "_sum"), "_count")]
			t.Errorf("%s queries %s, which herald does not export (in the Go sources: %v; in docs/operations.md's table: %v)", name, q, inCode, docs[q])
		}
	}
}

// TestEveryExportedMetricIsDocumented: the table in docs/operations.md lists exactly what the
// code registers.
func TestEveryExportedMetricIsDocumented(t *testing.T) {
	code, docs := exported(t), documented(t)
	for n := range code {
		if !docs[n] {
			t.Errorf("%s is registered in the code but not in docs/operations.md's metric table", n)
		}
	}
	for n := range docs {
		if _, ok := code[n]; !ok {
			t.Errorf("docs/operations.md lists %s, which no Go source registers", n)
		}
	}
}

// The checker itself fails on a name herald does not export, and accepts a histogram's series.
func TestUnknownMetricIsCaught(t *testing.T) {
	code, docs := exported(t), documented(t)
	queried := names([]string{
		`sum(rate(herald_sink_events_totl[5m]))`,
		`histogram_quantile(0.99, rate(herald_delivery_latency_seconds_bucket[5m]))`,
		`rate(herald_sink_retries_total_bucket[5m])`,
	})
	bad := unknown(queried, code, docs)
	want := []string{"herald_sink_events_totl", "herald_sink_retries_total_bucket"}
	if !slices.Equal(bad, want) {
		t.Errorf("unknown(%v) = %v, want %v", queried, bad, want)
	}
}
