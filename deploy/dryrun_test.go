package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/heraldproject/herald/test/cluster"
	"github.com/heraldproject/herald/test/harness"
)

// The prometheus-operator CRDs the ServiceMonitor and PrometheusRule need, reduced to an open
// schema: the API server checks apiVersion, kind, metadata and that the CRD is served, not the
// operator's own schema (which is not vendored here).
const operatorCRDs = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: prometheusrules.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: PrometheusRule, listKind: PrometheusRuleList, plural: prometheusrules, singular: prometheusrule}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// TestServerSideDryRun sends every object the chart (default values and every value), the
// kustomize base, deploy/kubernetes and deploy/prometheus render to a real kube-apiserver with
// dryRun=All and strict field validation: admission, defaulting and validation run (the pod
// spec included), nothing is stored. Namespaces are created for real first.
func TestServerSideDryRun(t *testing.T) {
	sets := map[string][]*unstructured.Unstructured{
		"helm defaults":     helmTemplate(t, "herald", "herald-defaults"),
		"helm every option": helmTemplate(t, "h", "herald-helm", "-f", "testdata/values-all.yaml"),
		"kustomize base":    kustomizeBuild(t),
		"deploy/kubernetes": readManifests(t, "kubernetes/*.yaml"),
		"deploy/prometheus": readManifests(t, "prometheus/*.yaml"),
	}
	c := cluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))

	// The CRDs are created for real, then the mapper waits until discovery serves them.
	for _, crd := range decode(t, []byte(operatorCRDs)) {
		if err := apply(ctx, dyn, mapper, crd, false); err != nil {
			t.Fatalf("create CRD %s: %v", crd.GetName(), err)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		for {
			mapper.Reset()
			if _, err := mapper.RESTMapping(schemaGK("monitoring.coreos.com", kind), "v1"); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the API server never served %s: %v", kind, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}

	for name, objs := range sets {
		t.Run(name, func(t *testing.T) {
			namespaces := map[string]bool{}
			for _, o := range objs {
				if o.GetKind() == "Namespace" {
					namespaces[o.GetName()] = true
				} else if ns := o.GetNamespace(); ns != "" {
					namespaces[ns] = true
				}
			}
			for ns := range namespaces {
				if err := c.EnsureNamespace(ctx, ns); err != nil {
					t.Fatal(err)
				}
			}
			applied := 0
			for _, o := range objs {
				if o.GetKind() == "Namespace" {
					continue // created above
				}
				if err := apply(ctx, dyn, mapper, o, true); err != nil {
					t.Errorf("%s %s/%s rejected: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
					continue
				}
				applied++
			}
			if applied == 0 {
				t.Errorf("no object applied among %s", kinds(objs))
			}
			// Dry-run stores nothing: the Deployment must not exist afterwards.
			for _, o := range objs {
				if o.GetKind() != "Deployment" {
					continue
				}
				_, err := c.Client().AppsV1().Deployments(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
				if !apierrors.IsNotFound(err) {
					t.Errorf("Deployment %s/%s after a dry run: err = %v, want NotFound", o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}

	// What a user runs next: `herald check` with the chart's args, against the same API
	// server, with the body template ConfigMap the chart creates (created here for real).
	t.Run("herald check with the chart's config", func(t *testing.T) {
		objs := sets["helm every option"]
		if err := apply(ctx, dyn, mapper, findNamed(t, objs, "ConfigMap", "herald-wechat-body"), false); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		var checkArgs []string
		for _, a := range args(t, objs) {
			if strings.HasPrefix(a, "--source=") {
				a = harness.SourceFlag(c.Kubeconfig) // the pod's in-cluster config, from outside
			}
			checkArgs = append(checkArgs, a)
		}
		const key = "0d1e2f3a-secret-robot-key"
		out, code := harness.Run(t, []string{"WECHAT_KEY=" + key, "SLACK_WEBHOOK_URL=http://127.0.0.1:1/hooks/x", "POD_NAMESPACE=herald-helm"},
			append([]string{"check"}, checkArgs...)...)
		if code != 0 {
			t.Fatalf("herald check %s: exit %d\n%s", strings.Join(checkArgs, " "), code, out)
		}
		if !strings.Contains(out, `"msgtype": "text"`) {
			t.Errorf("herald check did not render the chart's body template:\n%s", out)
		}
		if strings.Contains(out, key) {
			t.Errorf("herald check printed the secret WECHAT_KEY:\n%s", out)
		}
	})

	// What a user runs: helm install --dry-run=server against the cluster (helm's own checks
	// and the API server's), then the test event the chart's NOTES tell them to create.
	t.Run("helm install --dry-run=server and the NOTES' test event", func(t *testing.T) {
		const ns = "herald-notes"
		if err := c.EnsureNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		home := t.TempDir()
		cmd := exec.CommandContext(ctx, helmBin(t), "install", "herald", chart, "--namespace", ns,
			"--kubeconfig", c.Kubeconfig, "--dry-run=server", "--set", "replicas=2")
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
		began := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm install --dry-run=server: %v\n%s", err, out)
		}
		t.Logf("helm install --dry-run=server took %s", time.Since(began).Round(time.Millisecond))
		notes := string(out[strings.Index(string(out), "NOTES:"):])
		for _, want := range []string{"kubectl -n herald-notes logs deployment/herald", "/readyz", "one active (leader election)", "Sinks: log."} {
			if !strings.Contains(notes, want) {
				t.Errorf("NOTES lack %q:\n%s", want, notes)
			}
		}
		start := strings.Index(notes, "<<'EOF'\n")
		end := strings.Index(notes, "\n     EOF\n")
		if start < 0 || end < start {
			t.Fatalf("NOTES have no test event between <<'EOF' and EOF:\n%s", notes)
		}
		var lines []string
		for _, l := range strings.Split(notes[start+len("<<'EOF'\n"):end], "\n") {
			lines = append(lines, strings.TrimPrefix(l, "     "))
		}
		ev := decode(t, []byte(strings.Join(lines, "\n")))[0]
		ev.SetNamespace(ns)
		if err := apply(ctx, dyn, mapper, ev, false); err != nil {
			t.Fatalf("the NOTES' test event is refused by the API server: %v", err)
		}
		list, err := c.Client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 || list.Items[0].Type != "Warning" || list.Items[0].Reason != "HeraldTest" {
			t.Errorf("events in %s after creating the NOTES' test event: %v (err %v)", ns, list, err)
		}
	})

	// The check can fail: a pod spec the API server refuses is reported, not accepted.
	t.Run("a bad object is rejected", func(t *testing.T) {
		bad := helmTemplate(t, "bad", "herald-defaults", "--set", "securityContext.runAsUser=-1")
		err := apply(ctx, dyn, mapper, find(t, bad, "Deployment"), true)
		if err == nil || !strings.Contains(err.Error(), "runAsUser") {
			t.Errorf("a Deployment with runAsUser -1: err = %v, want a validation error naming runAsUser", err)
		}
	})
}

// apply creates o through the dynamic client, as a dry run when dryRun is set, with strict
// field validation (an unknown or duplicated field is an error, not a warning).
func apply(ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, o *unstructured.Unstructured, dryRun bool) error {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	opts := metav1.CreateOptions{FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var r dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		r = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	_, err = r.Create(ctx, o, opts)
	return err
}

func schemaGK(group, kind string) schema.GroupKind { return schema.GroupKind{Group: group, Kind: kind} }
