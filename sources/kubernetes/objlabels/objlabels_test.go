package objlabels

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

var (
	podGVR    = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodeGVR   = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	widgetGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

// testMapper knows pods, nodes and Deployments (in apps/v1 and the retired apps/v1beta2 is not
// served), like a small cluster.
func testMapper() *meta.DefaultRESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(corev1.SchemeGroupVersion.WithKind("Pod"), meta.RESTScopeNamespace)
	m.Add(corev1.SchemeGroupVersion.WithKind("Node"), meta.RESTScopeRoot)
	m.Add(deployGVR.GroupVersion().WithKind("Deployment"), meta.RESTScopeNamespace)
	return m
}

// resettableMapper is a mapper that learns the kinds in pending only when it is reset, as a
// discovery-backed mapper learns a CRD created after it read discovery.
type resettableMapper struct {
	*meta.DefaultRESTMapper
	mu      sync.Mutex
	pending []schema.GroupVersionKind
	resets  int
}

func (m *resettableMapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resets++
	for _, gvk := range m.pending {
		m.Add(gvk, meta.RESTScopeNamespace)
	}
	m.pending = nil
}

func object(gvr schema.GroupVersionResource, kind, ns, name string, uid types.UID, labels map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: gvr.GroupVersion().String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid, Labels: labels},
	}
}

func podRef(ns, name string, uid types.UID) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name, UID: uid}
}

type fixture struct {
	t      *testing.T
	client *metadatafake.FakeMetadataClient
	clock  *clocktesting.FakeClock
	lookup *Lookup
}

// newFixture builds a Lookup over a fake metadata client holding objs. cfg's Metadata, Mapper
// and Clock are filled in when unset.
func newFixture(t *testing.T, cfg Config, objs ...*metav1.PartialObjectMetadata) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, client: metadatafake.NewSimpleMetadataClient(scheme), clock: clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))}
	for _, o := range objs {
		f.create(o)
	}
	if cfg.Metadata == nil {
		cfg.Metadata = f.client
	}
	if cfg.Mapper == nil {
		cfg.Mapper = testMapper()
	}
	if cfg.Clock == nil {
		cfg.Clock = f.clock
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.lookup = l
	return f
}

func gvrOf(o *metav1.PartialObjectMetadata) schema.GroupVersionResource {
	gvk := o.GroupVersionKind()
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	return gvr
}

func (f *fixture) create(o *metav1.PartialObjectMetadata) {
	f.t.Helper()
	if err := f.client.Tracker().Create(gvrOf(o), o, o.Namespace); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) update(o *metav1.PartialObjectMetadata) {
	f.t.Helper()
	if err := f.client.Tracker().Update(gvrOf(o), o, o.Namespace); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) delete(o *metav1.PartialObjectMetadata) {
	f.t.Helper()
	if err := f.client.Tracker().Delete(gvrOf(o), o.Namespace, o.Name); err != nil {
		f.t.Fatal(err)
	}
}

// gets counts the GET requests the fake client has served.
func (f *fixture) gets() int {
	n := 0
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "get" {
			n++
		}
	}
	return n
}

// expect looks ref up and checks the labels and the number of GETs made so far.
func (f *fixture) expect(ref corev1.ObjectReference, want map[string]string, wantGets int) {
	f.t.Helper()
	got, err := f.lookup.Labels(context.Background(), ref)
	if err != nil {
		f.t.Fatalf("Labels(%s %s/%s uid %q): %v", ref.Kind, ref.Namespace, ref.Name, ref.UID, err)
	}
	if !maps.Equal(got, want) {
		f.t.Errorf("Labels(%s %s/%s uid %q) = %v, want %v", ref.Kind, ref.Namespace, ref.Name, ref.UID, got, want)
	}
	if n := f.gets(); n != wantGets {
		f.t.Errorf("after Labels(%s %s/%s uid %q): %d GETs, want %d", ref.Kind, ref.Namespace, ref.Name, ref.UID, n, wantGets)
	}
}

