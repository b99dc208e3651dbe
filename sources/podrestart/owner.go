package podrestart

import (
	"context"
	"sync"

	"github.com/golang/glog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// maxOwnerCache bounds the ReplicaSet → owner cache; it is cleared when full.
const maxOwnerCache = 4096

// owners resolves a pod's workload: its controller, and for a ReplicaSet the ReplicaSet's own
// controller (a Deployment). ReplicaSet lookups are cached by UID, so a crash-looping pod costs
// one lookup, not one per restart.
type owners struct {
	client  kubernetes.Interface
	metrics *Metrics

	mu    sync.Mutex
	cache map[types.UID]metav1.OwnerReference // ReplicaSet UID → its controller (Kind "" if none)
}

func newOwners(client kubernetes.Interface, m *Metrics) *owners {
	return &owners{client: client, metrics: m, cache: map[types.UID]metav1.OwnerReference{}}
}

// resolve returns the kind and name of the pod's workload, or "", "" for a bare pod. When the
// ReplicaSet cannot be read (deleted, RBAC), the ReplicaSet itself is the answer.
func (o *owners) resolve(ctx context.Context, pod *corev1.Pod) (kind, name string) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		if len(pod.OwnerReferences) == 0 {
			return "", ""
		}
		ref = &pod.OwnerReferences[0]
	}
	if ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" {
		return ref.Kind, ref.Name
	}
	o.mu.Lock()
	up, ok := o.cache[ref.UID]
	o.mu.Unlock()
	if !ok {
		o.metrics.requests.WithLabelValues("replicaset").Inc()
		rs, err := o.client.AppsV1().ReplicaSets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			glog.V(2).Infof("pod restarts: cannot read ReplicaSet %s/%s to find its Deployment (%v); reporting the ReplicaSet as owner (grant get on apps/replicasets)", pod.Namespace, ref.Name, err)
			return ref.Kind, ref.Name
		}
		if rs.UID != ref.UID {
			return ref.Kind, ref.Name // a different ReplicaSet now has that name
		}
		if c := metav1.GetControllerOf(rs); c != nil {
			up = *c
		}
		o.mu.Lock()
		if len(o.cache) >= maxOwnerCache {
			clear(o.cache)
		}
		o.cache[ref.UID] = up
		o.mu.Unlock()
	}
	if up.Kind == "" {
		return ref.Kind, ref.Name
	}
	return up.Kind, up.Name
}
