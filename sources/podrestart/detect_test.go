package podrestart

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func statuses(counts ...any) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for i := 0; i < len(counts); i += 2 {
		out = append(out, corev1.ContainerStatus{Name: counts[i].(string), RestartCount: int32(counts[i+1].(int))})
	}
	return out
}

func podWith(uid string, init, regular, ephemeral []corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: typesUID(uid)},
		Status: corev1.PodStatus{InitContainerStatuses: init, ContainerStatuses: regular,
			EphemeralContainerStatuses: ephemeral},
	}
}

func TestDetect(t *testing.T) {
	base := podWith("u1", statuses("init", 0), statuses("app", 2, "side", 0), statuses("debug", 0))
	cases := []struct {
		name  string
		older *corev1.Pod
		newer *corev1.Pod
		want  []string // kind/container/from/to
	}{
		{"nothing changed", base, base, nil},
		{"regular container restarted",
			base, podWith("u1", statuses("init", 0), statuses("app", 3, "side", 0), statuses("debug", 0)),
			[]string{"regular/app/2/3"}},
		{"init container restarted",
			base, podWith("u1", statuses("init", 1), statuses("app", 2, "side", 0), statuses("debug", 0)),
			[]string{"init/init/0/1"}},
		{"ephemeral container restarted",
			base, podWith("u1", statuses("init", 0), statuses("app", 2, "side", 0), statuses("debug", 1)),
			[]string{"ephemeral/debug/0/1"}},
		{"two containers, a jump of two",
			base, podWith("u1", statuses("init", 0), statuses("app", 4, "side", 1), statuses("debug", 0)),
			[]string{"regular/app/2/4", "regular/side/0/1"}},
		{"a container's first status is its baseline, even with restarts",
			podWith("u1", nil, nil, nil), podWith("u1", nil, statuses("app", 2), nil), nil},
		{"an ephemeral container added later is a baseline",
			base, podWith("u1", statuses("init", 0), statuses("app", 2, "side", 0), statuses("debug", 0, "debug2", 1)), nil},
		{"count went down (status rewritten) is no restart",
			base, podWith("u1", statuses("init", 0), statuses("app", 0, "side", 0), statuses("debug", 0)), nil},
		{"same name, new pod UID: a new pod, not a restart",
			base, podWith("u2", statuses("init", 0), statuses("app", 9, "side", 0), statuses("debug", 0)), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range detect(c.older, c.newer) {
				got = append(got, r.kind+"/"+r.container+"/"+itoa(r.from)+"/"+itoa(r.to))
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}
