package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestHelmSchemaRefusesBadValues: values.schema.json refuses unknown keys and wrong types, so a
// typo fails the install with the key's name instead of being ignored (sink[0]= used to leave
// the default log sink running).
func TestHelmSchemaRefusesBadValues(t *testing.T) {
	for set, want := range map[string]string{
		"sink[0]=wechat:x":           "additional properties 'sink' not allowed",
		"image.tagg=v1":              "additional properties 'tagg' not allowed",
		"checkpoint.localfile=true":  "additional properties 'localfile' not allowed",
		"replicas=two":               "replicas",
		"image.pullPolicy=Sometimes": "pullPolicy",
		"sinks[0]=":                  "sinks",
		"service.port=0":             "port",
	} {
		_, err := run(helmBin(t), "template", "herald", chart, "--set", set)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("helm template --set %s: err = %v, want it to name %q", set, err, want)
		}
	}
	// What the README documents is accepted, and a parent chart's global: too.
	for _, set := range []string{"global.imageRegistry=x", "podAnnotations.a=b", "resources.limits.cpu=1",
		"podDisruptionBudget.minAvailable=50%", "affinity.nodeAffinity.x=y"} {
		if _, err := run(helmBin(t), "template", "herald", chart, "--set", set); err != nil {
			t.Errorf("helm template --set %s: %v", set, err)
		}
	}
}

// TestHelmTemplateMatrix renders a matrix of values and checks what each one changes.
func TestHelmTemplateMatrix(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, objs []*unstructured.Unstructured)
	}{
		{"extra volumes with the checkpoint file", []string{"--set-json", `extraVolumes=[{"name":"ca","configMap":{"name":"corp-ca"}}]`,
			"--set-json", `extraVolumeMounts=[{"name":"ca","mountPath":"/etc/herald/ca","readOnly":true}]`},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				if v, m := volumes(t, objs); !slices.Equal(v, []string{"state", "ca"}) || !slices.Equal(m, []string{"state:/var/run/herald", "ca:/etc/herald/ca"}) {
					t.Errorf("volumes %v mounts %v", v, m)
				}
			}},
		{"extra volumes without the checkpoint file", []string{"--set", "checkpoint.localFile=false", "--set-json", `extraVolumes=[{"name":"ca","configMap":{"name":"corp-ca"}}]`,
			"--set-json", `extraVolumeMounts=[{"name":"ca","mountPath":"/etc/herald/ca"}]`},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				if v, m := volumes(t, objs); !slices.Equal(v, []string{"ca"}) || !slices.Equal(m, []string{"ca:/etc/herald/ca"}) {
					t.Errorf("volumes %v mounts %v", v, m)
				}
			}},
		{"no checkpoint: no volume", []string{"--set", "checkpoint.enabled=false"},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				if v, m := volumes(t, objs); len(v)+len(m) != 0 {
					t.Errorf("volumes %v mounts %v, want none", v, m)
				}
			}},
		{"extraEnv after env", []string{"--set-json", `extraEnv=[{"name":"GOMEMLIMIT","value":"200MiB"}]`},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				env := fmt.Sprint(container(t, objs)["env"])
				if !strings.Contains(env, "GOMEMLIMIT") || !strings.Contains(env, "POD_NAMESPACE") {
					t.Errorf("env %s", env)
				}
			}},
		{"scheduling", []string{"--set", "priorityClassName=high,nodeSelector.disk=ssd", "--set-json", `tolerations=[{"key":"k","operator":"Exists"}]`,
			"--set", "podLabels.team=a,podAnnotations.note=b"},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				dep := find(t, objs, "Deployment")
				for path, want := range map[string]string{
					"spec.template.spec.priorityClassName":    "high",
					"spec.template.spec.nodeSelector.disk":    "ssd",
					"spec.template.metadata.labels.team":      "a",
					"spec.template.metadata.annotations.note": "b",
					"spec.template.spec.tolerations":          "[map[key:k operator:Exists]]",
				} {
					if got := field(dep, strings.Split(path, ".")...); got != want {
						t.Errorf("%s = %s, want %s", path, got, want)
					}
				}
			}},
		{"monitoring off by default", nil,
			func(t *testing.T, objs []*unstructured.Unstructured) {
				for _, kind := range []string{"PrometheusRule", "ServiceMonitor"} {
					if has(objs, kind) {
						t.Errorf("%s rendered by default", kind)
					}
				}
				for _, o := range objs {
					if o.GetKind() == "ConfigMap" {
						t.Errorf("ConfigMap %s rendered by default", o.GetName())
					}
				}
			}},
		{"dashboard in Grafana's namespace", []string{"--set", "grafanaDashboard.enabled=true,grafanaDashboard.namespace=monitoring"},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				cm := find(t, objs, "ConfigMap")
				if cm.GetNamespace() != "monitoring" || cm.GetLabels()["grafana_dashboard"] != "1" {
					t.Errorf("dashboard ConfigMap %s/%s labels %v", cm.GetNamespace(), cm.GetName(), cm.GetLabels())
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := helmTemplate(t, "herald", "herald", c.args...)
			c.check(t, objs)
			checkSecure(t, objs)
		})
	}
}