func (f *fixture) expectStats(want Stats) {
	f.t.Helper()
	if got := f.lookup.Stats(); got != want {
		f.t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestTTLExpiry(t *testing.T) {
	pod := object(podGVR, "Pod", "prod", "web-0", "uid-1", map[string]string{"team": "a"})
	f := newFixture(t, Config{TTL: time.Minute}, pod)
	ref := podRef("prod", "web-0", "uid-1")

	f.expect(ref, map[string]string{"team": "a"}, 1)
	f.update(object(podGVR, "Pod", "prod", "web-0", "uid-1", map[string]string{"team": "b"}))
	f.expect(ref, map[string]string{"team": "a"}, 1) // cached
	f.clock.Step(time.Minute - time.Nanosecond)
	f.expect(ref, map[string]string{"team": "a"}, 1) // still within the TTL
	f.clock.Step(time.Nanosecond)
	f.expect(ref, map[string]string{"team": "b"}, 2) // expired: read again
	f.expect(ref, map[string]string{"team": "b"}, 2)
	f.expectStats(Stats{Hits: 3, Misses: 2})
}

func TestUIDChangeRefetches(t *testing.T) {
	f := newFixture(t, Config{}, object(podGVR, "Pod", "prod", "web-0", "old", map[string]string{"rev": "1"}))

	f.expect(podRef("prod", "web-0", "old"), map[string]string{"rev": "1"}, 1)
	// The pod is deleted and recreated under the same name, with new labels, within the TTL.
	f.delete(object(podGVR, "Pod", "prod", "web-0", "old", nil))
	f.create(object(podGVR, "Pod", "prod", "web-0", "new", map[string]string{"rev": "2"}))

	f.expect(podRef("prod", "web-0", "new"), map[string]string{"rev": "2"}, 2) // another UID: read again
	f.expect(podRef("prod", "web-0", "new"), map[string]string{"rev": "2"}, 2)
	f.expect(podRef("prod", "web-0", ""), map[string]string{"rev": "2"}, 2) // a reference without UID takes any entry
	// A late event about the old pod reads once, gets the labels of the pod named so now, and
	// then hits: the old UID is remembered as stale instead of refetching for every event.
	f.expect(podRef("prod", "web-0", "old"), map[string]string{"rev": "2"}, 3)
	f.expect(podRef("prod", "web-0", "old"), map[string]string{"rev": "2"}, 3)
	f.expect(podRef("prod", "web-0", "new"), map[string]string{"rev": "2"}, 3)
	f.expectStats(Stats{Hits: 4, Misses: 3})
}

func TestNotFoundCachedAsEmpty(t *testing.T) {
	f := newFixture(t, Config{TTL: time.Minute})
	ref := podRef("prod", "gone", "uid-1")

	f.expect(ref, nil, 1)
	f.expect(ref, nil, 1) // the absence is cached
	f.expectStats(Stats{NotFound: 1, Hits: 1})
	f.clock.Step(time.Minute)
	f.expect(ref, nil, 2) // and expires
	f.expectStats(Stats{NotFound: 2, Hits: 1})

	// A new object of that name shows up in events with its own UID: it is read at once,
	// although the cached absence has not expired.
	f.create(object(podGVR, "Pod", "prod", "gone", "uid-2", map[string]string{"team": "a"}))
	f.expect(ref, nil, 2) // the deleted one is still answered from the cache
	f.expect(podRef("prod", "gone", "uid-2"), map[string]string{"team": "a"}, 3)
}

func TestLRUEviction(t *testing.T) {
	var objs []*metav1.PartialObjectMetadata
	for _, name := range []string{"a", "b", "c", "d"} {
		objs = append(objs, object(podGVR, "Pod", "ns", name, types.UID("uid-"+name), map[string]string{"name": name}))
	}
	f := newFixture(t, Config{MaxEntries: 3}, objs...)
	ref := func(name string) corev1.ObjectReference { return podRef("ns", name, types.UID("uid-"+name)) }
	labels := func(name string) map[string]string { return map[string]string{"name": name} }

	f.expect(ref("a"), labels("a"), 1)
	f.expect(ref("b"), labels("b"), 2)
	f.expect(ref("c"), labels("c"), 3)
	f.expect(ref("a"), labels("a"), 3) // a is now the most recently used, b the least
	f.expect(ref("d"), labels("d"), 4) // evicts b
	if n := f.lookup.Len(); n != 3 {
		t.Errorf("Len() = %d, want 3 (MaxEntries)", n)
	}
	f.expect(ref("a"), labels("a"), 4)
	f.expect(ref("c"), labels("c"), 4)
	f.expect(ref("d"), labels("d"), 4)
	f.expect(ref("b"), labels("b"), 5) // was evicted: read again, which evicts a
	f.expect(ref("a"), labels("a"), 6)
	if n := f.lookup.Len(); n != 3 {
		t.Errorf("Len() = %d, want 3 (MaxEntries)", n)
	}
}

// gatedMetadata holds every GET at a gate until it is opened, so that a test can have many
// lookups wait for the same request. It wraps the fake client, which records the requests.
type gatedMetadata struct {
	metadata.Interface
	entered chan struct{} // receives once per GET that reached the gate
	open    chan struct{}
}

func (g *gatedMetadata) Resource(gvr schema.GroupVersionResource) metadata.Getter {
	return gatedGetter{g.Interface.Resource(gvr), g}
}

type gatedGetter struct {
	metadata.Getter
	g *gatedMetadata
}

func (r gatedGetter) Namespace(ns string) metadata.ResourceInterface {
	return gatedResource{r.Getter.Namespace(ns), r.g}
}

type gatedResource struct {
	metadata.ResourceInterface
	g *gatedMetadata
}

func (r gatedResource) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	r.g.entered <- struct{}{}
	<-r.g.open
	return r.ResourceInterface.Get(ctx, name, opts, sub...)
}

// TestConcurrentLookupsShareOneGet runs in a synctest bubble: synctest.Wait returns once every
// goroutine is blocked, which proves all lookups are waiting before the one GET is let through.
func TestConcurrentLookupsShareOneGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pod := object(podGVR, "Pod", "prod", "web-0", "uid-1", map[string]string{"team": "a"})
		f := newFixture(t, Config{}, pod)
		gate := &gatedMetadata{Interface: f.client, entered: make(chan struct{}, 100), open: make(chan struct{})}
		l, err := New(Config{Metadata: gate, Mapper: testMapper(), Clock: f.clock})
		if err != nil {
			t.Fatal(err)
		}

		const callers = 50
		var wg sync.WaitGroup
		results := make([]map[string]string, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				results[i], errs[i] = l.Labels(context.Background(), podRef("prod", "web-0", "uid-1"))
			})
		}
		synctest.Wait() // every caller is blocked: one in the GET, the others waiting for it
		entered := len(gate.entered)
		close(gate.open)
		wg.Wait()
		if entered != 1 {
			t.Fatalf("%d GETs reached the API while %d callers waited, want 1", entered, callers)
		}

		for i := range callers {
			if errs[i] != nil || results[i]["team"] != "a" {
				t.Errorf("caller %d: labels %v, error %v", i, results[i], errs[i])
			}
		}
		if n := f.gets(); n != 1 {
			t.Errorf("%d GETs, want 1", n)
		}
		if got, want := l.Stats(), (Stats{Misses: callers}); got != want {
			t.Errorf("Stats() = %+v, want %+v (every caller waited for the one read)", got, want)
		}
	})
}

