package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/test/harness"
)

// These tests run pods without a kubelet: the test creates a Node object, pods bound to it, and
// plays the kubelet by writing the pod status subresource (restartCount+1, lastState.terminated
// OOMKilled/137). Where a test needs logs, kwok (hack/kwok.sh) manages the node and serves
// pods/log from CRI-format files; where it does not run, no kubelet serves the node, the API
// server cannot proxy pods/log, and the report must carry a LogNote saying so.

// restartBody prints the event and its .Restart enrichment as JSON.
const restartBody = `{"type":"{{ .Type }}","reason":"{{ .Reason }}","kind":"{{ .InvolvedObject.Kind }}",` +
	`"name":"{{ .InvolvedObject.Name }}","message":"{{ .Message }}","restart":{{ toJson .Restart }}}`

type restartDelivery struct {
	Type, Reason, Kind, Name, Message string
	Restart                           struct {
		Cluster, Namespace, Pod, Container, ContainerKind, Node, OwnerKind, OwnerName string
		RestartCount                                                                  int32
		Folded                                                                        int
		LastState                                                                     *corev1.ContainerStateTerminated
		PreviousLog, CurrentLog, LogNote                                              string
		RecentEvents                                                                  []corev1.Event
	}
}

func restartSink(recvURL, ns string) string {
	return fmt.Sprintf("webhook:%s/restarts?method=POST&namespaces=%s&reason=ContainerRestarted&header=Content-Type=application/json&body_template=%s",
		recvURL, ns, url.QueryEscape(restartBody))
}

// kubeletless prepares a namespace for pods without a kubelet: its default ServiceAccount (no
// controller-manager makes it; the namespace helper may have) and a Node the pods are bound to.
func kubeletless(t *testing.T, client kubernetes.Interface, ns string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	node := "node-" + ns
	if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.CoreV1().Nodes().Delete(context.Background(), node, metav1.DeleteOptions{}) })
	return node
}

// runningPod creates a pod on node whose container "app" is running with restarts restarts.
func runningPod(t *testing.T, client kubernetes.Interface, ns, node, name string, restarts int32, owner *metav1.OwnerReference) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{NodeName: node, AutomountServiceAccountToken: new(bool),
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	p, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", Image: "registry.example/app:1", Ready: true, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}}}
	p, err = client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// oomKill plays the kubelet after an OOM kill: restartCount+1, last state OOMKilled/137, and the
// new container running. It returns the time just before the write.
func oomKill(t *testing.T, client kubernetes.Interface, ns, name string) time.Time {
	t.Helper()
	ctx := context.Background()
	p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &p.Status.ContainerStatuses[0]
	now := metav1.Now()
	s.RestartCount++
	s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.NewTime(now.Add(-time.Minute)), FinishedAt: now, ContainerID: "containerd://abc"}}
	s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	start := time.Now()
	if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return start
}

func decodeRestart(t *testing.T, r harness.Request) restartDelivery {
	t.Helper()
	var d restartDelivery
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("body is not the template's JSON: %v\n%s", err, r.Body)
	}
	return d
}

// waitRestart waits for the next delivery about pod and returns it, failing on a delivery
// about anything else.
func waitRestart(t *testing.T, recv *harness.Receiver, seen *int, pod string) (restartDelivery, time.Time) {
	t.Helper()
	got := recv.WaitFor(*seen+1, 30*time.Second)
	if len(got) <= *seen {
		t.Fatalf("no restart report for %s within 30s", pod)
	}
	r := got[*seen]
	*seen++
	d := decodeRestart(t, r)
	if d.Restart.Pod != pod {
		t.Fatalf("report about %s, want %s: %s", d.Restart.Pod, pod, d.Message)
	}
	return d, r.At
}

