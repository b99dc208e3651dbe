package routes

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/heraldproject/herald/routes/api"
)

// The resources, as the dynamic client names them.
var (
	ReceiverResource = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "receivers"}
	RouteResource    = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "routes"}
)

// Counts reads what a Receiver's sink has delivered, failed and dropped (core.Metrics.SinkCounts).
type Counts func(sinkID string) (delivered, failed, dropped int64)

// Resources serves the Receiver and Route resources: every change is applied to the Manager
// within a moment (changes are gathered for Settle), and so is every change to a Secret a
// Receiver names (a rotated credential); every object's status says whether it works, and a
// resync every Resync applies again and refreshes the counts.
type Resources struct {
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	Manager   *Manager
	Counts    Counts
	// Secrets, when set, is also the Manager's Objects: Start runs it with the other informers,
	// and a change to a Secret a Receiver names is applied. Nil: no Secret is watched.
	Secrets *SecretInformer
	// Settle gathers changes that come together (kubectl apply -f dir/) into one Apply
	// (default 200 ms); Resync is the period of a full Apply and status refresh (default 30 s).
	Settle time.Duration
	Resync time.Duration
	// StatusEvery is how often the counts in status are refreshed (default 10 s).
	StatusEvery time.Duration

	factory   dynamicinformer.DynamicSharedInformerFactory
	receivers cache.GenericLister
	routes    cache.GenericLister
	changed   chan struct{}

	mu       sync.Mutex
	last     []Status
	writable bool
	// said is the last not-ready message logged per object, so each is logged once.
	said map[string]string
}

// Start checks that the CRDs are installed, starts the informers and applies what they list,
// so the Receivers of the moment are in the pipeline before it starts (and resume from the
// checkpoint). Status is written only after EnableStatus (the leader writes, standbys do
// not).
func (r *Resources) Start(ctx context.Context) error {
	if r.Settle <= 0 {
		r.Settle = 200 * time.Millisecond
	}
	if r.Resync <= 0 {
		r.Resync = 30 * time.Second
	}
	if r.StatusEvery <= 0 {
		r.StatusEvery = 10 * time.Second
	}
	r.said = map[string]string{}
	if r.Discovery != nil {
		list, err := r.Discovery.ServerResourcesForGroupVersion(api.APIVersion)
		if err != nil {
			return fmt.Errorf("--routes: the API server does not serve %s (%v): install the CRDs (kubectl apply -f deploy/kubernetes/crds.yaml; the Helm chart installs them) or drop --routes", api.APIVersion, err)
		}
		have := map[string]bool{}
		for _, res := range list.APIResources {
			have[res.Name] = true
		}
		for _, want := range []string{"receivers", "routes"} {
			if !have[want] {
				return fmt.Errorf("--routes: the API server serves %s without %s: install both CRDs (deploy/kubernetes/crds.yaml)", api.APIVersion, want)
			}
		}
	}
	r.changed = make(chan struct{}, 1)
	r.factory = dynamicinformer.NewDynamicSharedInformerFactory(r.Dynamic, 0)
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { r.poke() },
		UpdateFunc: func(old, cur any) {
			// herald's own status writes change no generation: they need no Apply (which
			// resolves every Receiver again).
			o, ok1 := old.(*unstructured.Unstructured)
			n, ok2 := cur.(*unstructured.Unstructured)
			if ok1 && ok2 && o.GetGeneration() == n.GetGeneration() {
				return
			}
			r.poke()
		},
		DeleteFunc: func(any) { r.poke() },
	}
	ri := r.factory.ForResource(ReceiverResource)
	rt := r.factory.ForResource(RouteResource)
	if _, err := ri.Informer().AddEventHandler(poke); err != nil {
		return err
	}
	if _, err := rt.Informer().AddEventHandler(poke); err != nil {
		return err
	}
	r.receivers, r.routes = ri.Lister(), rt.Lister()
	if r.Secrets != nil {
		changed := func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if s, ok := obj.(*corev1.Secret); ok && r.named(s.Namespace, s.Name) {
				r.poke()
			}
		}
		if _, err := r.Secrets.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    changed,
			UpdateFunc: func(_, cur any) { changed(cur) },
			DeleteFunc: changed,
		}); err != nil {
			return err
		}
	}
	r.factory.Start(ctx.Done())
	if r.Secrets != nil {
		go r.Secrets.informer.Run(ctx.Done())
	}
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), ri.Informer().HasSynced, rt.Informer().HasSynced) {
		return fmt.Errorf("--routes: could not list Receivers and Routes within a minute (RBAC: herald's ClusterRole needs list and watch on receivers and routes in group %s)", api.Group)
	}
	if r.Secrets != nil && !cache.WaitForCacheSync(syncCtx.Done(), r.Secrets.informer.HasSynced) {
		return fmt.Errorf("--routes: could not list Secrets within a minute (RBAC: herald's ClusterRole needs list and watch on secrets, for Receivers' secretRef)")
	}
	r.apply()
	return nil
}

