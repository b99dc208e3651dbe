package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
)

// sample is one kind of event a real cluster emits. Messages carry quotes, newlines, braces
// and Chinese text, so a demo shows that every sink's output stays valid JSON.
type sample struct {
	typ, reason, component, message string
}

var samples = []sample{
	{corev1.EventTypeWarning, "BackOff", "kubelet", `Back-off restarting failed container "app" in pod "%s"`},
	{corev1.EventTypeWarning, "FailedScheduling", "default-scheduler",
		"0/3 nodes are available: 3 Insufficient memory.\npreemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."},
	{corev1.EventTypeWarning, "Unhealthy", "kubelet", `Readiness probe failed: HTTP probe failed with statuscode: 503, body: {"status":"down","reason":"db \"orders\" unreachable"}`},
	{corev1.EventTypeWarning, "OOMKilling", "kernel-monitor", "Memory cgroup out of memory: Killed process 4242 (java)\n内存不足：容器 \"app\" 的进程被终止"},
	{corev1.EventTypeNormal, "Pulled", "kubelet", `Successfully pulled image "nginx:1.27" in 1.2s`},
	{corev1.EventTypeWarning, "FailedMount", "kubelet", `MountVolume.SetUp failed for volume "config" : configmap "web-config" not found`},
}

// events creates --count sample events in --namespace and prints each one.
func events(args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; default: $KUBECONFIG, then ~/.kube/config")
	count := fs.Int("count", 10, "how many events to create")
	namespace := fs.String("namespace", "default", "namespace of the events and of the pods they name (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ensureNamespace(ctx, client, *namespace); err != nil {
		return err
	}

	// Three pods, each with a stable UID, as if they existed.
	pods := make([]corev1.ObjectReference, 3)
	for i := range pods {
		pods[i] = corev1.ObjectReference{
			APIVersion: "v1", Kind: "Pod", Namespace: *namespace,
			Name: fmt.Sprintf("web-%d", i), UID: uuid.NewUUID(),
		}
	}
	for i := 0; i < *count; i++ {
		s, pod := samples[i%len(samples)], pods[i%len(pods)]
		message := s.message
		if s.reason == "BackOff" {
			message = fmt.Sprintf(message, pod.Name)
		}
		now := metav1.Now()
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: *namespace},
			InvolvedObject: pod,
			Type:           s.typ,
			Reason:         s.reason,
			Message:        message,
			Source:         corev1.EventSource{Component: s.component, Host: "devcluster"},
			FirstTimestamp: now,
			LastTimestamp:  now,
			Count:          1,
		}
		created, err := client.CoreV1().Events(*namespace).Create(ctx, ev, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create event %d of %d: %w", i+1, *count, err)
		}
		fmt.Printf("created %-7s %-16s %s/pod/%s (event %s): %q\n",
			created.Type, created.Reason, created.Namespace, pod.Name, created.Name, created.Message)
	}
	return nil
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}
