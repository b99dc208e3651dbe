package kubernetes

import (
	"container/list"
	"slices"
	"sort"
	"sync"

	"github.com/heraldproject/herald/core"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podHistory keeps the last few events of each of the most recently active pods, so a restart
// report can show what happened to the pod (BackOff, Unhealthy, Killing, ...) without an API
// call. It is bounded twice: perPod events per pod, and maxPods pods (the least recently active
// pod is dropped first). Stored events are normalised copies (no managedFields) that nobody
// mutates; they are handed out as they are.
type podHistory struct {
	perPod  int
	maxPods int

	mu    sync.Mutex
	pods  map[podKey]*list.Element // of *podEvents
	order *list.List               // most recently active pod at the front
}

type podKey struct{ namespace, name string }

type podEvents struct {
	key    podKey
	events []*corev1.Event // at most perPod, unordered
}

func newPodHistory(perPod, maxPods int) *podHistory {
	return &podHistory{perPod: perPod, maxPods: maxPods, pods: map[podKey]*list.Element{}, order: list.New()}
}

func isPodEvent(ev *corev1.Event) bool {
	o := ev.InvolvedObject
	return o.Kind == "Pod" && o.Name != "" && (o.APIVersion == "" || o.APIVersion == "v1")
}

func podKeyOf(ev *corev1.Event) podKey {
	return podKey{ev.InvolvedObject.Namespace, ev.InvolvedObject.Name}
}

// put records ev (a Pod's event), replacing an earlier version with the same UID. When the pod
// already holds perPod events, the one that happened longest ago makes room.
func (h *podHistory) put(ev *corev1.Event) {
	k := podKeyOf(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	var p *podEvents
	if el, ok := h.pods[k]; ok {
		h.order.MoveToFront(el)
		p = el.Value.(*podEvents)
	} else {
		p = &podEvents{key: k}
		h.pods[k] = h.order.PushFront(p)
		for h.order.Len() > h.maxPods {
			last := h.order.Back()
			h.order.Remove(last)
			delete(h.pods, last.Value.(*podEvents).key)
		}
	}
	for i, e := range p.events {
		if e.UID == ev.UID {
			p.events[i] = ev
			return
		}
	}
	if len(p.events) < h.perPod {
		p.events = append(p.events, ev)
		return
	}
	oldest := 0
	for i, e := range p.events {
		if core.LastSeen(e).Before(core.LastSeen(p.events[oldest])) {
			oldest = i
		}
	}
	if core.LastSeen(ev).Before(core.LastSeen(p.events[oldest])) {
		return // older than everything kept: the initial list arrives in name order, not time order
	}
	p.events[oldest] = ev
}

// remove forgets a deleted event.
func (h *podHistory) remove(ev *corev1.Event) {
	if !isPodEvent(ev) {
		return
	}
	k := podKeyOf(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.pods[k]
	if !ok {
		return
	}
	p := el.Value.(*podEvents)
	for i, e := range p.events {
		if e.UID == ev.UID {
			p.events = slices.Delete(p.events, i, i+1) // zeroes the freed slot
			break
		}
	}
	if len(p.events) == 0 {
		h.order.Remove(el)
		delete(h.pods, k)
	}
}

// retain drops the events of pods in namespace ("" for every namespace) for which keep is false:
// after a relist, those the API server no longer has.
func (h *podHistory) retain(namespace string, keep func(types.UID) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, el := range h.pods {
		if namespace != "" && k.namespace != namespace {
			continue
		}
		p := el.Value.(*podEvents)
		kept := p.events[:0]
		for _, e := range p.events {
			if keep(e.UID) {
				kept = append(kept, e)
			}
		}
		clear(p.events[len(kept):])
		p.events = kept
		if len(kept) == 0 {
			h.order.Remove(el)
			delete(h.pods, k)
		}
	}
}

// recent returns the pod's remembered events, oldest first.
func (h *podHistory) recent(namespace, pod string) []*corev1.Event {
	h.mu.Lock()
	el, ok := h.pods[podKey{namespace, pod}]
	var out []*corev1.Event
	if ok {
		out = append(out, el.Value.(*podEvents).events...)
	}
	h.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return core.LastSeen(out[i]).Before(core.LastSeen(out[j])) })
	return out
}
