package template

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// ContentKey is the ConfigMap key that holds the template, as in kube-eventer.
const ContentKey = "content"

// watchStartTimeout bounds how long New waits for the ConfigMap watch to start.
const watchStartTimeout = 30 * time.Second

// startConfigMap reads the ConfigMap, compiles its template and starts watching it. For a
// kube-eventer template (Options.KubeEventer), a ConfigMap that cannot be used is a warning and
// Default stands in until it can.
func (b *Body) startConfigMap(ctx context.Context) error {
	b.cmNamespace, b.cmName = b.o.ConfigMapNamespace, b.o.ConfigMapName
	if b.cmNamespace == "" {
		b.cmNamespace = "default"
	}
	b.source = fmt.Sprintf("ConfigMap %s/%s, key %q", b.cmNamespace, b.cmName, ContentKey)
	if b.o.Kube == nil {
		err := fmt.Errorf("%s: custom_body_configmap=%s needs a Kubernetes client and none is configured; "+
			"give --source=kubernetes:... or use body_template instead", b.o.Owner, b.cmName)
		if b.lenient() {
			return b.fallBack(err)
		}
		return err
	}
	cm, err := b.o.Kube.CoreV1().ConfigMaps(b.cmNamespace).Get(ctx, b.cmName, metav1.GetOptions{})
	if err != nil {
		if !b.lenient() {
			return b.apiError("get", err)
		}
		if err := b.fallBack(b.apiError("get", err)); err != nil {
			return err
		}
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return nil // a watch would fail the same way; granting access needs a restart
		}
		return b.watch(ctx, false)
	}
	c, err := b.compileConfigMap(cm)
	if err != nil {
		if !b.lenient() {
			return fmt.Errorf("%s: %v", b.o.Owner, err)
		}
		if err := b.fallBack(fmt.Errorf("%s: %v", b.o.Owner, err)); err != nil {
			return err
		}
		b.lastRV = cm.ResourceVersion
		return b.watch(ctx, false)
	}
	b.cur.Store(c)
	b.lastRV = cm.ResourceVersion
	if err := b.watch(ctx, true); err != nil {
		if !b.lenient() {
			return err
		}
		// kube-eventer read the ConfigMap once; herald does the same when it may not watch it.
		b.o.Warnf("custom_body_configmap", "%v; kube-eventer read the ConfigMap once at start, and so does herald now: an edit takes effect after a restart", err)
		return nil
	}
	b.o.Metrics.init(b.o.SinkID)
	return nil
}

// lenient reports whether a ConfigMap that cannot be used is a warning (a kube-eventer template
// with a default to fall back to) rather than an error.
func (b *Body) lenient() bool {
	return b.o.KubeEventer && b.o.Default != "" && b.o.Warnf != nil
}

// fallBack puts Default in use in place of the ConfigMap, with a warning that says why.
func (b *Body) fallBack(why error) error {
	c, err := b.compile(b.o.Default)
	if err != nil {
		return fmt.Errorf("%s: the default body template %v", b.o.Owner, err)
	}
	c.fallback = true
	b.cur.Store(c)
	b.o.Warnf("custom_body_configmap", "%v; kube-eventer then sent its default body, and so does herald, switching to the ConfigMap's template as soon as it holds one that works (no restart needed)",
		strings.TrimPrefix(why.Error(), b.o.Owner+": "))
	return nil
}

// apiError explains a failed API call on the ConfigMap.
func (b *Body) apiError(verb string, err error) error {
	where := b.cmNamespace + "/" + b.cmName
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: ConfigMap %s (custom_body_configmap) does not exist; create it with the body template under data.%s, "+
			"or fix custom_body_configmap / custom_body_configmap_namespace", b.o.Owner, where, ContentKey)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: herald may not %s ConfigMap %s (custom_body_configmap): %v; "+
			"grant get,list,watch on configmaps in %s to herald's ServiceAccount (a Role and RoleBinding in that namespace)",
			b.o.Owner, verb, where, err, b.cmNamespace)
	}
	return fmt.Errorf("%s: cannot %s ConfigMap %s (custom_body_configmap): %v; check that the API server is reachable", b.o.Owner, verb, where, err)
}

// compileConfigMap compiles the template under ContentKey.
func (b *Body) compileConfigMap(cm *corev1.ConfigMap) (*compiled, error) {
	text, ok := cm.Data[ContentKey]
	if !ok {
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %q (its keys: [%s]); put the body template under data.%s, as kube-eventer expects",
			cm.Namespace, cm.Name, ContentKey, strings.Join(keys, " "), ContentKey)
	}
	c, err := b.compile(text)
	if err != nil {
		return nil, fmt.Errorf("%s %v", b.source, err)
	}
	return c, nil
}