func TestPodRestartDeliveredExplainedAndThrottled(t *testing.T) {
	client := shared.Client()
	ctx := context.Background()
	ns := namespace(t, shared, "crash")
	node := kubeletless(t, client, ns)

	// A Deployment and its ReplicaSet, as objects (no controller-manager runs): herald resolves
	// the pod's owner through the ReplicaSet.
	yes := true
	dep, err := client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := client.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f9", OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Selector: dep.Spec.Selector, Template: dep.Spec.Template},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rsRef := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}

	// Restarted three times before herald started: not a restart herald saw.
	runningPod(t, client, ns, node, "veteran", 3, nil)
	web := runningPod(t, client, ns, node, "web-5d8f9-abcde", 0, rsRef)
	recent := createPodEvent(t, client, web, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500")

	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{restartSink(recv.URL, ns)},
		Args: []string{"--pod-restarts", "--restart-repeat=10m", "--cluster-name=e2e"}})

	// The veteran changes without restarting, and a pod is born with restarts: nothing to report.
	vet, _ := client.CoreV1().Pods(ns).Get(ctx, "veteran", metav1.GetOptions{})
	vet.Status.Message = "unrelated status change"
	if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, vet, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	runningPod(t, client, ns, node, "born-restarted", 2, nil)

	seen := 0
	oomKill(t, client, ns, web.Name)
	d, _ := waitRestart(t, recv, &seen, web.Name)
	if d.Type != "Warning" || d.Reason != "ContainerRestarted" || d.Kind != "Pod" || d.Name != web.Name {
		t.Errorf("event fields: %+v", d)
	}
	t.Logf("delivered: %s", d.Message)
	r := d.Restart
	if r.Cluster != "e2e" || r.Namespace != ns || r.Container != "app" || r.ContainerKind != "regular" || r.Node != node ||
		r.OwnerKind != "Deployment" || r.OwnerName != "web" || r.RestartCount != 1 || r.Folded != 0 {
		t.Errorf("restart: %+v", r)
	}
	if r.LastState == nil || r.LastState.ExitCode != 137 || r.LastState.Reason != "OOMKilled" || r.LastState.FinishedAt.IsZero() {
		t.Errorf("last state: %+v", r.LastState)
	}
	// No kubelet serves this node: the log is unavailable, and the report says so.
	if r.PreviousLog != "" || !strings.Contains(r.LogNote, "previous log unavailable") || !strings.Contains(d.Message, r.LogNote) {
		t.Errorf("log note %q, message %q", r.LogNote, d.Message)
	}
	if want := "container app of pod " + ns + "/" + web.Name + " restarted: exit code 137 (OOMKilled); restart count 1"; !strings.HasPrefix(d.Message, want) {
		t.Errorf("message %q does not start with %q", d.Message, want)
	}
	if !slices.ContainsFunc(r.RecentEvents, func(e corev1.Event) bool { return e.UID == recent.UID && e.Reason == "Unhealthy" }) {
		t.Errorf("recent events lack the pod's Unhealthy event: %+v", r.RecentEvents)
	}

	// A crash loop: two more restarts inside --restart-repeat are folded, not delivered.
	oomKill(t, client, ns, web.Name)
	oomKill(t, client, ns, web.Name)
	// The veteran's first restart under herald is reported (another container, not throttled),
	// counted from its real count; it also marks that the folded restarts were processed.
	oomKill(t, client, ns, "veteran")
	d, _ = waitRestart(t, recv, &seen, "veteran")
	if d.Restart.RestartCount != 4 || d.Restart.Folded != 0 {
		t.Errorf("veteran: %s (folded %d)", d.Message, d.Restart.Folded)
	}
	if got := h.Metric("herald_podrestart_restarts_total", `outcome="throttled"`); got != 2 {
		t.Errorf("throttled restarts = %v, want 2", got)
	}
	if got := h.Metric("herald_podrestart_restarts_total", `outcome="detected"`); got != 4 {
		t.Errorf("detected restarts = %v, want 4 (the veteran's and born-restarted's earlier ones are not)", got)
	}
	time.Sleep(time.Second) // nothing else may arrive: the pipeline flushes within 200 ms
	if n := len(recv.Requests()); n != seen {
		t.Errorf("%d deliveries, want %d", n, seen)
	}
}

