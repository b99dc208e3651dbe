package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestAlertRules runs the rule unit tests of deploy/prometheus/tests/herald-rules.test.yaml with
// Prometheus's own promtool (promtool test rules): each alert fires when and as the tests say,
// and a healthy or quiet sink fires nothing. promtool reads plain rule files, so the
// PrometheusRule's spec.groups are written to one first.
func TestAlertRules(t *testing.T) {
	promtool := tool(t, "HERALD_PROMTOOL", "promtool.sh")
	var rule struct {
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	raw, err := os.ReadFile("prometheus/herald-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rule); err != nil || len(rule.Spec.Groups) == 0 {
		t.Fatalf("prometheus/herald-rules.yaml: %v (%d groups)", err, len(rule.Spec.Groups))
	}
	plain, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "herald-rules.rules.yaml"), plain, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("prometheus/tests/herald-rules.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testFile := filepath.Join(dir, "herald-rules.test.yaml")
	if err := os.WriteFile(testFile, tests, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(promtool, "check", "rules", filepath.Join(dir, "herald-rules.rules.yaml")); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	out, err := run(promtool, "test", "rules", testFile)
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
	// Every alert is exercised by at least one test.
	for _, g := range rule.Spec.Groups {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			name, _ := r.(map[string]any)["alert"].(string)
			if name != "" && !strings.Contains(string(tests), "alertname: "+name) {
				t.Errorf("alert %s has no unit test in prometheus/tests/herald-rules.test.yaml", name)
			}
		}
	}
}