// TestCallerCancelDoesNotFailOthers: the caller that started the shared GET gives up; the GET
// goes on and the other caller gets its answer.
func TestCallerCancelDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pod := object(podGVR, "Pod", "prod", "web-0", "uid-1", map[string]string{"team": "a"})
		f := newFixture(t, Config{}, pod)
		gate := &gatedMetadata{Interface: f.client, entered: make(chan struct{}, 10), open: make(chan struct{})}
		l, err := New(Config{Metadata: gate, Mapper: testMapper(), Clock: f.clock})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var firstErr, secondErr error
		var second map[string]string
		var wg sync.WaitGroup
		wg.Go(func() { _, firstErr = l.Labels(ctx, podRef("prod", "web-0", "uid-1")) })
		<-gate.entered // the first caller's GET is under way
		wg.Go(func() { second, secondErr = l.Labels(context.Background(), podRef("prod", "web-0", "uid-1")) })
		synctest.Wait()
		cancel()
		synctest.Wait()
		close(gate.open)
		wg.Wait()

		if !errors.Is(firstErr, context.Canceled) {
			t.Errorf("cancelled caller: error %v, want context.Canceled", firstErr)
		}
		if secondErr != nil || second["team"] != "a" {
			t.Errorf("other caller: labels %v, error %v", second, secondErr)
		}
		if got, want := l.Stats(), (Stats{Misses: 1, Errors: 1}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
		// The shared GET finished and was cached although its starter left.
		if _, err := l.Labels(context.Background(), podRef("prod", "web-0", "uid-1")); err != nil || l.Stats().Hits != 1 {
			t.Errorf("after the shared read: err %v, stats %+v, want a hit", err, l.Stats())
		}
	})
}

