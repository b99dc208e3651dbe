// Package e2e runs the herald binary against a real kube-apiserver + etcd (test/cluster) and
// local receivers, and checks what arrives.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/cluster"
)

// shared is the cluster most tests use; each test works in its own namespaces.
var shared *cluster.Cluster

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	c, err := cluster.Start(ctx, cluster.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot start the test cluster: %v\n(run hack/kube-binaries.sh, or make test, which builds it)\n", err)
		os.Exit(1)
	}
	shared = c
	code := m.Run()
	_ = c.Stop()
	os.Exit(code)
}

// namespace creates a fresh namespace for one test.
func namespace(t *testing.T, c *cluster.Cluster, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000)
	if err := c.EnsureNamespace(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// createEvent creates a core/v1 Event about a Pod, as a kubelet would.
func createEvent(t *testing.T, client kubernetes.Interface, ns, name, typ, reason, message string) *corev1.Event {
	t.Helper()
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "pod-" + name, APIVersion: "v1"},
		Type:           typ, Reason: reason, Message: message,
		Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}
	out, err := client.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create event %s/%s: %v", ns, name, err)
	}
	return out
}
