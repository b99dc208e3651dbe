// Package objlabels answers "what are the labels of the object this event is about". A
// Kubernetes Event names its involved object (apiVersion, kind, namespace, name, uid) but does
// not carry the object's labels, and a route's objectSelector matches on exactly those labels.
//
// A Lookup reads only the object's metadata (client-go's metadata client, so a large object such
// as a ConfigMap or a custom resource with a big spec costs no more than a Pod), caches the
// labels for a short time because events come in bursts about the same few objects, shares one
// request between concurrent lookups of the same object, and keeps at most a fixed number of
// entries so that a cluster with millions of objects cannot grow herald's memory without bound.
//
// RBAC: herald's ServiceAccount needs the verb get on every resource whose objects a route
// selects on (pods, deployments in apps, a custom resource's plural in its group), plus the
// discovery every authenticated user has. A missing permission is not fatal: Labels returns a
// *ForbiddenError that names the rule to add, and the caller decides how to report it.
package objlabels

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/clock"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the Config fields left zero.
const (
	// DefaultTTL is how long labels are trusted. Labels change rarely, and a minute bounds how
	// long a relabelled object keeps being routed by its old labels.
	DefaultTTL = time.Minute
	// DefaultMaxEntries bounds the cache: an entry for an object with four labels costs under
	// 900 bytes (TestMemoryPerEntry), so a full cache stays under 10 MiB.
	DefaultMaxEntries = 10000
	// DefaultMapperResetInterval is the least time between two resets of the RESTMapper. A reset
	// makes the next mapping re-read discovery, so an event about a kind that really does not
	// exist must not trigger one per event.
	DefaultMapperResetInterval = 30 * time.Second
	// DefaultTimeout bounds one fetch (mapping and GET) shared by every caller waiting for it.
	DefaultTimeout = 10 * time.Second
)

// Config is what New needs. Metadata and Mapper are required; the rest have defaults.
type Config struct {
	// Metadata reads objects' metadata only (k8s.io/client-go/metadata): the API server sends
	// a PartialObjectMetadata, never the object's spec or status.
	Metadata metadata.Interface
	// Mapper turns an involved object's apiVersion and kind into the resource to GET. A
	// restmapper.DeferredDiscoveryRESTMapper over a memory-cached discovery client is the usual
	// choice: if the mapper can be reset (meta.ResettableRESTMapper), a kind it does not know
	// makes the Lookup reset it (at most every MapperResetInterval) and try again, so a custom
	// resource whose CRD was created after herald started is found.
	Mapper meta.RESTMapper
	// TTL is how long fetched labels (or the fact that the object is gone) are reused. Zero
	// means DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds the cache; the least recently used entry is evicted first. Zero means
	// DefaultMaxEntries.
	MaxEntries int
	// MapperResetInterval is the least time between two Mapper resets. Zero means
	// DefaultMapperResetInterval.
	MapperResetInterval time.Duration
	// Timeout bounds one fetch. It is not taken from the caller's context, because callers
	// share the fetch: one caller giving up must not fail the others. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Clock decides when entries expire and when the mapper may be reset; nil is the real
	// clock. Tests pass a fake clock.
	Clock clock.PassiveClock
	// Registerer, when not nil, receives herald_object_labels_lookups_total{result}.
	Registerer prometheus.Registerer
}

// Lookup finds the labels of the objects events are about. It is safe for concurrent use and
// holds no global state: create one per API server.
type Lookup struct {
	md         metadata.Interface
	mapper     meta.RESTMapperWithContext
	reset      func(context.Context) // nil when the mapper cannot be reset
	ttl        time.Duration
	max        int
	resetEvery time.Duration
	timeout    time.Duration
	clock      clock.PassiveClock

	mu        sync.Mutex
	entries   map[key]*list.Element // values are *entry
	lru       list.List             // most recently used at the front
	lastReset time.Time

	flight singleflight.Group
	stats  counters
}

