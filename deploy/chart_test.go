package deploy_test

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestHelmLint(t *testing.T) {
	for _, values := range [][]string{nil, {"-f", "testdata/values-all.yaml"}} {
		out, err := run(helmBin(t), append([]string{"lint", "--strict", chart}, values...)...)
		if err != nil {
			t.Errorf("helm lint --strict %v: %v", values, err)
		}
		if !strings.Contains(string(out), "0 chart(s) failed") {
			t.Errorf("helm lint %v:\n%s", values, out)
		}
	}
}

func TestHelmTemplateDefaults(t *testing.T) {
	objs := helmTemplate(t, "herald", "herald")
	a := args(t, objs)
	for _, want := range []string{"--sink=log:?level=Warning", "--checkpoint=file:/var/run/herald/checkpoint,configmap:herald/herald-checkpoint", "--healthz-port=8084", "--instance=herald"} {
		if !slices.Contains(a, want) {
			t.Errorf("default args %q lack %q", a, want)
		}
	}
	for _, unwanted := range []string{"--leader-elect", "--pod-restarts"} {
		if slices.Contains(a, unwanted) {
			t.Errorf("default args %q have %q", a, unwanted)
		}
	}
	for _, kind := range []string{"PodDisruptionBudget", "ServiceMonitor", "ConfigMap"} {
		if has(objs, kind) {
			t.Errorf("default values render a %s: %s", kind, kinds(objs))
		}
	}
	// One replica without --leader-elect: no Lease rights.
	if rules := rules(t, objs, "Role"); slices.ContainsFunc(rules, func(r string) bool { return strings.Contains(r, "leases") }) {
		t.Errorf("Role grants leases without leader election: %v", rules)
	}
	checkSecure(t, objs)
}

func TestHelmTemplateEveryOption(t *testing.T) {
	objs := helmTemplate(t, "h", "herald-helm", "-f", "testdata/values-all.yaml")
	a := args(t, objs)
	for _, want := range []string{
		"--source=kubernetes:https://kubernetes.default?namespaces=prod,staging",
		"--sink=log:?format=json&level=Normal",
		"--sink=slack:${SLACK_WEBHOOK_URL}?level=Warning",
		"--checkpoint=file:/var/run/herald/checkpoint,configmap:herald-helm/herald-position", "--checkpoint-interval=2s",
		"--leader-elect", "--leader-elect-namespace=herald-helm", "--leader-elect-lease-duration=20s",
		"--leader-elect-renew-deadline=15s", "--leader-elect-retry-period=3s",
		"--pod-restarts", "--pod-restart-selector=tier!=batch",
		"--pod-restart-ignore-container=istio-proxy", "--pod-restart-ignore-container=linkerd-proxy",
		"--cluster-name=prod-eu", "--timezone=Europe/Berlin", "--shutdown-timeout=40s",
		"--healthz-port=9090", "--event-ttl=2h",
	} {
		if !slices.Contains(a, want) {
			t.Errorf("args lack %q:\n%s", want, strings.Join(a, "\n"))
		}
	}
	c := container(t, objs)
	if env := fmt.Sprint(c["env"]); !strings.Contains(env, "WECHAT_KEY") || !strings.Contains(env, "POD_NAMESPACE") {
		t.Errorf("env lacks WECHAT_KEY or POD_NAMESPACE: %s", env)
	}
	if envFrom := fmt.Sprint(c["envFrom"]); !strings.Contains(envFrom, "herald-slack") {
		t.Errorf("envFrom lacks the Secret herald-slack: %s", envFrom)
	}
	if strings.Contains(strings.Join(a, " "), "replace-with") {
		t.Errorf("a secret value leaked into args: %q", a)
	}
	cm := findNamed(t, objs, "ConfigMap", "herald-wechat-body")
	body, _, _ := unstructured.NestedString(cm.Object, "data", "content")
	if cm.GetName() != "herald-wechat-body" || !strings.Contains(body, `"msgtype": "text"`) || !strings.Contains(body, "{{ .Reason }}") {
		t.Errorf("body template ConfigMap %s: content %q", cm.GetName(), body)
	}
	pdb := find(t, objs, "PodDisruptionBudget")
	if min := field(pdb, "spec", "minAvailable"); min != "1" {
		t.Errorf("PodDisruptionBudget minAvailable = %s, want 1", min)
	}
	sm := find(t, objs, "ServiceMonitor")
	if sm.GetLabels()["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v lack release=prometheus", sm.GetLabels())
	}
	if r := field(find(t, objs, "Deployment"), "spec", "replicas"); r != "2" {
		t.Errorf("replicas = %s, want 2", r)
	}
	if sa := find(t, objs, "ServiceAccount"); sa.GetName() != "herald-events" {
		t.Errorf("ServiceAccount %s, want herald-events", sa.GetName())
	}
	role := strings.Join(rules(t, objs, "Role"), "\n")
	if !strings.Contains(role, "herald-position") || !strings.Contains(role, "leases") || !strings.Contains(role, "h-herald") {
		t.Errorf("Role does not grant the checkpoint herald-position and the Lease h-herald:\n%s", role)
	}
	if !slices.Contains(a, "--instance=h-herald") {
		t.Errorf("args lack --instance=h-herald (the release's full name): %q", a)
	}
	checkSecure(t, objs)
}