// TestHelmMonitoringFromDeploy: the chart's PrometheusRule has exactly the rules of
// deploy/prometheus/herald-rules.yaml, and its dashboard ConfigMap holds deploy/grafana/herald.json
// with the sidecar's label.
func TestHelmMonitoringFromDeploy(t *testing.T) {
	objs := helmTemplate(t, "h", "herald-helm", "-f", "testdata/values-all.yaml")
	rule := find(t, objs, "PrometheusRule")
	var file map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, "prometheus/herald-rules.yaml")), &file); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jsonRound(t, rule.Object["spec"]), jsonRound(t, file["spec"])) {
		t.Errorf("the chart's PrometheusRule spec differs from deploy/prometheus/herald-rules.yaml")
	}
	if rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v lack release=prometheus", rule.GetLabels())
	}
	var dash *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && strings.HasSuffix(o.GetName(), "-dashboard") {
			dash = o
		}
	}
	if dash == nil {
		t.Fatalf("no dashboard ConfigMap among %s", kinds(objs))
	}
	got, _, _ := unstructured.NestedString(dash.Object, "data", "herald.json")
	if strings.TrimSpace(got) != strings.TrimSpace(readFile(t, "grafana/herald.json")) {
		t.Errorf("the dashboard ConfigMap's herald.json differs from deploy/grafana/herald.json")
	}
	if dash.GetLabels()["grafana_dashboard"] != "1" || dash.GetAnnotations()["grafana_folder"] != "Kubernetes" {
		t.Errorf("dashboard labels %v annotations %v", dash.GetLabels(), dash.GetAnnotations())
	}
}

// TestChartValuesDocumented: every value in values.yaml is in values.schema.json with a
// description and in README.md's table (make chart-docs generates both; chart-docs-check
// fails when they are stale), and the schema validates both example value files.
func TestChartValuesDocumented(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, "helm/herald/values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "helm/herald/values.schema.json")), &schema); err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, "helm/herald/README.md")
	var walk func(prefix string, v map[string]any, s map[string]any)
	walk = func(prefix string, v map[string]any, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		if s["additionalProperties"] != false {
			t.Errorf("schema of %q accepts unknown keys", prefix)
		}
		for k, x := range v {
			path := prefix + k
			ps, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s is in values.yaml, not in values.schema.json", path)
				continue
			}
			if sub, ok := x.(map[string]any); ok && len(sub) > 0 && ps["properties"] != nil {
				walk(path+".", sub, ps)
				continue
			}
			if d, _ := ps["description"].(string); d == "" {
				t.Errorf("%s has no description in values.schema.json", path)
			}
			if !strings.Contains(readme, "| `"+path+"` |") {
				t.Errorf("%s is not in the chart's README.md", path)
			}
		}
	}
	walk("", values, schema)
	if _, err := os.Stat("helm/herald/templates/NOTES.txt"); err != nil {
		t.Error(err)
	}
}

func volumes(t *testing.T, objs []*unstructured.Unstructured) (vols, mounts []string) {
	t.Helper()
	vs, _, _ := unstructured.NestedSlice(find(t, objs, "Deployment").Object, "spec", "template", "spec", "volumes")
	for _, v := range vs {
		vols = append(vols, fmt.Sprint(v.(map[string]any)["name"]))
	}
	ms, _ := container(t, objs)["volumeMounts"].([]any)
	for _, m := range ms {
		mm := m.(map[string]any)
		mounts = append(mounts, fmt.Sprint(mm["name"], ":", mm["mountPath"]))
	}
	return vols, mounts
}

func jsonRound(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
