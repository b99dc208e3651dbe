// Package podrestart is herald's pod restart source: it watches pods, and when a container's
// restartCount rises it emits one ContainerRestarted event explaining the restart (last
// termination state, previous and current log tails, the pod's recent events, its workload),
// throttled per container, into the same pipeline as the event source.
package podrestart

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/heraldproject/herald/core"
)

// lastApplied is an annotation kubectl writes that can be as large as the pod spec; herald
// never reads it.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Source watches pods and reports container restarts. Create it with New, start it with Run.
type Source struct {
	cfg       Config
	factories []informers.SharedInformerFactory
	synced    []cache.InformerSynced
	throttle  *throttle
	owners    *owners
	logs      *logFetcher
	work      chan *report
	ignore    map[string]bool
	running   atomic.Bool

	countsMu sync.Mutex
	counts   map[string]int32 // "podUID/container" -> last restart count seen, above 0
}

// New checks cfg and prepares the pod informers; nothing is contacted before Run.
func New(cfg Config) (*Source, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	s := &Source{
		cfg:      cfg,
		throttle: newThrottle(cfg.Repeat, cfg.Clock),
		owners:   newOwners(cfg.Client, cfg.Metrics),
		logs: &logFetcher{client: cfg.Client, tailLines: cfg.TailLines, limitBytes: cfg.LimitBytes,
			timeout: cfg.LogTimeout, metrics: cfg.Metrics},
		work:   make(chan *report, cfg.Queue),
		ignore: map[string]bool{},
		counts: map[string]int32{},
	}
	for _, c := range cfg.IgnoreContainers {
		s.ignore[c] = true
	}
	namespaces := cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		f := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
			informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = cfg.LabelSelector }),
			informers.WithTransform(stripPod))
		inf := f.Core().V1().Pods().Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
			// A pod seen for the first time has no restart herald saw happen, unless a
			// checkpoint (Seed) says what its counts were when the last run stopped.
			AddFunc:    s.onAdd,
			UpdateFunc: s.onUpdate,
			DeleteFunc: s.onDelete,
		}); err != nil {
			return nil, fmt.Errorf("pod restarts: %v", err)
		}
		s.factories = append(s.factories, f)
		s.synced = append(s.synced, inf.HasSynced)
	}
	return s, nil
}

// stripPod drops what herald never reads from cached pods: managedFields and kubectl's
// last-applied annotation.
func stripPod(obj any) (any, error) {
	if pod, ok := obj.(*corev1.Pod); ok {
		pod.ManagedFields = nil
		if _, ok := pod.Annotations[lastApplied]; ok {
			delete(pod.Annotations, lastApplied)
		}
	}
	return obj, nil
}

// Run watches pods and reports restarts until ctx is done. Call it once.
func (s *Source) Run(ctx context.Context) {
	if !s.running.CompareAndSwap(false, true) {
		glog.Errorf("pod restarts: Run called twice; the second call does nothing")
		return
	}
	scope := "every namespace"
	if len(s.cfg.Namespaces) > 0 {
		scope = "namespaces " + strings.Join(s.cfg.Namespaces, ", ")
	}
	if s.cfg.LabelSelector != "" {
		scope += " (pods matching " + s.cfg.LabelSelector + ")"
	}
	glog.Infof("pod restarts: watching pods in %s; restarts before now are not reported; repeats of one container within %s are folded; log tails: %d lines / %d bytes, %d at a time",
		scope, s.cfg.Repeat, s.cfg.TailLines, s.cfg.LimitBytes, s.cfg.LogConcurrency)
	var wg sync.WaitGroup
	for range s.cfg.LogConcurrency {
		wg.Go(func() { s.worker(ctx) })
	}
	for _, f := range s.factories {
		f.Start(ctx.Done())
	}
	<-ctx.Done()
	for _, f := range s.factories {
		f.Shutdown()
	}
	wg.Wait()
	glog.Infof("pod restarts: stopped")
}

// Ready reports whether every pod informer has its initial list.
func (s *Source) Ready() bool {
	for _, synced := range s.synced {
		if !synced() {
			return false
		}
	}
	return true
}

// onAdd records a pod's counts; in the initial list, with a Seed, it reports what rose since the
// checkpoint.
func (s *Source) onAdd(obj any, isInInitialList bool) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	defer s.record(pod)
	if !isInInitialList || s.cfg.Seed == nil {
		return
	}
	if !s.cfg.SeedTime.IsZero() && pod.CreationTimestamp.After(s.cfg.SeedTime) {
		// Created while herald was down: every restart of it happened meanwhile.
		s.report(pod, detect(withCounts(pod, nil), pod))
		return
	}
	s.report(pod, detect(withCounts(pod, s.cfg.Seed), pod))
}

// withCounts is pod with each container's restart count as seed says (0 when seed has none).
func withCounts(pod *corev1.Pod, seed map[string]int32) *corev1.Pod {
	older := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: pod.UID}}
	older.Status.InitContainerStatuses = seeded(pod, pod.Status.InitContainerStatuses, seed)
	older.Status.ContainerStatuses = seeded(pod, pod.Status.ContainerStatuses, seed)
	older.Status.EphemeralContainerStatuses = seeded(pod, pod.Status.EphemeralContainerStatuses, seed)
	return older
}

