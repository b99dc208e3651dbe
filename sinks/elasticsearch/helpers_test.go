package elasticsearch

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func build(t testing.TB, value string) *Sink {
	t.Helper()
	b, err := sinks.Build(1, value, sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink.(*Sink)
}

func event(i int, count int32, msg string) *core.Event {
	return &core.Event{
		Cluster: "prod-eu",
		Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("web-%d.18a4f", i), Namespace: "prod", UID: types.UID(fmt.Sprintf("ev-%05d", i))},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "prod", Name: fmt.Sprintf("web-%d", i), UID: types.UID(fmt.Sprintf("pod-%05d", i))},
			Reason:         "BackOff",
			Message:        msg,
			Type:           corev1.EventTypeWarning,
			Count:          count,
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
			FirstTimestamp: metav1.NewTime(t0),
			LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(count) * time.Minute)),
		},
	}
}

func batch(from, n int) []*core.Event {
	out := make([]*core.Event, n)
	for i := range out {
		out[i] = event(from+i, 1, fmt.Sprintf("Back-off restarting failed container %d", from+i))
	}
	return out
}

func restartEvent() *core.Event {
	e := event(9, 1, "Container app restarted (OOMKilled)")
	e.UID = "restart-uid"
	e.Reason = "ContainerRestarted"
	e.LastTimestamp = metav1.NewTime(t0.Add(3 * time.Minute))
	e.InvolvedObject.Name = "api-7d9f"
	e.Restart = &core.PodRestart{
		Namespace: "prod", Pod: "api-7d9f", Container: "app", Node: "node-7",
		OwnerKind: "ReplicaSet", OwnerName: "api-7d9f", RestartCount: 4,
		LastState:   &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"},
		PreviousLog: "panic: out of memory\n",
	}
	return e
}