// createPodEvent records an event about pod, as a kubelet would.
func createPodEvent(t *testing.T, client kubernetes.Interface, pod *corev1.Pod, reason, message string) *corev1.Event {
	t.Helper()
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ev, err := client.CoreV1().Events(pod.Namespace).Create(context.Background(), &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name + "." + strings.ToLower(reason), Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: types.UID(pod.UID)},
		Type: "Warning", Reason: reason, Message: message, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestPodRestartLatency measures restart-to-delivery latency over 50 restarts (status write
// to webhook arrival, through the real API server, herald's pod watch, enrichment with both log
// tails served by kwok, and the pipeline) and the API calls herald makes per restart. It logs figures; it asserts no timing.
func TestPodRestartLatency(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "latency")
	node := kubeletless(t, client, ns)
	const n = 50
	kwokLogs(t, client, shared.Kubeconfig, ns, node, "app", []string{"panic: boom", "goroutine 1 [running]:"}, []string{"starting"})
	runningPod(t, client, ns, node, "loop", 0, nil)
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{restartSink(recv.URL, ns)},
		Args: []string{"--pod-restarts", "--restart-repeat=0"}})

	seen := 0
	var lat []time.Duration
	for i := range n {
		start := oomKill(t, client, ns, "loop")
		d, at := waitRestart(t, recv, &seen, "loop")
		if d.Restart.RestartCount != int32(i+1) || d.Restart.PreviousLog != "panic: boom\ngoroutine 1 [running]:" {
			t.Fatalf("restart %d reported as count %d, previous log %q (%s)", i+1, d.Restart.RestartCount, d.Restart.PreviousLog, d.Restart.LogNote)
		}
		lat = append(lat, at.Sub(start))
	}
	slices.Sort(lat)
	calls := h.Metric("herald_podrestart_api_requests_total")
	// herald's own share: from seeing the status change to the sink's answer (enrichment with
	// two log requests, the pipeline's 200 ms batching, the webhook POST).
	inside := h.Metric("herald_delivery_latency_seconds_sum") / h.Metric("herald_delivery_latency_seconds_count")
	export := h.Metric("herald_sink_export_duration_seconds_sum") / h.Metric("herald_sink_export_duration_seconds_count")
	t.Logf("mean detection-to-delivery inside herald: %.0f ms (of which the webhook export: %.0f ms)", inside*1000, export*1000)
	t.Logf("restart-to-delivery latency over %d restarts: p50 %s, p99 %s, max %s; API requests per restart: %.2f (%v log, %v replicaset)",
		n, lat[n/2], lat[n*99/100], lat[n-1], calls/n,
		h.Metric("herald_podrestart_api_requests_total", `request="log"`), h.Metric("herald_podrestart_api_requests_total", `request="replicaset"`))
	if got := h.Metric("herald_podrestart_restarts_total", `outcome="reported"`); got != n {
		t.Errorf("reported = %v, want %d", got, n)
	}
}