// New returns a Lookup for cfg. It fails when Metadata or Mapper is missing, or when the
// metrics cannot be registered (already registered by another Lookup on the same registry).
func New(cfg Config) (*Lookup, error) {
	if cfg.Metadata == nil {
		return nil, errors.New("objlabels: Config.Metadata is required")
	}
	if cfg.Mapper == nil {
		return nil, errors.New("objlabels: Config.Mapper is required")
	}
	l := &Lookup{
		md:         cfg.Metadata,
		mapper:     meta.ToRESTMapperWithContext(cfg.Mapper),
		ttl:        cfg.TTL,
		max:        cfg.MaxEntries,
		resetEvery: cfg.MapperResetInterval,
		timeout:    cfg.Timeout,
		clock:      cfg.Clock,
		entries:    map[key]*list.Element{},
	}
	if l.ttl <= 0 {
		l.ttl = DefaultTTL
	}
	if l.max <= 0 {
		l.max = DefaultMaxEntries
	}
	if l.resetEvery <= 0 {
		l.resetEvery = DefaultMapperResetInterval
	}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	if l.clock == nil {
		l.clock = clock.RealClock{}
	}
	// Prefer the context-aware reset, so that the discovery it triggers can be cancelled.
	switch m := cfg.Mapper.(type) {
	case meta.ResettableRESTMapperWithContext:
		l.reset = m.ResetWithContext
	case meta.ResettableRESTMapper:
		l.reset = func(context.Context) { m.Reset() }
	}
	if cfg.Registerer != nil {
		if err := l.stats.register(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// key identifies a cached object. It holds the API group as well as the kind, because two
// groups may define the same kind (custom resources named Cluster, Certificate, Backup...). The
// version is left out: every version of an object has the same labels.
type key struct {
	namespace, group, kind, name string
}

func keyOf(ref *corev1.ObjectReference) key {
	group, _, ok := strings.Cut(ref.APIVersion, "/")
	if !ok {
		group = "" // "v1" or "": the core group
	}
	return key{namespace: ref.Namespace, group: group, kind: ref.Kind, name: ref.Name}
}

// String is the singleflight key; it is built only on a miss.
func (k key) String() string {
	return k.namespace + "/" + k.group + "/" + k.kind + "/" + k.name
}

// entry is one cached answer.
type entry struct {
	key    key
	labels map[string]string
	// uid is the UID of the object that was read; empty when there was none (NotFound).
	uid types.UID
	// staleUID is a UID that was asked for and found not to be the current object's (an event
	// about an earlier object of the same name, or about a deleted one). Remembering it keeps
	// the late events of a replaced object from refetching on every lookup.
	staleUID types.UID
	// err is a cached answer that is an error: only a Forbidden, which does not heal by itself.
	err     error
	expires time.Time
}

// answers reports whether e may answer for an object with this UID. An empty UID (a reference
// that does not say) is answered by any entry; a different UID means the object may have been
// recreated since e was read, so it is read again.
func (e *entry) answers(uid types.UID) bool {
	return uid == "" || uid == e.uid || uid == e.staleUID
}

// outcome is how a fetch ended; it picks the metric a lookup counts.
type outcome int

const (
	outcomeFound outcome = iota
	outcomeNotFound
	outcomeError
)

type fetched struct {
	labels  map[string]string
	outcome outcome
}

// Labels returns the labels of the object ref names, as events carry it in involvedObject.
//
// The answer comes from the cache when an entry for the same namespace, group, kind and name
// is younger than the TTL and was read for the same object (ref.UID is empty, equal to the
// cached object's UID, or already known to be an earlier object's). Otherwise the object's
// metadata is read; concurrent callers for the same object share that one request.
//
// An object that does not exist (events often outlive the objects they are about) has no
// labels: the result is empty, the error nil, and the absence is cached for the TTL. A request
// RBAC denies returns a *ForbiddenError naming the missing permission, cached for the TTL as
// well. Other errors (timeouts, unknown kinds, an unavailable API server) are returned and not
// cached.
//
// An event about an earlier object of the same name (ref.UID no longer current) gets the
// labels of the object that has that name now: they usually belong to the same workload, and
// the earlier object's labels can no longer be read.
//
// The returned map is shared with the cache and with other callers: it must not be modified.
func (l *Lookup) Labels(ctx context.Context, ref corev1.ObjectReference) (map[string]string, error) {
	if ref.Kind == "" || ref.Name == "" {
		l.stats.errors.Add(1)
		return nil, fmt.Errorf("objlabels: the object reference has no kind or name (kind %q, name %q)", ref.Kind, ref.Name)
	}
	k := keyOf(&ref)
	if labels, err, ok := l.cached(k, ref.UID); ok {
		if err != nil {
			l.stats.errors.Add(1)
		} else {
			l.stats.hits.Add(1)
		}
		return labels, err
	}

	return l.load(ctx, k, ref)
}

// load reads the object for a lookup the cache could not answer. It is a function of its own so
// that only a miss pays for what the shared fetch's closure captures: were ref captured in
// Labels, every call, hits included, would copy it to the heap.
//
// The fetch runs under singleflight in a goroutine of its own, so every caller, the first
// included, can stop waiting when its own context ends without failing the others.
func (l *Lookup) load(ctx context.Context, k key, ref corev1.ObjectReference) (map[string]string, error) {
	ch := l.flight.DoChan(k.String(), func() (any, error) {
		return l.fetch(ctx, k, ref)
	})
	select {
	case r := <-ch:
		f, _ := r.Val.(fetched)
		switch {
		case r.Err != nil:
			l.stats.errors.Add(1)
			return nil, r.Err
		case f.outcome == outcomeNotFound:
			l.stats.notFound.Add(1)
		default:
			l.stats.misses.Add(1)
		}
		return f.labels, nil
	case <-ctx.Done():
		l.stats.errors.Add(1)
		return nil, fmt.Errorf("objlabels: labels of %s %s: %w", ref.Kind, objectName(ref.Namespace, ref.Name), context.Cause(ctx))
	}
}

// cached returns the cached answer for k if it is fresh and answers for uid.
func (l *Lookup) cached(k key, uid types.UID) (map[string]string, error, bool) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.entries[k]
	if !ok {
		return nil, nil, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) || !e.answers(uid) {
		return nil, nil, false
	}
	l.lru.MoveToFront(el)
	return e.labels, e.err, true
}

// fetch maps ref to its resource, reads the object's metadata and caches the answer.
func (l *Lookup) fetch(parent context.Context, k key, ref corev1.ObjectReference) (fetched, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), l.timeout)
	defer cancel()

	m, err := l.mapping(ctx, &ref)
	if err != nil {
		return fetched{outcome: outcomeError}, err
	}
	resource := l.md.Resource(m.Resource)
	var get metadata.ResourceInterface = resource
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if ref.Namespace == "" {
			return fetched{outcome: outcomeError}, fmt.Errorf("objlabels: %s %q is namespaced but the reference has no namespace", ref.Kind, ref.Name)
		}
		get = resource.Namespace(ref.Namespace)
	}
	// A cluster-scoped object is read without a namespace even if the reference has one
	// (some event writers set it), and cached under the reference's key all the same.

	obj, err := get.Get(ctx, ref.Name, metav1.GetOptions{})
	e := &entry{key: k}
	var f fetched
	switch {
	case err == nil:
		e.labels, e.uid = obj.Labels, obj.UID
		f = fetched{labels: obj.Labels, outcome: outcomeFound}
	case apierrors.IsNotFound(err):
		f = fetched{outcome: outcomeNotFound}
	case apierrors.IsForbidden(err):
		e.err = &ForbiddenError{
			Verb:      "get",
			Group:     m.Resource.Group,
			Resource:  m.Resource.Resource,
			Namespace: namespaceIf(m, ref.Namespace),
			Name:      ref.Name,
			Err:       err,
		}
		f = fetched{outcome: outcomeError}
	default:
		return fetched{outcome: outcomeError}, fmt.Errorf("objlabels: get %s %s: %w", m.Resource.GroupResource(), objectName(namespaceIf(m, ref.Namespace), ref.Name), err)
	}
	if ref.UID != "" && ref.UID != e.uid {
		e.staleUID = ref.UID
	}
	l.store(e)
	return f, e.err
}

