package podrestart

import (
	corev1 "k8s.io/api/core/v1"
)

// restart is one container whose restartCount rose between two versions of a pod.
type restart struct {
	container string
	// kind is "init", "regular" or "ephemeral".
	kind string
	from int32
	to   int32
	// status is the container's status in the newer pod.
	status corev1.ContainerStatus
}

// detect returns the containers of newer whose restartCount is higher than in older. A
// container's first status is its baseline, whatever its count (a pod is created without
// status; the kubelet's first report may already count restarts herald never saw). Nothing is
// reported for a pod seen for the first time either (the caller never calls detect for it), so
// restarts before herald started are not reported.
func detect(older, newer *corev1.Pod) []restart {
	if older == nil || newer == nil || older.UID != newer.UID {
		return nil // a recreated pod with the same name is a new pod
	}
	var out []restart
	for _, g := range []struct {
		kind       string
		old, fresh []corev1.ContainerStatus
	}{
		{"init", older.Status.InitContainerStatuses, newer.Status.InitContainerStatuses},
		{"regular", older.Status.ContainerStatuses, newer.Status.ContainerStatuses},
		{"ephemeral", older.Status.EphemeralContainerStatuses, newer.Status.EphemeralContainerStatuses},
	} {
		prev := make(map[string]int32, len(g.old))
		for _, s := range g.old {
			prev[s.Name] = s.RestartCount
		}
		for _, s := range g.fresh {
			if from, ok := prev[s.Name]; ok && s.RestartCount > from {
				out = append(out, restart{container: s.Name, kind: g.kind, from: from, to: s.RestartCount, status: s})
			}
		}
	}
	return out
}