// TestPodRestartLogTailsThroughKwok checks the log tails end to end: the API server proxies
// pods/log (previous=true and current, with tailLines and limitBytes) to kwok, which serves
// them from CRI log files, and the report carries the last lines of each.
func TestPodRestartLogTailsThroughKwok(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "logs")
	node := kubeletless(t, client, ns)
	var previous []string
	for i := range 80 {
		previous = append(previous, fmt.Sprintf("previous line %d", i))
	}
	previous = append(previous, `fatal error: runtime: out of memory "heap" \ 内存不足`)
	kwokLogs(t, client, shared.Kubeconfig, ns, node, "app", previous, []string{"current line 0", "starting up"})
	runningPod(t, client, ns, node, "oom", 0, nil)
	recv := harness.NewReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{restartSink(recv.URL, ns)},
		Args: []string{"--pod-restarts", "--restart-log-lines=10"}})

	seen := 0
	oomKill(t, client, ns, "oom")
	d, _ := waitRestart(t, recv, &seen, "oom")
	r := d.Restart
	if r.LogNote != "" {
		t.Fatalf("log note %q: kwok did not serve the logs", r.LogNote)
	}
	lines := strings.Split(r.PreviousLog, "\n")
	if len(lines) != 10 || lines[0] != "previous line 71" || lines[9] != previous[80] {
		t.Errorf("previous log tail (10 lines wanted):\n%s", r.PreviousLog)
	}
	if r.CurrentLog != "current line 0\nstarting up" {
		t.Errorf("current log: %q", r.CurrentLog)
	}

	// limitBytes is passed through to the kubelet (kwok), and the report says the tail was cut.
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	recv2 := harness.NewReceiver(t)
	harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{restartSink(recv2.URL, ns)},
		Args: []string{"--pod-restarts", "--restart-log-lines=10", "--restart-log-bytes=64"}})
	seen = 0
	oomKill(t, client, ns, "oom")
	d, _ = waitRestart(t, recv2, &seen, "oom")
	r = d.Restart
	if r.RestartCount != 2 || len(r.PreviousLog) == 0 || len(r.PreviousLog) > 64 || !strings.HasPrefix(r.PreviousLog, "previous line 71") ||
		!strings.Contains(r.LogNote, "previous log cut at 64 bytes") {
		t.Errorf("with --restart-log-bytes=64: count %d, previous log %q (%d bytes), note %q", r.RestartCount, r.PreviousLog, len(r.PreviousLog), r.LogNote)
	}
}

// TestPodRestartDuringDowntimeIsReportedOnce: herald (with --pod-restarts and a checkpoint) is
// stopped; a container restarts twice meanwhile; the restarted herald reports it once (count 2,
// from the count the checkpoint kept), and a pod that did not restart reports nothing. Restarted
// again, herald repeats nothing.
func TestPodRestartDuringDowntimeIsReportedOnce(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "rsdown")
	node := kubeletless(t, client, ns)
	runningPod(t, client, ns, node, "crashy", 0, nil)
	runningPod(t, client, ns, node, "steady", 0, nil)
	recv := harness.NewReceiver(t)
	cpPath := t.TempDir() + "/checkpoint"
	opts := harness.Options{Kubeconfig: shared.Kubeconfig, Sinks: []string{restartSink(recv.URL, ns)},
		Args: []string{"--pod-restarts", "--restart-repeat=0", "--checkpoint=file:" + cpPath}}
	h := harness.Start(t, opts)
	seen := 0
	oomKill(t, client, ns, "crashy")
	if d, _ := waitRestart(t, recv, &seen, "crashy"); d.Restart.RestartCount != 1 {
		t.Fatalf("first restart reported with count %d", d.Restart.RestartCount)
	}
	for deadline := time.Now().Add(30 * time.Second); pollCheckpoint(t, cpPath).Restarts[podUID(t, client, ns, "crashy")+"/app"] != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint never kept the restart count: %+v", readCheckpoint(t, cpPath))
		}
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	oomKill(t, client, ns, "crashy")
	oomKill(t, client, ns, "crashy")
	h2 := harness.Start(t, opts)
	d, _ := waitRestart(t, recv, &seen, "crashy")
	if d.Restart.RestartCount != 3 || d.Restart.LastState == nil || d.Restart.LastState.Reason != "OOMKilled" {
		t.Errorf("restart during the downtime reported as count %d, last state %+v; want 3, OOMKilled", d.Restart.RestartCount, d.Restart.LastState)
	}
	if err := h2.Stop(); err != nil {
		t.Fatal(err)
	}
	h3 := harness.Start(t, opts)
	oomKill(t, client, ns, "steady") // a marker: the next report must be this one
	if d, _ := waitRestart(t, recv, &seen, "steady"); d.Restart.RestartCount != 1 {
		t.Errorf("marker reported with count %d", d.Restart.RestartCount)
	}
	_ = h3
	t.Logf("restart during downtime: 2 restarts while herald was down reported once (count 3), none repeated after a second restart; %d reports in all", len(recv.Requests()))
}

func podUID(t *testing.T, client kubernetes.Interface, ns, name string) string {
	t.Helper()
	p, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(p.UID)
}
