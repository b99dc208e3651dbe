package routes

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/heraldproject/herald/routes/api"
)

// countingObjects counts the Secrets read, one per Receiver with a secretRef on each Apply.
type countingObjects struct {
	Objects
	reads atomic.Int64
}

func (c *countingObjects) Secret(namespace, name string) (map[string][]byte, error) {
	c.reads.Add(1)
	return c.Objects.Secret(namespace, name)
}

func toUnstructured(t *testing.T, kind string, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(api.APIVersion)
	u.SetKind(kind)
	return u
}

// A rotated Secret reaches the Receiver that names it through the Secret informer's watch, well
// before any resync; a change to a Secret no Receiver names applies nothing.
func TestSecretInformerReappliesItsReceivers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHook(t, "k2")
	recv := hookReceiver("team-a", "chat", h) // secretRef: hook, key=${KEY}
	route := api.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "all"}, Spec: api.RouteSpec{Receivers: []string{"chat"}}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ReceiverResource: "ReceiverList", RouteResource: "RouteList"},
		toUnstructured(t, "Receiver", &recv), toUnstructured(t, "Route", &route))
	secret := func(name, key, value string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}, Data: map[string][]byte{key: []byte(value)}}
	}
	first := secret("hook", "KEY", "k1")
	first.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"KEY":"azE="}}`}
	kube := fake.NewClientset(first, secret("other", "KEY", "o1"))
	// The fake's watch sends only what happens after it starts: updates wait for it.
	watching := make(chan struct{})
	var once atomic.Bool
	kube.PrependWatchReactor("secrets", func(k8stesting.Action) (bool, watch.Interface, error) {
		if once.CompareAndSwap(false, true) {
			close(watching)
		}
		return false, nil, nil
	})

	informer := NewSecretInformer(kube)
	objs := &countingObjects{Objects: informer}
	mgr, p := newTestManager(t, objs)
	res := &Resources{Dynamic: dyn, Manager: mgr, Secrets: informer, Settle: 50 * time.Millisecond, Resync: time.Hour, StatusEvery: time.Hour}
	if err := res.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go res.Run(ctx)
	select {
	case <-watching:
	case <-time.After(10 * time.Second):
		t.Fatal("the Secret informer does not watch")
	}
	if !strings.Contains(runningRaw(mgr, "team-a/chat"), "key=k1") {
		t.Fatal("the Receiver does not run with its Secret's first key")
	}
	if o, _, _ := informer.informer.GetStore().GetByKey("team-a/hook"); o == nil || o.(*corev1.Secret).Annotations != nil {
		t.Errorf("the cache keeps the Secret's annotations (a second copy of its data)")
	}
	// Let the Applies the informers' first lists asked for pass.
	quiet := func() int64 {
		for last := objs.reads.Load(); ; {
			time.Sleep(300 * time.Millisecond)
			n := objs.reads.Load()
			if n == last {
				return n
			}
			last = n
		}
	}
	before := quiet()

	update := func(s *corev1.Secret) {
		t.Helper()
		if _, err := kube.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	update(secret("other", "KEY", "o2"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if d, err := informer.Secret("team-a", "other"); err == nil && string(d["KEY"]) == "o2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the informer did not see the unnamed Secret's update")
		}
	}
	time.Sleep(500 * time.Millisecond) // ten Settles: an Apply it asked for would have run
	if n := objs.reads.Load(); n != before {
		t.Errorf("a change to a Secret no Receiver names applied again (%d Secret reads, %d before)", n, before)
	}

	update(secret("hook", "KEY", "k2"))
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(runningRaw(mgr, "team-a/chat"), "key=k2"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rotated Secret did not reach its Receiver")
		}
	}
	p.Push(event("team-a", "Pod", "p1", "Warning", "BackOff", ""))
	h.wait(t, "p1") // delivered with the new key
}

// runningRaw is the sink URI the Receiver key runs with, "" when it does not run.
func runningRaw(m *Manager, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.active[key]; cur != nil {
		return cur.raw
	}
	return ""
}
