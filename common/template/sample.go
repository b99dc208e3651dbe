package template

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// sampleTime is when the sample events happened (a fixed time, so sample renders are stable).
var sampleTime = time.Date(2026, time.November, 23, 18, 53, 15, 0, time.UTC)

// SampleEvent returns a realistic event: a kubelet BackOff Warning about a Pod, whose message
// holds double quotes, a newline and Chinese text, the things that break naive JSON templates.
// New renders it through every template to validate it, and `herald check` prints its render.
// Each call returns a new event, so a caller may change it.
func SampleEvent() *core.Event {
	first := sampleTime.Add(-47 * time.Minute)
	return &core.Event{
		Event: &corev1.Event{
			TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{
				Name:              "checkout-7d4b9c6f5-x2x9z.187a9c2e1f3b4c5d",
				Namespace:         "shop",
				UID:               "5f1c2a8e-3b7d-4e59-9a61-0c2d4e6f8a1b",
				ResourceVersion:   "918273",
				CreationTimestamp: metav1.NewTime(first),
			},
			InvolvedObject: corev1.ObjectReference{
				Kind:            "Pod",
				Namespace:       "shop",
				Name:            "checkout-7d4b9c6f5-x2x9z",
				UID:             "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
				APIVersion:      "v1",
				ResourceVersion: "918001",
				FieldPath:       "spec.containers{app}",
			},
			Reason: "BackOff",
			Message: "Back-off restarting failed container \"app\" in pod \"checkout-7d4b9c6f5-x2x9z_shop(0a9b8c7d)\"\n" +
				"容器启动失败：数据库连接被拒绝",
			Source:              corev1.EventSource{Component: "kubelet", Host: "node-3"},
			FirstTimestamp:      metav1.NewTime(first),
			LastTimestamp:       metav1.NewTime(sampleTime),
			Count:               12,
			Type:                corev1.EventTypeWarning,
			ReportingController: "kubelet",
			ReportingInstance:   "node-3",
		},
		Cluster:  "prod-eu-1",
		Observed: sampleTime.Add(180 * time.Millisecond),
	}
}

// SampleRestartEvent returns a realistic ContainerRestarted event, as sources/podrestart emits
// it, with .Restart set (an OOMKilled container with a log tail). New renders it too, since a
// sink receives both kinds: a template must use {{ with .Restart }} to read restart fields.
func SampleRestartEvent() *core.Event {
	e := SampleEvent()
	e.Reason = "ContainerRestarted"
	e.Message = "Container \"app\" restarted (restart 5): OOMKilled, exit code 137"
	e.Count = 1
	e.Name = "checkout-7d4b9c6f5-x2x9z.restart.5"
	started := metav1.NewTime(sampleTime.Add(-3 * time.Minute))
	finished := metav1.NewTime(sampleTime.Add(-2 * time.Second))
	e.Restart = &core.PodRestart{
		Namespace:    "shop",
		Pod:          "checkout-7d4b9c6f5-x2x9z",
		Container:    "app",
		Node:         "node-3",
		OwnerKind:    "ReplicaSet",
		OwnerName:    "checkout-7d4b9c6f5",
		RestartCount: 5,
		LastState: &corev1.ContainerStateTerminated{
			ExitCode:   137,
			Reason:     "OOMKilled",
			StartedAt:  started,
			FinishedAt: finished,
		},
		PreviousLog: "2026-11-23T18:53:10Z loading catalogue \"eu\"\n2026-11-23T18:53:13Z cache warm: 1.9 GiB\n",
	}
	return e
}
