package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/test/cluster"
)

var (
	crdGVR       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	receiversGVR = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "receivers"}
	routesGVR    = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "routes"}
)

// example reads the example object of kind from deploy/crds/examples.
func example(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	objs := readManifests(t, exampleFiles[kind])
	if len(objs) != 1 || objs[0].GetKind() != kind {
		t.Fatalf("%s: want one %s, got %s", exampleFiles[kind], kind, kinds(objs))
	}
	return objs[0]
}

// TestCRDsOnAPIServer creates both CRDs on a real kube-apiserver, waits until they are
// Established, then creates the examples, reads them back unchanged, writes their status
// through the status subresource, checks kubectl's columns, and checks that invalid objects
// are refused with the field's name. Last, herald's ClusterRole from deploy/kubernetes lets its
// ServiceAccount do what the routes controller does, and no more.
func TestCRDsOnAPIServer(t *testing.T) {
	c := cluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Receiver", "Route"} {
		if _, err := dyn.Resource(crdGVR).Create(ctx, crd(t, kind), metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Fatalf("create the %s CRD: %v", kind, err)
		}
	}
	for _, gvr := range []schema.GroupVersionResource{receiversGVR, routesGVR} {
		waitServed(ctx, t, dyn, gvr)
	}
	const ns = "team-payments"
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	receivers, routes := dyn.Resource(receiversGVR).Namespace(ns), dyn.Resource(routesGVR).Namespace(ns)
	strict := metav1.CreateOptions{FieldValidation: "Strict"}

	for kind, r := range map[string]dynamic.ResourceInterface{"Receiver": receivers, "Route": routes} {
		t.Run(kind+" example round trip and status", func(t *testing.T) {
			ex := example(t, kind)
			if _, err := r.Create(ctx, ex, strict); err != nil {
				t.Fatalf("the example %s is refused: %v", exampleFiles[kind], err)
			}
			got, err := r.Get(ctx, ex.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Nothing pruned, nothing defaulted.
			if !sameJSON(got.Object["spec"], ex.Object["spec"]) {
				t.Errorf("spec read back:\n%v\nwant (as created):\n%v", got.Object["spec"], ex.Object["spec"])
			}
			if got.GetGeneration() != 1 {
				t.Errorf("generation %d after create, want 1", got.GetGeneration())
			}

			// herald reports through the status subresource; a spec change sent along is ignored.
			status := map[string]any{
				"observedGeneration": int64(1),
				"conditions": []any{map[string]any{
					"type": api.ConditionReady, "status": "True", "observedGeneration": int64(1),
					"lastTransitionTime": "2026-01-02T03:04:05Z", "reason": "Delivering", "message": "delivering to slack",
				}},
				"delivered": int64(3), "failed": int64(1), "dropped": int64(2),
			}
			withStatus := got.DeepCopy()
			withStatus.Object["status"] = status
			if kind == "Receiver" {
				withStatus.Object["spec"].(map[string]any)["sink"] = "log:"
			} else {
				withStatus.Object["spec"].(map[string]any)["summary"] = "changed through status"
			}
			if _, err := r.UpdateStatus(ctx, withStatus, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("update status: %v", err)
			}
			got, err = r.Get(ctx, ex.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(got.Object["status"], status) {
				t.Errorf("status read back:\n%v\nwant:\n%v", got.Object["status"], status)
			}
			if !sameJSON(got.Object["spec"], ex.Object["spec"]) || got.GetGeneration() != 1 {
				t.Errorf("a spec change through the status subresource was stored: generation %d, spec %v", got.GetGeneration(), got.Object["spec"])
			}
			// And the main resource ignores status.
			withSpec := got.DeepCopy()
			withSpec.Object["status"].(map[string]any)["delivered"] = int64(100)
			if kind == "Receiver" {
				withSpec.Object["spec"].(map[string]any)["template"] = "{{ .Message }}"
			} else {
				withSpec.Object["spec"].(map[string]any)["summary"] = "changed"
			}
			if _, err := r.Update(ctx, withSpec, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("update spec: %v", err)
			}
			got, err = r.Get(ctx, ex.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d, _, _ := unstructured.NestedInt64(got.Object, "status", "delivered"); d != 3 || got.GetGeneration() != 2 {
				t.Errorf("after an update of the main resource: status.delivered %d (want 3, unchanged), generation %d (want 2)", d, got.GetGeneration())
			}

			// A status the schema refuses.
			bad := got.DeepCopy()
			bad.Object["status"].(map[string]any)["conditions"].([]any)[0].(map[string]any)["status"] = "Maybe"
			bad.Object["status"].(map[string]any)["dropped"] = int64(-1)
			_, err = r.UpdateStatus(ctx, bad, metav1.UpdateOptions{})
			for _, want := range []string{`status.conditions[0].status: Unsupported value: "Maybe"`, "status.dropped"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("a status with condition status Maybe and dropped -1: err = %v, want it to name %s", err, want)
				}
			}
		})
	}

	// kubectl get's columns, from the server's Table.
	t.Run("printer columns", func(t *testing.T) {
		for _, tc := range []struct {
			resource, name string
			want           map[string]string
		}{
			{"receivers", "payments-slack", map[string]string{"Name": "payments-slack", "Ready": "True", "Reason": "Delivering", "Delivered": "3", "Failed": "1", "Dropped": "2", "Age": "*"}},
			{"routes", "payments-failures", map[string]string{"Name": "payments-failures", "Receivers": `["payments-slack"]`, "Ready": "True", "Reason": "Delivering", "Delivered": "3", "Age": "*"}},
		} {
			got := tableRow(ctx, t, c.Client(), ns, tc.resource, tc.name)
			if len(got) != len(tc.want) {
				t.Errorf("%s columns %v, want %v", tc.resource, got, tc.want)
			}
			for col, want := range tc.want {
				if v, ok := got[col]; !ok || want != "*" && v != want {
					t.Errorf("%s column %s = %q, want %q (all: %v)", tc.resource, col, v, want, got)
				}
			}
		}
	})

	t.Run("invalid objects are refused, naming the field", func(t *testing.T) {
		set := func(value any, path ...string) func(*unstructured.Unstructured) {
			return func(o *unstructured.Unstructured) {
				if err := unstructured.SetNestedField(o.Object, value, path...); err != nil {
					t.Fatal(err)
				}
			}
		}
		remove := func(path ...string) func(*unstructured.Unstructured) {
			return func(o *unstructured.Unstructured) { unstructured.RemoveNestedField(o.Object, path...) }
		}
		expr := func(e map[string]any) func(*unstructured.Unstructured) {
			return set(map[string]any{"matchExpressions": []any{e}}, "spec", "objectSelector")
		}
		for _, tc := range []struct {
			name, kind string
			change     func(*unstructured.Unstructured)
			want       []string
		}{
			{"Receiver without spec", "Receiver", remove("spec"), []string{"spec: Required value"}},
			{"Receiver without spec.sink", "Receiver", remove("spec", "sink"), []string{"spec.sink: Required value"}},
			{"Receiver with an empty sink", "Receiver", set("", "spec", "sink"), []string{"spec.sink", "at least 1 chars"}},
			{"Receiver with template and templateRef", "Receiver", func(o *unstructured.Unstructured) {
				set("{{ .Message }}", "spec", "template")(o)
				set(map[string]any{"name": "body"}, "spec", "templateRef")(o)
			}, []string{"spec.templateRef", "give template or templateRef, not both"}},
			{"Receiver with a secretRef without name", "Receiver", set(map[string]any{}, "spec", "secretRef"), []string{"spec.secretRef.name: Required value"}},
			{"Receiver with an unknown field", "Receiver", set("log:", "spec", "sinks"), []string{`unknown field "spec.sinks"`}},
			{"Route without receivers", "Route", remove("spec", "receivers"), []string{"spec.receivers: Required value"}},
			{"Route with receivers: []", "Route", set([]any{}, "spec", "receivers"), []string{"spec.receivers", "at least 1 items"}},
			{"Route with level: Info", "Route", set("Info", "spec", "level"), []string{`spec.level: Unsupported value: "Info"`, `"Warning", "Normal"`}},
			{"Route with groupWait: 5 minutes", "Route", set("5 minutes", "spec", "groupWait"), []string{`spec.groupWait: Invalid value: "5 minutes"`, "should match"}},
			{"Route with a negative repeatInterval", "Route", set("-1h", "spec", "repeatInterval"), []string{"spec.repeatInterval", "should match"}},
			{"Route with a groupInterval without unit", "Route", set("30", "spec", "groupInterval"), []string{"spec.groupInterval", "should match"}},
			{"Route with minCount: -1", "Route", set(int64(-1), "spec", "minCount"), []string{"spec.minCount", "greater than or equal to 0"}},
			{"Route with a number in metadata", "Route", set(map[string]any{"owner": int64(7)}, "spec", "metadata"), []string{"spec.metadata.owner", "string"}},
			{"Route with an empty kind", "Route", set([]any{""}, "spec", "kinds"), []string{"spec.kinds[0]"}},
			{"Route with an event source without kind", "Route", set([]any{map[string]any{"name": "checkout"}}, "spec", "eventSources"), []string{"spec.eventSources[0].kind: Required value"}},
			{"Route with selector operator Equals", "Route", expr(map[string]any{"key": "tier", "operator": "Equals", "values": []any{"api"}}),
				[]string{`spec.objectSelector.matchExpressions[0].operator: Unsupported value: "Equals"`}},
			{"Route with selector In without values", "Route", expr(map[string]any{"key": "tier", "operator": "In"}),
				[]string{"spec.objectSelector.matchExpressions[0].values", "values must be given with In and NotIn"}},
			{"Route with selector Exists with values", "Route", expr(map[string]any{"key": "tier", "operator": "Exists", "values": []any{"api"}}),
				[]string{"spec.objectSelector.matchExpressions[0].values", "left out with Exists and DoesNotExist"}},
		} {
			o := example(t, tc.kind)
			o.SetName("bad")
			tc.change(o)
			r := map[string]dynamic.ResourceInterface{"Receiver": receivers, "Route": routes}[tc.kind]
			_, err := r.Create(ctx, o, metav1.CreateOptions{FieldValidation: "Strict", DryRun: []string{metav1.DryRunAll}})
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: err = %v, want it to say %q", tc.name, err, want)
				}
			}
		}
	})

	t.Run("valid variants are accepted", func(t *testing.T) {
		for _, tc := range []struct {
			name, kind string
			spec       string
		}{
			{"a Receiver with only a sink", "Receiver", `{sink: "log:"}`},
			{"a Receiver with an inline template", "Receiver", `{sink: "webhook:http://x", template: "{{ .Message }}"}`},
			{"a Receiver with an empty template and a templateRef", "Receiver", `{sink: "webhook:http://x", template: "", templateRef: {name: body}}`},
			{"a Route with only receivers", "Route", `{receivers: [a]}`},
			{"a Route with compound durations", "Route", `{receivers: [a], level: Normal, groupWait: 1m30s, groupInterval: 1.5h, repeatInterval: 500ms, minCount: 0}`},
			{"a Route with microseconds", "Route", `{receivers: [a], groupWait: 10µs, groupInterval: 10us}`},
			{"a Route with every selector operator", "Route", `{receivers: [a], objectSelector: {matchExpressions: [
				{key: a, operator: In, values: [x]}, {key: b, operator: NotIn, values: [z]}, {key: c, operator: Exists}, {key: d, operator: DoesNotExist, values: []}]}}`},
		} {
			var spec map[string]any
			if err := yaml.Unmarshal([]byte(tc.spec), &spec); err != nil {
				t.Fatal(err)
			}
			o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": api.APIVersion, "kind": tc.kind, "metadata": map[string]any{"name": "ok"}, "spec": spec}}
			r := map[string]dynamic.ResourceInterface{"Receiver": receivers, "Route": routes}[tc.kind]
			if _, err := r.Create(ctx, o, metav1.CreateOptions{FieldValidation: "Strict", DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s (%s) is refused: %v", tc.name, tc.spec, err)
			}
		}
	})

	t.Run("herald's ClusterRole", func(t *testing.T) {
		rbacGVR := func(resource string) schema.GroupVersionResource {
			return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: resource}
		}
		for _, o := range readManifests(t, "kubernetes/herald.yaml") {
			if o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding" {
				if _, err := dyn.Resource(rbacGVR(strings.ToLower(o.GetKind())+"s")).Create(ctx, o, strict); err != nil {
					t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
		}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "payments-slack"}, StringData: map[string]string{"WEBHOOK_PATH": "T0/B0/X"}}
		if _, err := c.Client().CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// As herald's ServiceAccount (the ClusterRoleBinding's subject).
		cfg := c.RESTConfig()
		cfg.Impersonate.UserName = "system:serviceaccount:herald:herald"
		asHerald, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		heraldClient, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// RBAC is eventually consistent: wait until the first right is granted.
		for {
			_, err := asHerald.Resource(receiversGVR).List(ctx, metav1.ListOptions{})
			if err == nil {
				break
			}
			if !apierrors.IsForbidden(err) || ctx.Err() != nil {
				t.Fatalf("list Receivers as herald: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		allowed := map[string]func() error{
			"list Receivers cluster-wide": func() error { _, err := asHerald.Resource(receiversGVR).List(ctx, metav1.ListOptions{}); return err },
			"watch Routes cluster-wide": func() error {
				w, err := asHerald.Resource(routesGVR).Watch(ctx, metav1.ListOptions{})
				if err == nil {
					w.Stop()
				}
				return err
			},
			"get a Route": func() error {
				_, err := asHerald.Resource(routesGVR).Namespace(ns).Get(ctx, "payments-failures", metav1.GetOptions{})
				return err
			},
			"update a Receiver's status": func() error {
				r := asHerald.Resource(receiversGVR).Namespace(ns)
				o, err := r.Get(ctx, "payments-slack", metav1.GetOptions{})
				if err == nil {
					_ = unstructured.SetNestedField(o.Object, int64(4), "status", "delivered")
					_, err = r.UpdateStatus(ctx, o, metav1.UpdateOptions{})
				}
				return err
			},
			"patch a Route's status": func() error {
				_, err := asHerald.Resource(routesGVR).Namespace(ns).Patch(ctx, "payments-failures", "application/merge-patch+json",
					[]byte(`{"status":{"failed":5}}`), metav1.PatchOptions{}, "status")
				return err
			},
			"get the Receiver's Secret": func() error {
				_, err := heraldClient.CoreV1().Secrets(ns).Get(ctx, "payments-slack", metav1.GetOptions{})
				return err
			},
			"watch ConfigMaps cluster-wide": func() error {
				w, err := heraldClient.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{})
				if err == nil {
					w.Stop()
				}
				return err
			},
		}
		forbidden := map[string]func() error{
			"update a Route's spec": func() error {
				r := asHerald.Resource(routesGVR).Namespace(ns)
				o, err := r.Get(ctx, "payments-failures", metav1.GetOptions{})
				if err == nil {
					_, err = r.Update(ctx, o, metav1.UpdateOptions{})
				}
				return err
			},
			"create a Receiver": func() error {
				o := example(t, "Receiver")
				o.SetName("by-herald")
				_, err := asHerald.Resource(receiversGVR).Namespace(ns).Create(ctx, o, metav1.CreateOptions{})
				return err
			},
			"delete a Route": func() error {
				return asHerald.Resource(routesGVR).Namespace(ns).Delete(ctx, "payments-failures", metav1.DeleteOptions{})
			},
			"update a Secret": func() error {
				s, err := heraldClient.CoreV1().Secrets(ns).Get(ctx, "payments-slack", metav1.GetOptions{})
				if err == nil {
					_, err = heraldClient.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{})
				}
				return err
			},
			"create a ConfigMap outside herald's namespace": func() error {
				_, err := heraldClient.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
				return err
			},
			"list pods": func() error { _, err := heraldClient.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); return err },
		}
		for what, do := range allowed {
			if err := do(); err != nil {
				t.Errorf("herald cannot %s: %v", what, err)
			}
		}
		for what, do := range forbidden {
			if err := do(); !apierrors.IsForbidden(err) {
				t.Errorf("herald may %s: err = %v, want Forbidden", what, err)
			}
		}
	})
}

// waitServed waits until the CRD of gvr is Established and its resource answers a list.
func waitServed(ctx context.Context, t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource) {
	t.Helper()
	name := gvr.Resource + "." + gvr.Group
	for {
		var state string
		o, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
			for _, c := range conds {
				c := c.(map[string]any)
				state += fmt.Sprintf("%v=%v (%v) ", c["type"], c["status"], c["message"])
				if c["type"] == "Established" && c["status"] == "True" {
					if _, err = dyn.Resource(gvr).List(ctx, metav1.ListOptions{}); err == nil {
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CRD %s never served: %s%v", name, state, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tableRow returns the columns kubectl get shows for one object, by name, as text.
func tableRow(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, resource, name string) map[string]string {
	t.Helper()
	raw, err := client.Discovery().RESTClient().Get().
		AbsPath("/apis", api.Group, api.Version, "namespaces", ns, resource, name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatalf("get %s/%s as a Table: %v", resource, name, err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("a Table of %s/%s: %v, %d rows\n%s", resource, name, err, len(table.Rows), raw)
	}
	row := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if i < len(table.Rows[0].Cells) {
			row[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	return row
}

// sameJSON compares two values as JSON: a number read from YAML is a float64, from the API
// server an int64.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