// Two releases in one namespace: each has its own --instance, hence its own Lease and checkpoint
// ConfigMap, and its Role grants exactly those.
func TestHelmTwoReleasesInOneNamespace(t *testing.T) {
	seen := map[string]string{}
	for _, release := range []string{"team-a", "team-b"} {
		objs := helmTemplate(t, release, "shared", "--set", "replicas=2")
		a := args(t, objs)
		instance := release + "-herald"
		for _, want := range []string{"--instance=" + instance, "--checkpoint=file:/var/run/herald/checkpoint,configmap:shared/" + instance + "-checkpoint", "--leader-elect"} {
			if !slices.Contains(a, want) {
				t.Errorf("release %s: args %q lack %q", release, a, want)
			}
		}
		role := strings.Join(rules(t, objs, "Role"), "\n")
		if !strings.Contains(role, instance+"-checkpoint") || !strings.Contains(role, `"`+instance+`"`) && !strings.Contains(role, " "+instance+"]") && !strings.Contains(role, "["+instance+"]") {
			t.Errorf("release %s: the Role does not name its own Lease and ConfigMap:\n%s", release, role)
		}
		if other, dup := seen[instance]; dup {
			t.Errorf("releases %s and %s share the instance %s", release, other, instance)
		}
		seen[instance] = release
	}
}

func TestHelmRequiresASink(t *testing.T) {
	_, err := run(helmBin(t), "template", "herald", chart, "--set", "sinks=null", "--set", "routes.enabled=false")
	if err == nil || !strings.Contains(err.Error(), "give at least one --sink") {
		t.Errorf("helm template without sinks or routes: err = %v, want the chart's message", err)
	}
	// With routes (the default), the teams' Receivers are the sinks.
	out, err := run(helmBin(t), "template", "herald", chart, "--set", "sinks=null")
	if err != nil || !strings.Contains(string(out), "- --routes") || strings.Contains(string(out), "--sink=") {
		t.Errorf("helm template with routes and no sinks: err = %v, want a Deployment running --routes without --sink", err)
	}
}