// watch runs an informer on this one ConfigMap (a field selector on metadata.name). With wait, it
// waits until the informer has listed and its first watch is open, so a missing list or watch
// permission fails New instead of being retried in the background forever; without, it returns
// at once and the informer applies the ConfigMap when it appears.
func (b *Body) watch(parent context.Context, wait bool) error {
	ctx, cancel := context.WithCancel(parent)
	sel := fields.OneTermEqualSelector("metadata.name", b.cmName).String()
	cms := b.o.Kube.CoreV1().ConfigMaps(b.cmNamespace)
	start := newStartWatch()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = sel
			l, err := cms.List(ctx, opts)
			start.called("list", err)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = sel
			w, err := cms.Watch(ctx, opts)
			start.called("watch", err)
			return w, err
		},
	}
	_, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		// The wrapper lets a client that cannot stream the initial list (the fake clientset in
		// tests) fall back to list-then-watch.
		ListerWatcher: cache.ToListWatcherWithWatchListSemantics(lw, b.o.Kube),
		ObjectType:    &corev1.ConfigMap{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    b.onChange,
			UpdateFunc: func(_, obj any) { b.onChange(obj) },
			DeleteFunc: b.onDelete,
		},
	})
	b.stop = cancel
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		ctrl.RunWithContext(ctx)
	}()
	if !wait {
		return nil
	}

	timer := time.NewTimer(watchStartTimeout)
	defer timer.Stop()
	synced, watching := ctrl.HasSyncedChecker().Done(), start.watching
	for synced != nil || watching != nil {
		var err error
		select {
		case <-synced:
			synced = nil
		case <-watching:
			watching = nil
		case c := <-start.denied:
			err = b.apiError(c.verb, c.err)
		case <-ctx.Done():
			err = fmt.Errorf("%s: stopped before the watch of ConfigMap %s/%s started: %v", b.o.Owner, b.cmNamespace, b.cmName, ctx.Err())
		case <-timer.C:
			err = fmt.Errorf("%s: the watch of ConfigMap %s/%s did not start within %s; check that the API server is reachable",
				b.o.Owner, b.cmNamespace, b.cmName, watchStartTimeout)
		}
		if err != nil {
			b.Close()
			return err
		}
	}
	return nil
}

// startWatch reports, once, that the first watch opened, or that a list or watch was denied.
// Other errors are left to the reflector, which retries them.
type startWatch struct {
	once     sync.Once
	watching chan struct{}
	denied   chan deniedCall
}

type deniedCall struct {
	verb string
	err  error
}

func newStartWatch() *startWatch {
	return &startWatch{watching: make(chan struct{}), denied: make(chan deniedCall, 1)}
}

func (s *startWatch) called(verb string, err error) {
	switch {
	case err == nil && verb == "watch":
		s.once.Do(func() { close(s.watching) })
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		select {
		case s.denied <- deniedCall{verb, err}:
		default:
		}
	}
}

// onChange handles the ConfigMap being created or edited: a template that compiles and
// validates replaces the one in use; one that does not is refused and the last good one stays.
func (b *Body) onChange(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Name != b.cmName || cm.Namespace != b.cmNamespace {
		return // the fake clientset ignores field selectors
	}
	if cm.ResourceVersion != "" && cm.ResourceVersion == b.lastRV {
		return // a relist, or the object New already read (the fake clientset sets no versions)
	}
	b.lastRV = cm.ResourceVersion
	if cur := b.cur.Load(); !cur.fallback {
		if text, ok := cm.Data[ContentKey]; ok && text == cur.text {
			return // metadata-only change
		}
	}
	c, err := b.compileConfigMap(cm)
	if err != nil {
		glog.Warningf("%s: refused the edit of ConfigMap %s/%s (resourceVersion %s), the last good template stays in use: %v",
			b.o.Owner, b.cmNamespace, b.cmName, cm.ResourceVersion, err)
		b.o.Metrics.reload(b.o.SinkID, ReloadRejected)
		return
	}
	// Count before the swap: whoever renders with the new template finds the edit counted.
	b.o.Metrics.reload(b.o.SinkID, ReloadApplied)
	b.cur.Store(c)
	glog.Infof("%s: applied the edit of ConfigMap %s/%s (resourceVersion %s)", b.o.Owner, b.cmNamespace, b.cmName, cm.ResourceVersion)
}

// onDelete keeps the last good template when the ConfigMap is deleted.
func (b *Body) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Name != b.cmName || cm.Namespace != b.cmNamespace {
		return
	}
	glog.Warningf("%s: ConfigMap %s/%s was deleted; the last good template stays in use until it is created again",
		b.o.Owner, b.cmNamespace, b.cmName)
}
