package objlabels_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/sources/kubernetes/objlabels"
	"github.com/heraldproject/herald/test/cluster"
)

const ttl = time.Minute

// env is one Lookup against a real API server, with a fake clock so that the TTL passes when
// the test says so.
type env struct {
	t      *testing.T
	ctx    context.Context
	client kubernetes.Interface
	clock  *clocktesting.FakeClock
	lookup *objlabels.Lookup
}

// newLookup builds a Lookup the way cmd/herald would: a metadata client and a deferred
// discovery mapper over a memory-cached discovery client, both from cfg.
func newLookup(t *testing.T, cfg *rest.Config, clk *clocktesting.FakeClock) *objlabels.Lookup {
	t.Helper()
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := objlabels.New(objlabels.Config{
		Metadata: md,
		Mapper:   restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		TTL:      ttl,
		Clock:    clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// expect looks ref up and checks the answer.
func (e *env) expect(ref corev1.ObjectReference, want map[string]string) {
	e.t.Helper()
	got, err := e.lookup.Labels(e.ctx, ref)
	if err != nil {
		e.t.Fatalf("Labels(%s %s %s/%s): %v", ref.APIVersion, ref.Kind, ref.Namespace, ref.Name, err)
	}
	if !maps.Equal(got, want) {
		e.t.Errorf("Labels(%s %s %s/%s) = %v, want %v", ref.APIVersion, ref.Kind, ref.Namespace, ref.Name, got, want)
	}
}

// ref is the involvedObject an event about o carries.
func ref(apiVersion, kind string, o metav1.Object) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), UID: o.GetUID()}
}

func labelPatch(labels string) []byte {
	return []byte(`{"metadata":{"labels":` + labels + `}}`)
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/none"}}},
	}
}

func deployment(ns, name string, labels map[string]string) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/none"}}},
			},
		},
	}
}