func namespaceIf(m *meta.RESTMapping, ns string) string {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return ns
	}
	return ""
}

func objectName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// store caches e, replacing any entry for the same key, and evicts the least recently used
// entries beyond MaxEntries.
func (l *Lookup) store(e *entry) {
	e.expires = l.clock.Now().Add(l.ttl)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[e.key]; ok {
		el.Value = e
		l.lru.MoveToFront(el)
		return
	}
	l.entries[e.key] = l.lru.PushFront(e)
	for l.lru.Len() > l.max {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.entries, oldest.Value.(*entry).key)
	}
}

// Len is the number of cached entries, fresh or expired.
func (l *Lookup) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// mapping finds the resource for ref's apiVersion and kind. When the mapper does not know the
// kind, it is reset (if it can be, and was not reset within MapperResetInterval) and asked
// again: the kind may belong to a CRD created after the mapper read discovery.
func (l *Lookup) mapping(ctx context.Context, ref *corev1.ObjectReference) (*meta.RESTMapping, error) {
	m, err := l.mapOnce(ctx, ref)
	if err != nil && meta.IsNoMatchError(err) && l.resetMapper(ctx) {
		m, err = l.mapOnce(ctx, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("objlabels: no API resource for kind %q in apiVersion %q: %w", ref.Kind, ref.APIVersion, err)
	}
	return m, nil
}

// mapOnce asks the mapper once, trying in turn:
//   - the group and version the reference gives;
//   - the same group in any version it serves, because an old event may name a version that
//     is no longer served (extensions/v1beta1), and labels do not depend on the version;
//   - with no apiVersion at all, the core group, then the mapper's guess from the kind's
//     lowercase name (its singular resource name), which finds "Deployment" in apps.
func (l *Lookup) mapOnce(ctx context.Context, ref *corev1.ObjectReference) (*meta.RESTMapping, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	if gv.Version != "" {
		m, err := l.mapper.RESTMappingWithContext(ctx, gk, gv.Version)
		if err == nil || !meta.IsNoMatchError(err) {
			return m, err
		}
	}
	m, err := l.mapper.RESTMappingWithContext(ctx, gk)
	if err == nil || !meta.IsNoMatchError(err) || ref.APIVersion != "" {
		return m, err
	}
	gvr, guessErr := l.mapper.ResourceForWithContext(ctx, schema.GroupVersionResource{Resource: strings.ToLower(ref.Kind)})
	if guessErr != nil {
		return nil, err // the core group's no-match: still an unknown kind, so a reset may help
	}
	return l.mapper.RESTMappingWithContext(ctx, schema.GroupKind{Group: gvr.Group, Kind: ref.Kind}, gvr.Version)
}

// resetMapper resets the mapper unless it cannot be reset or was reset within resetEvery, and
// reports whether it did.
func (l *Lookup) resetMapper(ctx context.Context) bool {
	if l.reset == nil {
		return false
	}
	now := l.clock.Now()
	l.mu.Lock()
	if !l.lastReset.IsZero() && now.Sub(l.lastReset) < l.resetEvery {
		l.mu.Unlock()
		return false
	}
	l.lastReset = now
	l.mu.Unlock()
	l.reset(ctx)
	l.stats.resets.Add(1)
	return true
}