func seeded(pod *corev1.Pod, statuses []corev1.ContainerStatus, seed map[string]int32) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, len(statuses))
	for i, st := range statuses {
		out[i] = corev1.ContainerStatus{Name: st.Name, RestartCount: seed[countKey(pod, st.Name)]}
	}
	return out
}

func countKey(pod *corev1.Pod, container string) string { return string(pod.UID) + "/" + container }

// record remembers pod's restart counts above 0, for the checkpoint (Restarts).
func (s *Source) record(pod *corev1.Pod) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, st := range list {
			if st.RestartCount > 0 {
				s.counts[countKey(pod, st.Name)] = st.RestartCount
			}
		}
	}
}

// Restarts is the last restart count seen per container ("podUID/container"; counts above 0)
// of the pods that exist: what a checkpoint saves, and a later run gets back as Config.Seed.
func (s *Source) Restarts() map[string]int32 {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	out := make(map[string]int32, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

func (s *Source) onUpdate(oldObj, newObj any) {
	older, ok1 := oldObj.(*corev1.Pod)
	newer, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	s.report(newer, detect(older, newer))
	s.record(newer)
}

// report throttles and queues the restarts of newer for enrichment.
func (s *Source) report(newer *corev1.Pod, restarts []restart) {
	for _, r := range restarts {
		if s.ignore[r.container] {
			continue
		}
		n := int(r.to - r.from)
		s.cfg.Metrics.detected.Add(float64(n))
		ok, folded := s.throttle.admit(podKey{newer.Namespace, newer.Name}, r.container, n)
		if !ok {
			s.cfg.Metrics.throttled.Add(float64(n))
			glog.V(2).Infof("pod restarts: %s/%s container %s restarted (count %d); folded into the next report", newer.Namespace, newer.Name, r.container, r.to)
			continue
		}
		rep := &report{pod: newer, r: r, folded: folded, detected: s.cfg.Clock.Now()}
		select {
		case s.work <- rep:
		default:
			// Too many restarts at once: report this one now, without logs, rather than wait.
			s.cfg.Metrics.unenriched.Inc()
			pr := s.basic(rep)
			pr.LogNote = fmt.Sprintf("logs not fetched: %d restarts were already waiting for enrichment", cap(s.work))
			s.emit(rep, pr)
		}
	}
}

func (s *Source) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		s.throttle.forgetPod(pod.Namespace, pod.Name)
		prefix := string(pod.UID) + "/"
		s.countsMu.Lock()
		for k := range s.counts {
			if strings.HasPrefix(k, prefix) {
				delete(s.counts, k)
			}
		}
		s.countsMu.Unlock()
	}
}

func (s *Source) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case rep := <-s.work:
			s.emit(rep, s.enrich(ctx, rep))
		}
	}
}

func (s *Source) emit(rep *report, pr *core.PodRestart) {
	s.cfg.Metrics.reported.Inc()
	s.cfg.Emit(newEvent(s.cfg.Cluster, rep, pr))
}

// basic is the enrichment that needs no API call.
func (s *Source) basic(rep *report) *core.PodRestart {
	pod, st := rep.pod, rep.r.status
	pr := &core.PodRestart{
		Cluster:       s.cfg.Cluster,
		Namespace:     pod.Namespace,
		Pod:           pod.Name,
		Container:     rep.r.container,
		ContainerKind: rep.r.kind,
		Node:          pod.Spec.NodeName,
		RestartCount:  rep.r.to,
		Folded:        rep.folded,
	}
	if t := st.LastTerminationState.Terminated; t != nil {
		pr.LastState = t.DeepCopy()
	}
	if s.cfg.Events != nil {
		pr.RecentEvents = s.cfg.Events.RecentEvents(pod.Namespace, pod.Name)
	}
	return pr
}

// enrich adds the workload and the log tails to the basic enrichment. The two logs are fetched
// at the same time.
func (s *Source) enrich(ctx context.Context, rep *report) *core.PodRestart {
	pr := s.basic(rep)
	var prevNote, curNote string
	var wg sync.WaitGroup
	if s.cfg.NoLogs {
		pr.OwnerKind, pr.OwnerName = s.owners.resolve(ctx, rep.pod)
		return pr
	}
	wg.Go(func() { pr.PreviousLog, prevNote = s.logs.fetch(ctx, rep.pod, rep.r.container, true) })
	if w := rep.r.status.State.Waiting; w != nil {
		// Asking would only earn a 400: the new container has not started yet.
		curNote = fmt.Sprintf("current log unavailable: the container is waiting (%s)", w.Reason)
	} else {
		wg.Go(func() { pr.CurrentLog, curNote = s.logs.fetch(ctx, rep.pod, rep.r.container, false) })
	}
	pr.OwnerKind, pr.OwnerName = s.owners.resolve(ctx, rep.pod)
	wg.Wait()
	var notes []string
	for _, n := range []string{prevNote, curNote} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	pr.LogNote = strings.Join(notes, "; ")
	return pr
}
