package cluster_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/heraldproject/herald/test/cluster"
)

// waitFor bounds each wait in this test so a hang fails with a message instead of a go test
// timeout. It is a deadline for liveness, not an assertion about speed.
const waitFor = 2 * time.Minute

func newEvent(ns, name, reason, message string) *corev1.Event {
	now := metav1.Now()
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "web-0", UID: "3f1c8a8e-0000-4000-8000-000000000001",
		},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Count:          1,
		FirstTimestamp: now,
		LastTimestamp:  now,
		Source:         corev1.EventSource{Component: "cluster-test"},
	}
}

func TestClusterStoresWatchesAndSurvivesAPIServerRestart(t *testing.T) {
	c := cluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*waitFor)
	defer cancel()
	client := c.Client()

	const ns = "herald-e2e"
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// EnsureNamespace twice is fine, and the default ServiceAccount exists.
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatalf("second EnsureNamespace: %v", err)
	}
	if _, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("default ServiceAccount: %v", err)
	}

	// Watch first, from the current resourceVersion, so the created event must arrive as ADDED.
	list, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := client.CoreV1().Events(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	message := "Back-off restarting failed container \"app\"\nin pod web-0: 容器反复崩溃"
	created, err := client.CoreV1().Events(ns).Create(ctx, newEvent(ns, "web-0.backoff", "BackOff", message), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	got, err := client.CoreV1().Events(ns).Get(ctx, "web-0.backoff", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Message != message || got.Reason != "BackOff" || got.InvolvedObject.Name != "web-0" || got.UID != created.UID {
		t.Fatalf("read back %q/%q/%q uid %s, want %q/BackOff/web-0 uid %s",
			got.Reason, got.Message, got.InvolvedObject.Name, got.UID, message, created.UID)
	}
	expectWatched(t, w, watch.Added, created.UID)

	// The kubeconfig file the cluster wrote works on its own (what herald and kwok are given).
	restCfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("load %s: %v", c.Kubeconfig, err)
	}
	if restCfg.Host != c.URL {
		t.Fatalf("kubeconfig server %s, want %s", restCfg.Host, c.URL)
	}

	// Restart the API server; etcd keeps the data, and the same clientset reconnects.
	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Events(ns).Get(ctx, "web-0.backoff", metav1.GetOptions{}); err == nil {
		t.Fatal("Get succeeded while the API server was stopped")
	}
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := client.CoreV1().Events(ns).Get(ctx, "web-0.backoff", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Get after the restart, same client: %v", err)
	}
	if again.UID != created.UID || again.Message != message || again.ResourceVersion != got.ResourceVersion {
		t.Fatalf("after the restart: uid %s rv %s message %q, want uid %s rv %s message %q",
			again.UID, again.ResourceVersion, again.Message, created.UID, got.ResourceVersion, message)
	}

	// A watch resumed from the old resourceVersion sees only what changed since: one update.
	w2, err := client.CoreV1().Events(ns).Watch(ctx, metav1.ListOptions{
		ResourceVersion: got.ResourceVersion,
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", "web-0.backoff").String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	again.Count = 2
	again.LastTimestamp = metav1.Now()
	if _, err := client.CoreV1().Events(ns).Update(ctx, again, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := expectWatched(t, w2, watch.Modified, created.UID)
	if ev.Count != 2 {
		t.Fatalf("watched count %d, want 2", ev.Count)
	}
}

// expectWatched returns the next event from w and checks its type and the Event's UID.
func expectWatched(t *testing.T, w watch.Interface, want watch.EventType, uid types.UID) *corev1.Event {
	t.Helper()
	select {
	case e, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed before any event")
		}
		ev, isEvent := e.Object.(*corev1.Event)
		if e.Type != want || !isEvent || ev.UID != uid {
			t.Fatalf("watched %s %T, want %s of Event %s", e.Type, e.Object, want, uid)
		}
		return ev
	case <-time.After(waitFor):
		t.Fatalf("no %s watch event within %s", want, waitFor)
		return nil
	}
}