// named reports whether a Receiver names Secret namespace/name in its spec.secretRef: a change
// to any other Secret needs no Apply.
func (r *Resources) named(namespace, name string) bool {
	recvs, _ := r.receivers.ByNamespace(namespace).List(labels.Everything())
	for _, o := range recvs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if ref, _, _ := unstructured.NestedString(u.Object, "spec", "secretRef", "name"); ref == name {
			return true
		}
	}
	return false
}

func (r *Resources) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// EnableStatus lets Run write status (this replica leads).
func (r *Resources) EnableStatus() {
	r.mu.Lock()
	r.writable = true
	r.mu.Unlock()
	r.poke()
}

// Run applies changes and writes status until ctx ends.
func (r *Resources) Run(ctx context.Context) {
	resync := time.NewTicker(r.Resync)
	defer resync.Stop()
	counts := time.NewTicker(r.StatusEvery)
	defer counts.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-counts.C:
			r.writeStatus(ctx)
			continue
		case <-r.changed:
			// Gather what comes together.
			t := time.NewTimer(r.Settle)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			select {
			case <-r.changed:
			default:
			}
		case <-resync.C:
		}
		r.apply()
		r.writeStatus(ctx)
	}
}

// snapshot converts what the informers hold.
func (r *Resources) snapshot() (Snapshot, []Status) {
	var snap Snapshot
	var bad []Status
	recvs, _ := r.receivers.List(labels.Everything())
	for _, o := range recvs {
		var x api.Receiver
		if err := fromUnstructured(o, &x); err != nil {
			bad = append(bad, badObject("Receiver", o, err))
			continue
		}
		snap.Receivers = append(snap.Receivers, x)
	}
	rts, _ := r.routes.List(labels.Everything())
	for _, o := range rts {
		var x api.Route
		if err := fromUnstructured(o, &x); err != nil {
			bad = append(bad, badObject("Route", o, err))
			continue
		}
		snap.Routes = append(snap.Routes, x)
	}
	sort.Slice(snap.Receivers, func(i, j int) bool {
		return snap.Receivers[i].Namespace+"/"+snap.Receivers[i].Name < snap.Receivers[j].Namespace+"/"+snap.Receivers[j].Name
	})
	return snap, bad
}

func (r *Resources) apply() {
	snap, bad := r.snapshot()
	statuses, err := r.Manager.Apply(snap, false)
	if err != nil {
		glog.Errorf("routes: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = append(statuses, bad...)
	seen := map[string]bool{}
	for _, s := range r.last {
		k := s.Kind + " " + s.Namespace + "/" + s.Name
		seen[k] = true
		if s.Ready {
			delete(r.said, k)
			continue
		}
		if r.said[k] != s.Message {
			r.said[k] = s.Message
			glog.Warningf("%s is not ready (%s): %s", k, s.Reason, s.Message)
		}
	}
	for k := range r.said {
		if !seen[k] {
			delete(r.said, k)
		}
	}
}

// writeStatus writes each object's status where it changed.
func (r *Resources) writeStatus(ctx context.Context) {
	r.mu.Lock()
	statuses, writable := r.last, r.writable
	r.mu.Unlock()
	if !writable {
		return
	}
	for _, s := range statuses {
		lister, gvr := r.receivers, ReceiverResource
		if s.Kind == "Route" {
			lister, gvr = r.routes, RouteResource
		}
		obj, err := lister.ByNamespace(s.Namespace).Get(s.Name)
		if err != nil {
			continue // deleted meanwhile
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		var cur api.Status
		if st, ok := u.Object["status"].(map[string]any); ok {
			_ = runtime.DefaultUnstructuredConverter.FromUnstructured(st, &cur)
		}
		next := cur
		next.Conditions = append([]metav1.Condition(nil), cur.Conditions...)
		next.ObservedGeneration = u.GetGeneration()
		status := metav1.ConditionFalse
		if s.Ready {
			status = metav1.ConditionTrue
		}
		apimeta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: api.ConditionReady, Status: status,
			ObservedGeneration: u.GetGeneration(), Reason: s.Reason, Message: s.Message})
		switch {
		case s.SinkID != "" && r.Counts != nil:
			next.Delivered, next.Failed, next.Dropped = r.Counts(s.SinkID)
		case s.Kind == "Route":
			next.Delivered, next.Failed, next.Dropped = r.Manager.RouteCounts(s.Namespace, s.Name)
		}
		if reflect.DeepEqual(cur, next) {
			continue
		}
		st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&next)
		if err != nil {
			continue
		}
		u = u.DeepCopy()
		u.Object["status"] = st
		if _, err := r.Dynamic.Resource(gvr).Namespace(s.Namespace).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
			// A conflict (the object changed meanwhile) is written again at the next pass.
			glog.V(1).Infof("%s %s/%s: writing status: %v", s.Kind, s.Namespace, s.Name, err)
		}
	}
}

func fromUnstructured(o runtime.Object, into any) error {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("not an unstructured object")
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

func badObject(kind string, o runtime.Object, err error) Status {
	s := Status{Kind: kind, Reason: "InvalidSpec", Message: err.Error()}
	if u, ok := o.(*unstructured.Unstructured); ok {
		s.Namespace, s.Name, s.Generation = u.GetNamespace(), u.GetName(), u.GetGeneration()
	}
	return s
}