// TestRBACSameEverywhere: the chart with every feature on, the kustomize base and
// deploy/kubernetes grant exactly the same rights.
func TestRBACSameEverywhere(t *testing.T) {
	// The plain manifests run without --pod-restarts, so the chart without podRestarts.
	helm := helmTemplate(t, "herald", "herald", "--set", "replicas=2")
	base := kustomizeBuild(t)
	plain := readManifests(t, "kubernetes/*.yaml")
	for _, kind := range []string{"ClusterRole", "Role"} {
		want := rules(t, plain, kind)
		if got := rules(t, helm, kind); !reflect.DeepEqual(got, want) {
			t.Errorf("helm %s rules:\n%s\nwant (deploy/kubernetes):\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := rules(t, base, kind); !reflect.DeepEqual(got, want) {
			t.Errorf("kustomize %s rules:\n%s\nwant (deploy/kubernetes):\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestKustomizeBase(t *testing.T) {
	objs := kustomizeBuild(t)
	for _, kind := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment"} {
		find(t, objs, kind)
	}
	if a := args(t, objs); !slices.Contains(a, "--sink=log:?level=Warning") {
		t.Errorf("kustomize base args %q lack the log sink", a)
	}
	checkSecure(t, objs)
}

// field returns a field's value as text ("<nil>" when absent): numbers decode as float64.
func field(o *unstructured.Unstructured, path ...string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(o.Object, path...)
	return fmt.Sprint(v)
}

// rules returns the rules of the one object of kind, one string per rule, sorted.
func rules(t *testing.T, objs []*unstructured.Unstructured, kind string) []string {
	t.Helper()
	rs, _, err := unstructured.NestedSlice(find(t, objs, kind).Object, "rules")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprint(r))
	}
	sort.Strings(out)
	return out
}

// checkSecure: non-root, read-only root filesystem, no privilege escalation, every
// capability dropped, resources set.
func checkSecure(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	dep := find(t, objs, "Deployment")
	if v, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !v {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", dep.GetName())
	}
	c := container(t, objs)
	if v, _, _ := unstructured.NestedBool(c, "securityContext", "readOnlyRootFilesystem"); !v {
		t.Errorf("%s: readOnlyRootFilesystem is not true", dep.GetName())
	}
	if v, found, _ := unstructured.NestedBool(c, "securityContext", "allowPrivilegeEscalation"); !found || v {
		t.Errorf("%s: allowPrivilegeEscalation is not false", dep.GetName())
	}
	if drop, _, _ := unstructured.NestedStringSlice(c, "securityContext", "capabilities", "drop"); !slices.Contains(drop, "ALL") {
		t.Errorf("%s: capabilities.drop = %v, want ALL", dep.GetName(), drop)
	}
	if mem, _, _ := unstructured.NestedString(c, "resources", "limits", "memory"); mem == "" {
		t.Errorf("%s: no memory limit", dep.GetName())
	}
}

// TestKustomizeBaseMatchesManifests: the base is deploy/kubernetes/herald.yaml and crds.yaml
// without the example Secret and with the log sink instead of the WeChat robot, and nothing
// else differs.
func TestKustomizeBaseMatchesManifests(t *testing.T) {
	plain := map[string]*unstructured.Unstructured{}
	for _, o := range append(readManifests(t, "kubernetes/herald.yaml"), readManifests(t, "kubernetes/crds.yaml")...) {
		plain[o.GetKind()+"/"+o.GetName()] = o
	}
	for _, o := range kustomizeBuild(t) {
		id := o.GetKind() + "/" + o.GetName()
		want, ok := plain[id]
		if !ok {
			t.Errorf("kustomize base has %s, deploy/kubernetes/herald.yaml and crds.yaml do not", id)
			continue
		}
		delete(plain, id)
		got := o.DeepCopy()
		want = want.DeepCopy()
		if o.GetKind() == "Deployment" {
			for _, u := range []*unstructured.Unstructured{got, want} {
				cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
				c := cs[0].(map[string]any)
				delete(c, "args")
				delete(c, "env")
				_ = unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers")
			}
		}
		if !reflect.DeepEqual(got.Object, want.Object) {
			t.Errorf("%s differs between the kustomize base and deploy/kubernetes:\n%v\n%v", id, got.Object, want.Object)
		}
	}
	for id := range plain {
		if !strings.HasPrefix(id, "Secret/") {
			t.Errorf("deploy/kubernetes has %s, the kustomize base does not", id)
		}
	}
}

// The plain manifests hold no Secret: a placeholder Secret would overwrite the real robot key
// every time the file is applied again.
func TestManifestsHoldNoSecret(t *testing.T) {
	for _, o := range readManifests(t, "kubernetes/*.yaml") {
		if o.GetKind() == "Secret" {
			t.Errorf("deploy/kubernetes holds the Secret %s: document kubectl create secret instead", o.GetName())
		}
	}
}

// RBAC per feature: without podRestarts no pod, log or ReplicaSet access; without routes no
// Secret, no herald.dev object, and ConfigMaps are read only in the release's namespace and
// the template namespaces, never cluster-wide. Cluster-wide, herald writes nothing but the
// status of Receivers and Routes.
func TestRBACPerFeature(t *testing.T) {
	clusterRules := func(objs []*unstructured.Unstructured) string {
		return strings.Join(rules(t, objs, "ClusterRole"), "\n")
	}
	// Without podRestarts: no pod list or watch and no logs. (Routes' objectSelector gets
	// single objects' labels: get only.)
	podAccess := func(r string) bool {
		for _, l := range strings.Split(r, "\n") {
			if strings.Contains(l, "pods/log") || strings.Contains(l, "pods") && strings.Contains(l, "list") {
				return true
			}
		}
		return false
	}
	off := helmTemplate(t, "herald", "herald")
	if r := clusterRules(off); podAccess(r) {
		t.Errorf("ClusterRole without podRestarts:\n%s", r)
	}
	if r := clusterRules(off); !strings.Contains(r, "herald.dev") || !strings.Contains(r, "routes/status") || !strings.Contains(r, "secrets") {
		t.Errorf("ClusterRole with routes (the default) lacks Receivers, Routes, their status or Secrets:\n%s", r)
	}
	noRoutes := helmTemplate(t, "herald", "herald", "--set", "routes.enabled=false")
	if r := clusterRules(noRoutes); strings.Contains(r, "configmaps") || strings.Contains(r, "secrets") || strings.Contains(r, "herald.dev") {
		t.Errorf("ClusterRole without routes:\n%s", r)
	}
	on := helmTemplate(t, "herald", "herald", "--set", "podRestarts.enabled=true", "--set", "routes.enabled=false")
	if r := clusterRules(on); !strings.Contains(r, "pods/log") || strings.Contains(r, "configmaps") {
		t.Errorf("ClusterRole with podRestarts, without routes:\n%s", r)
	}
	extra := helmTemplate(t, "herald", "herald", "--set", "rbac.templateNamespaces={default,herald}")
	var roles []string
	for _, o := range extra {
		if o.GetKind() == "Role" {
			roles = append(roles, o.GetNamespace()+"/"+o.GetName())
		}
	}
	slices.Sort(roles)
	if want := []string{"default/herald-templates", "herald/herald"}; !slices.Equal(roles, want) {
		t.Errorf("Roles %v, want %v (the release's own namespace needs no second Role)", roles, want)
	}
	plain := readManifests(t, "kubernetes/herald.yaml")
	if r := clusterRules(plain); podAccess(r) {
		t.Errorf("deploy/kubernetes ClusterRole lists pods or reads logs without --pod-restarts:\n%s", r)
	}
	everything := helmTemplate(t, "herald", "herald", "--set", "podRestarts.enabled=true")
	for name, objs := range map[string][]*unstructured.Unstructured{"helm defaults": off, "helm with podRestarts": everything, "deploy/kubernetes": plain} {
		rs, _, _ := unstructured.NestedSlice(find(t, objs, "ClusterRole").Object, "rules")
		for _, r := range rs {
			rule := r.(map[string]any)
			verbs, _, _ := unstructured.NestedStringSlice(rule, "verbs")
			resources, _, _ := unstructured.NestedStringSlice(rule, "resources")
			groups, _, _ := unstructured.NestedStringSlice(rule, "apiGroups")
			writes := slices.ContainsFunc(verbs, func(v string) bool { return !slices.Contains([]string{"get", "list", "watch"}, v) })
			statusOnly := slices.Equal(groups, []string{"herald.dev"}) && !slices.ContainsFunc(resources, func(r string) bool { return !strings.HasSuffix(r, "/status") })
			if writes && !statusOnly || slices.Contains(verbs, "*") || slices.Contains(resources, "*") {
				t.Errorf("%s: the ClusterRole writes more than the status of Receivers and Routes: %v", name, rule)
			}
		}
	}
}