func TestForbiddenNamesThePermission(t *testing.T) {
	f := newFixture(t, Config{})
	f.client.PrependReactor("get", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(deployGVR.GroupResource(), "api", errors.New(`User "system:serviceaccount:herald:herald" cannot get resource "deployments"`))
	})
	ref := corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "api"}

	for i := range 2 {
		_, err := f.lookup.Labels(context.Background(), ref)
		var fe *ForbiddenError
		if !errors.As(err, &fe) {
			t.Fatalf("lookup %d: error %v, want a *ForbiddenError", i, err)
		}
		if fe.Verb != "get" || fe.Group != "apps" || fe.Resource != "deployments" || fe.Namespace != "prod" || fe.Name != "api" {
			t.Errorf("lookup %d: %+v", i, fe)
		}
		if !apierrors.IsForbidden(err) {
			t.Errorf("lookup %d: apierrors.IsForbidden(%v) = false; the API error must stay reachable", i, err)
		}
		for _, want := range []string{`verb "get"`, `resource "deployments"`, `API group "apps"`, `namespace "prod"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("lookup %d: %q does not contain %s", i, err, want)
			}
		}
	}
	if n := f.gets(); n != 1 {
		t.Errorf("%d GETs, want 1: a Forbidden is cached for the TTL", n)
	}
	f.expectStats(Stats{Errors: 2})
}

func TestForbiddenCoreClusterScoped(t *testing.T) {
	f := newFixture(t, Config{})
	f.client.PrependReactor("get", "nodes", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(nodeGVR.GroupResource(), "n1", errors.New("denied"))
	})
	_, err := f.lookup.Labels(context.Background(), corev1.ObjectReference{Kind: "Node", Name: "n1"})
	for _, want := range []string{`resource "nodes"`, `API group "" (core)`, `cluster-wide`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %s", err, want)
		}
	}
}

func TestOtherErrorsAreNotCached(t *testing.T) {
	f := newFixture(t, Config{}, object(podGVR, "Pod", "prod", "web-0", "", map[string]string{"team": "a"}))
	fail := true
	f.client.PrependReactor("get", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if fail {
			return true, nil, apierrors.NewServiceUnavailable("etcd is down")
		}
		return false, nil, nil
	})
	if _, err := f.lookup.Labels(context.Background(), podRef("prod", "web-0", "")); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("error %v, want the API server's 503", err)
	}
	fail = false
	f.expect(podRef("prod", "web-0", ""), map[string]string{"team": "a"}, 2)
	f.expectStats(Stats{Errors: 1, Misses: 1})
}

func TestUnknownKindResetsMapper(t *testing.T) {
	mapper := &resettableMapper{DefaultRESTMapper: testMapper(), pending: []schema.GroupVersionKind{widgetGVR.GroupVersion().WithKind("Widget")}}
	f := newFixture(t, Config{Mapper: mapper, MapperResetInterval: 10 * time.Second},
		object(widgetGVR, "Widget", "prod", "w", "", map[string]string{"team": "a"}))

	// Widget's CRD was created after the mapper read discovery: a reset finds it.
	f.expect(corev1.ObjectReference{APIVersion: "example.com/v1", Kind: "Widget", Namespace: "prod", Name: "w"}, map[string]string{"team": "a"}, 1)
	if mapper.resets != 1 {
		t.Errorf("%d resets, want 1", mapper.resets)
	}

	// A kind nobody serves: no reset within the interval, so events about it cannot make the
	// Lookup re-read discovery for each of them.
	gadget := corev1.ObjectReference{APIVersion: "example.com/v1", Kind: "Gadget", Namespace: "prod", Name: "g"}
	for range 3 {
		_, err := f.lookup.Labels(context.Background(), gadget)
		if !meta.IsNoMatchError(err) || !strings.Contains(err.Error(), `kind "Gadget"`) {
			t.Errorf("error %v, want a no-match error naming the kind", err)
		}
	}
	if mapper.resets != 1 {
		t.Errorf("%d resets, want 1 (the interval has not passed)", mapper.resets)
	}
	f.clock.Step(10 * time.Second)
	if _, err := f.lookup.Labels(context.Background(), gadget); !meta.IsNoMatchError(err) {
		t.Errorf("error %v, want a no-match error", err)
	}
	if mapper.resets != 2 {
		t.Errorf("%d resets, want 2 (the interval has passed)", mapper.resets)
	}
	f.expectStats(Stats{Misses: 1, Errors: 4, MapperResets: 2})
}

func TestMapping(t *testing.T) {
	f := newFixture(t, Config{},
		object(podGVR, "Pod", "prod", "web-0", "", map[string]string{"kind": "pod"}),
		object(deployGVR, "Deployment", "prod", "web", "", map[string]string{"kind": "deployment"}),
		object(nodeGVR, "Node", "", "n1", "", map[string]string{"kind": "node"}),
	)
	for _, tc := range []struct {
		name string
		ref  corev1.ObjectReference
		want string
	}{
		{"core", corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: "prod", Name: "web-0"}, "pod"},
		{"group", corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"}, "deployment"},
		{"no apiVersion, core kind", corev1.ObjectReference{Kind: "Pod", Namespace: "prod", Name: "web-0"}, "pod"},
		{"no apiVersion, other group guessed", corev1.ObjectReference{Kind: "Deployment", Namespace: "prod", Name: "web"}, "deployment"},
		{"version no longer served", corev1.ObjectReference{APIVersion: "apps/v1beta2", Kind: "Deployment", Namespace: "prod", Name: "web"}, "deployment"},
		{"cluster-scoped with a namespace", corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Namespace: "default", Name: "n1"}, "node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.lookup.Labels(context.Background(), tc.ref)
			if err != nil || got["kind"] != tc.want {
				t.Errorf("Labels(%+v) = %v, %v; want kind=%s", tc.ref, got, err, tc.want)
			}
		})
	}
}

func TestBadReferences(t *testing.T) {
	f := newFixture(t, Config{})
	for _, ref := range []corev1.ObjectReference{
		{APIVersion: "v1", Kind: "Pod", Namespace: "prod"},            // no name
		{APIVersion: "v1", Name: "x", Namespace: "prod"},              // no kind
		{APIVersion: "v1", Kind: "Pod", Name: "x"},                    // namespaced kind, no namespace
		{APIVersion: "a/b/c", Kind: "Pod", Name: "x", Namespace: "p"}, // malformed apiVersion
	} {
		if _, err := f.lookup.Labels(context.Background(), ref); err == nil {
			t.Errorf("Labels(%+v): no error", ref)
		}
	}
	if n := f.gets(); n != 0 {
		t.Errorf("%d GETs for references that cannot name an object, want 0", n)
	}
	f.expectStats(Stats{Errors: 4})
}

func TestGroupIsPartOfTheKey(t *testing.T) {
	a := schema.GroupVersionResource{Group: "a.example.com", Version: "v1", Resource: "clusters"}
	b := schema.GroupVersionResource{Group: "b.example.com", Version: "v1", Resource: "clusters"}
	mapper := testMapper()
	mapper.Add(a.GroupVersion().WithKind("Cluster"), meta.RESTScopeNamespace)
	mapper.Add(b.GroupVersion().WithKind("Cluster"), meta.RESTScopeNamespace)
	f := newFixture(t, Config{Mapper: mapper},
		object(a, "Cluster", "ns", "c", "", map[string]string{"from": "a"}),
		object(b, "Cluster", "ns", "c", "", map[string]string{"from": "b"}))
	f.expect(corev1.ObjectReference{APIVersion: "a.example.com/v1", Kind: "Cluster", Namespace: "ns", Name: "c"}, map[string]string{"from": "a"}, 1)
	f.expect(corev1.ObjectReference{APIVersion: "b.example.com/v1", Kind: "Cluster", Namespace: "ns", Name: "c"}, map[string]string{"from": "b"}, 2)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, Config{Registerer: reg}, object(podGVR, "Pod", "prod", "web-0", "", map[string]string{"team": "a"}))
	ctx := context.Background()
	f.lookup.Labels(ctx, podRef("prod", "web-0", ""))         // miss
	f.lookup.Labels(ctx, podRef("prod", "web-0", ""))         // hit
	f.lookup.Labels(ctx, podRef("prod", "web-0", ""))         // hit
	f.lookup.Labels(ctx, podRef("prod", "gone", ""))          // not found
	f.lookup.Labels(ctx, corev1.ObjectReference{Kind: "Pod"}) // error
	want := `
# HELP herald_object_labels_lookups_total Lookups of the labels of an event's involved object, by result: "hit" (from the cache), "miss" (read from the API server), "not_found" (the object is gone; cached as no labels), "error" (no answer; a missing RBAC permission is logged by the caller).
# TYPE herald_object_labels_lookups_total counter
herald_object_labels_lookups_total{result="error"} 1
herald_object_labels_lookups_total{result="hit"} 2
herald_object_labels_lookups_total{result="miss"} 1
herald_object_labels_lookups_total{result="not_found"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "herald_object_labels_lookups_total"); err != nil {
		t.Error(err)
	}

	// A second Lookup on the same registry is refused, and leaves the first one's metrics.
	if _, err := New(Config{Metadata: f.client, Mapper: testMapper(), Registerer: reg}); err == nil {
		t.Error("New with an already used registry: no error")
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 4 {
		t.Errorf("%d series (err %v) after the refused registration, want 4", n, err)
	}
}

func TestNewRequiresClients(t *testing.T) {
	if _, err := New(Config{Mapper: testMapper()}); err == nil {
		t.Error("New without Metadata: no error")
	}
	if _, err := New(Config{Metadata: metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())}); err == nil {
		t.Error("New without Mapper: no error")
	}
}

func BenchmarkLabelsHit(b *testing.B) {
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	client := metadatafake.NewSimpleMetadataClient(scheme)
	pod := object(podGVR, "Pod", "prod", "web-7d9f8c6b5-x2x4q", "6f1c2f9e-3b1e-4c8e-9a57-0c1d2e3f4a5b", map[string]string{"app": "web", "team": "payments"})
	if err := client.Tracker().Create(podGVR, pod, "prod"); err != nil {
		b.Fatal(err)
	}
	l, err := New(Config{Metadata: client, Mapper: testMapper(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	ref := podRef("prod", pod.Name, pod.UID)
	ctx := context.Background()
	if _, err := l.Labels(ctx, ref); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Labels(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
	if s := l.Stats(); s.Misses != 1 {
		b.Fatal(fmt.Sprintf("%+v: the benchmark did not measure hits", s))
	}
}