// TestAgainstAPIServer runs the Lookup against a real kube-apiserver (no controllers, no
// kubelet: the objects are stored, nothing acts on them). It shares one cluster between its
// subtests, which run in order and build on each other's objects.
func TestAgainstAPIServer(t *testing.T) {
	c := cluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const ns = "team-a"
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	client := c.Client()
	clk := clocktesting.NewFakeClock(time.Now())
	e := &env{t: t, ctx: ctx, client: client, clock: clk, lookup: newLookup(t, c.RESTConfig(), clk)}

	p, err := client.CoreV1().Pods(ns).Create(ctx, pod(ns, "web-0", map[string]string{"team": "a", "app": "web"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings", Labels: map[string]string{"team": "a"}},
		Data:       map[string]string{"big": string(make([]byte, 512*1024))}, // never sent: metadata only
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := client.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", map[string]string{"team": "a", "tier": "frontend"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	podRef, cmRef, dRef := ref("v1", "Pod", p), ref("v1", "ConfigMap", cm), ref("apps/v1", "Deployment", d)

	t.Run("read", func(t *testing.T) {
		e.t = t
		e.expect(podRef, map[string]string{"team": "a", "app": "web"})
		e.expect(cmRef, map[string]string{"team": "a"})
		e.expect(dRef, map[string]string{"team": "a", "tier": "frontend"})
		// An event writer that leaves apiVersion empty still finds the object.
		e.expect(corev1.ObjectReference{Kind: "Deployment", Namespace: ns, Name: "web"}, map[string]string{"team": "a", "tier": "frontend"})
		// Nodes are cluster-scoped; some event writers still put a namespace in the reference.
		n, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"pool": "gpu"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.expect(corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Namespace: "default", Name: n.Name, UID: n.UID}, map[string]string{"pool": "gpu"})
		if s := e.lookup.Stats(); s.Misses != 5 || s.Errors != 0 {
			t.Errorf("Stats() = %+v, want 5 misses", s)
		}
	})

	t.Run("relabel after TTL", func(t *testing.T) {
		e.t = t
		patch := labelPatch(`{"team":"b"}`)
		if _, err := client.CoreV1().Pods(ns).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().ConfigMaps(ns).Patch(ctx, cm.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.AppsV1().Deployments(ns).Patch(ctx, d.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		// Within the TTL the cached labels are answered.
		e.clock.Step(ttl - time.Second)
		e.expect(podRef, map[string]string{"team": "a", "app": "web"})
		e.expect(dRef, map[string]string{"team": "a", "tier": "frontend"})
		e.clock.Step(time.Second)
		e.expect(podRef, map[string]string{"team": "b", "app": "web"})
		e.expect(cmRef, map[string]string{"team": "b"})
		e.expect(dRef, map[string]string{"team": "b", "tier": "frontend"})
	})

	t.Run("recreated under the same name", func(t *testing.T) {
		e.t = t
		if err := client.CoreV1().ConfigMaps(ns).Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cm2, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings", Labels: map[string]string{"team": "c"}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Well within the TTL, an event about the new object reads it because its UID differs.
		e.expect(ref("v1", "ConfigMap", cm2), map[string]string{"team": "c"})
		cmRef = ref("v1", "ConfigMap", cm2)
	})

	t.Run("deleted", func(t *testing.T) {
		e.t = t
		zero := int64(0)
		if err := client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		if err := client.CoreV1().ConfigMaps(ns).Delete(ctx, cmRef.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := client.AppsV1().Deployments(ns).Delete(ctx, d.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		// An unscheduled pod is deleted at once and nothing here has finalizers, but make sure
		// all three are gone before the cache expires, so that the lookups below see them gone.
		waitFor(t, ctx, "the objects to be deleted", func() bool {
			_, perr := client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
			_, cerr := client.CoreV1().ConfigMaps(ns).Get(ctx, cmRef.Name, metav1.GetOptions{})
			_, derr := client.AppsV1().Deployments(ns).Get(ctx, d.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(perr) && apierrors.IsNotFound(cerr) && apierrors.IsNotFound(derr)
		})
		before := e.lookup.Stats()
		e.clock.Step(ttl)
		e.expect(podRef, nil)
		e.expect(cmRef, nil)
		e.expect(dRef, nil)
		e.expect(dRef, nil) // cached
		s := e.lookup.Stats()
		if s.NotFound-before.NotFound != 3 || s.Hits-before.Hits != 1 {
			t.Errorf("Stats() went from %+v to %+v, want 3 more not found and 1 more hit", before, s)
		}
	})

	t.Run("custom resource created after start", func(t *testing.T) {
		e.t = t
		customResource(t, ctx, c, e, ns)
	})

	t.Run("forbidden", func(t *testing.T) {
		e.t = t
		forbidden(t, ctx, c, ns)
	})
}

// customResource creates a CRD after the Lookup's mapper has read discovery (the subtests
// before did), then looks up an object of the new kind: the mapper does not know the kind, and
// the one reset it is allowed must find it.
func customResource(t *testing.T, ctx context.Context, c *cluster.Cluster, e *env, ns string) {
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets.example.herald.dev"},
		"spec": map[string]any{
			"group": "example.herald.dev",
			"scope": "Namespaced",
			"names": map[string]any{"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	widgets := schema.GroupVersionResource{Group: "example.herald.dev", Version: "v1", Resource: "widgets"}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.herald.dev/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"namespace": ns, "name": "w1", "labels": map[string]any{"team": "widgets"}},
	}}
	// The API server serves the new resource, and lists it in discovery, a moment after the
	// CRD is created.
	var created *unstructured.Unstructured
	waitFor(t, ctx, "the Widget resource to be served", func() bool {
		created, err = dyn.Resource(widgets).Namespace(ns).Create(ctx, w, metav1.CreateOptions{})
		return err == nil
	})
	disc, err := discovery.NewDiscoveryClientForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "discovery to list widgets", func() bool {
		_, err := disc.ServerResourcesForGroupVersion("example.herald.dev/v1")
		return err == nil
	})

	before := e.lookup.Stats()
	e.expect(ref("example.herald.dev/v1", "Widget", created), map[string]string{"team": "widgets"})
	if s := e.lookup.Stats(); s.MapperResets-before.MapperResets != 1 {
		t.Errorf("%d mapper resets, want 1", s.MapperResets-before.MapperResets)
	}
}

// forbidden reads as a user RBAC gives nothing, then grants that user get on Deployments in ns
// and sees the lookup succeed once the cached Forbidden expires.
func forbidden(t *testing.T, ctx context.Context, c *cluster.Cluster, ns string) {
	client := c.Client()
	d, err := client.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "api", map[string]string{"team": "a"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "herald-without-rbac"}
	clk := clocktesting.NewFakeClock(time.Now())
	l := newLookup(t, cfg, clk)
	dRef := ref("apps/v1", "Deployment", d)

	_, err = l.Labels(ctx, dRef)
	var fe *objlabels.ForbiddenError
	if !errors.As(err, &fe) || !apierrors.IsForbidden(err) {
		t.Fatalf("Labels as a user without RBAC: error %v, want a *ForbiddenError", err)
	}
	if fe.Verb != "get" || fe.Group != "apps" || fe.Resource != "deployments" || fe.Namespace != ns {
		t.Errorf("ForbiddenError %+v, want get on deployments in apps, namespace %s", fe, ns)
	}
	t.Logf("the error a caller would log: %v", err)

	if _, err := client.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "herald-labels"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "herald-labels"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "herald-labels"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "herald-without-rbac"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The Forbidden is cached: until the TTL passes, the grant is not seen.
	if _, err := l.Labels(ctx, dRef); !errors.As(err, &fe) {
		t.Errorf("within the TTL: error %v, want the cached *ForbiddenError", err)
	}
	clk.Step(ttl)
	// The RBAC authorizer sees the new binding after its informer does, a moment later.
	var labels map[string]string
	waitFor(t, ctx, "the RoleBinding to take effect", func() bool {
		labels, err = l.Labels(ctx, dRef)
		if err != nil {
			clk.Step(ttl) // the retry was cached as Forbidden again
		}
		return err == nil
	})
	if !maps.Equal(labels, map[string]string{"team": "a"}) {
		t.Errorf("labels %v after the grant, want team=a", labels)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
