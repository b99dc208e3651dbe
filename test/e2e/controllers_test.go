package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/cluster"
	"github.com/heraldproject/herald/test/harness"
)

// controllerBody is kube-eventer's default webhook body with the object and the count added.
const controllerBody = `{"EventType":"{{ .Type }}","EventKind":"{{ .InvolvedObject.Kind }}","EventObject":"{{ .InvolvedObject.Name }}",` +
	`"EventReason":"{{ .Reason }}","EventTime":"{{ .LastTimestamp }}","EventMessage":"{{ .Message }}","Count":"{{ .Count }}"}`

type controllerDelivery struct {
	EventType, EventKind, EventObject, EventReason, EventTime, EventMessage, Count string
}

// TestRealControllers: kube-controller-manager and kube-scheduler run against the test API
// server, with a kwok node: herald delivers the events the real controllers write. A Deployment
// rolled out and scaled (ScalingReplicaSet, SuccessfulCreate, Scheduled), an unschedulable pod
// (FailedScheduling, which the scheduler writes through events.k8s.io/v1: eventTime and
// reportingController, no lastTimestamp), a node going NotReady (NodeNotReady from the node
// lifecycle controller). Each is delivered once, with a real time in kube-eventer's EventTime.
func TestRealControllers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own API server, controller-manager and scheduler; not in -short")
	}
	c := cluster.ForTestWith(t, cluster.Options{Controllers: true})
	client := c.Client()
	ctx := context.Background()
	ns := namespace(t, c, "ctrl")
	node := "kwok-" + ns
	if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node,
		Labels: map[string]string{"type": "kwok"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kwok := startKwokNode(t, c.Kubeconfig, node)
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: c.Kubeconfig,
		Sinks: []string{fmt.Sprintf("webhook:%s?method=POST&level=Normal&namespaces=%s,default&cluster_scoped=true&header=Content-Type=application/json&body_template=%s",
			recv.URL, ns, url.QueryEscape(controllerBody))}})
	_ = h

	// A Deployment of 2, rolled out, then scaled to 4.
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{"type": "kwok"},
					Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/web:1"}}}}}}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, recv, func(ds []controllerDelivery) bool {
		return countReason(ds, "SuccessfulCreate") >= 2 && countReason(ds, "ScalingReplicaSet") >= 1 && countReason(ds, "Scheduled") >= 2
	})
	waitAvailable(t, client, ns, "web", 2)
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "web", "application/merge-patch+json", []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, recv, func(ds []controllerDelivery) bool {
		return countReason(ds, "SuccessfulCreate") >= 4 && countReason(ds, "ScalingReplicaSet") >= 2 && countReason(ds, "Scheduled") >= 4
	})

	// A pod no node can take.
	stuck := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stuck", Namespace: ns},
		Spec: corev1.PodSpec{NodeSelector: map[string]string{"type": "gpu"}, Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/x:1"}}}}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, stuck, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, recv, func(ds []controllerDelivery) bool { return countReason(ds, "FailedScheduling") >= 1 })
	evs, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedScheduling"})
	if err != nil || len(evs.Items) == 0 {
		t.Fatalf("no FailedScheduling event in the API: %v", err)
	}
	if e := evs.Items[0]; !e.LastTimestamp.IsZero() || e.EventTime.IsZero() || e.ReportingController == "" {
		t.Errorf("FailedScheduling as stored: lastTimestamp %v, eventTime %v, reportingController %q; want the events.k8s.io/v1 form (no lastTimestamp)", e.LastTimestamp, e.EventTime, e.ReportingController)
	}

	// The node's kwok stops: the node lifecycle controller marks it NotReady.
	kwok()
	waitDeliveries(t, recv, func(ds []controllerDelivery) bool { return countReason(ds, "NodeNotReady") >= 1 })

	ds := deliveries(t, recv)
	seen := map[string]int{}
	start := time.Now().Add(-10 * time.Minute)
	for _, d := range ds {
		seen[d.EventKind+"/"+d.EventObject+"/"+d.EventReason+"/"+d.Count+"/"+d.EventMessage]++
		when, err := time.Parse("2006-01-02 15:04:05 -0700 MST", d.EventTime)
		if err != nil || when.Before(start) || when.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s %s/%s: EventTime %q is not the event's time (kube-eventer's format, within the test)", d.EventReason, d.EventKind, d.EventObject, d.EventTime)
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", k, n)
		}
	}
	reasons := map[string]int{}
	for _, d := range ds {
		reasons[d.EventReason]++
	}
	t.Logf("real controllers: %d deliveries, each once: %v", len(ds), reasons)
}

func countReason(ds []controllerDelivery, reason string) int {
	n := 0
	for _, d := range ds {
		if d.EventReason == reason {
			n++
		}
	}
	return n
}

func deliveries(t *testing.T, recv *harness.Receiver) []controllerDelivery {
	t.Helper()
	var out []controllerDelivery
	for _, r := range recv.Requests() {
		var d controllerDelivery
		if err := json.Unmarshal(r.Body, &d); err != nil {
			t.Fatalf("not the template's JSON: %v\n%s", err, r.Body)
		}
		out = append(out, d)
	}
	return out
}

func waitDeliveries(t *testing.T, recv *harness.Receiver, done func([]controllerDelivery) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !done(deliveries(t, recv)) {
		if time.Now().After(deadline) {
			reasons := map[string]int{}
			for _, d := range deliveries(t, recv) {
				reasons[d.EventReason]++
			}
			t.Fatalf("the expected events never arrived; got %v", reasons)
		}
		recv.WaitFor(len(recv.Requests())+1, time.Second)
	}
}

func waitAvailable(t *testing.T, client kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && d.Status.AvailableReplicas >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s never had %d available replicas: %v %+v", name, n, err, d.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startKwokNode runs kwok as the kubelet of node, with node and pod stages (pods become Running
// and Ready); it returns a func that stops it (the node then stops renewing its Lease).
func startKwokNode(t *testing.T, kubeconfig, node string) func() {
	t.Helper()
	dir := t.TempDir()
	hack := filepath.Join("..", "..", "hack", "kwok") // relative to test/e2e, where go test runs
	port := freeLocalPort(t)
	cmd := exec.Command(kwokBinary(t), "--kubeconfig="+kubeconfig, "-c", filepath.Join(hack, "stages.yaml"), "-c", filepath.Join(hack, "pod-stages.yaml"),
		"--manage-single-node="+node, "--node-ip=127.0.0.1", fmt.Sprintf("--node-port=%d", port),
		fmt.Sprintf("--server-address=127.0.0.1:%d", port), "--node-lease-duration-seconds=10")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	logPath := filepath.Join(dir, "kwok.out")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(func() {
		stop()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("kwok output (last 3000 bytes):\n%s", tailBytes(b, 3000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("kwok did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tailBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
