package podrestart

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
)

// Reason is the reason of every event this source emits.
const Reason = "ContainerRestarted"

// Component is the event's source component.
const Component = "herald-podrestart"

// report is one restart on its way to the pipeline.
type report struct {
	pod      *corev1.Pod // shared with the informer's cache: read-only
	r        restart
	folded   int
	detected time.Time
}

// newEvent builds the ContainerRestarted event for a report with its enrichment.
func newEvent(cluster string, rep *report, pr *core.PodRestart) *core.Event {
	pod := rep.pod
	at := metav1.NewTime(rep.detected)
	fieldPath := fmt.Sprintf("spec.containers{%s}", rep.r.container)
	switch rep.r.kind {
	case "init":
		fieldPath = fmt.Sprintf("spec.initContainers{%s}", rep.r.container)
	case "ephemeral":
		fieldPath = fmt.Sprintf("spec.ephemeralContainers{%s}", rep.r.container)
	}
	// One UID per (pod, container, restart count): sinks that key writes on it (Elasticsearch
	// _id, MySQL upsert) never store one restart twice.
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", pod.UID, rep.r.container, rep.r.to))
	uid := hex.EncodeToString(sum[:16])
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%s.restart-%d", pod.Name, rep.r.container, rep.r.to),
			Namespace: pod.Namespace,
			UID:       types.UID(uid),
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			FieldPath: fieldPath,
		},
		Reason:              Reason,
		Message:             message(pr),
		Type:                corev1.EventTypeWarning,
		Count:               1,
		FirstTimestamp:      at,
		LastTimestamp:       at,
		Source:              corev1.EventSource{Component: Component, Host: pod.Spec.NodeName},
		ReportingController: Component,
	}
	return &core.Event{Event: ev, Cluster: cluster, Restart: pr, Observed: rep.detected}
}

// message is the event's one-line summary: container, exit code, reason, restart count, what
// was folded in, and why logs are missing when they are.
func message(pr *core.PodRestart) string {
	var b strings.Builder
	fmt.Fprintf(&b, "container %s of pod %s/%s restarted", pr.Container, pr.Namespace, pr.Pod)
	if t := pr.LastState; t != nil {
		fmt.Fprintf(&b, ": exit code %d", t.ExitCode)
		if t.Signal != 0 {
			fmt.Fprintf(&b, ", signal %d", t.Signal)
		}
		if t.Reason != "" {
			fmt.Fprintf(&b, " (%s)", t.Reason)
		}
	}
	fmt.Fprintf(&b, "; restart count %d", pr.RestartCount)
	if pr.Folded > 0 {
		fmt.Fprintf(&b, "; %d more restart(s) folded into this report", pr.Folded)
	}
	if pr.LogNote != "" {
		fmt.Fprintf(&b, "; %s", pr.LogNote)
	}
	return b.String()
}
