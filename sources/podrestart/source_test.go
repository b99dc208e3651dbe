package podrestart

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// history is a fixed EventHistory.
type history map[string][]*corev1.Event

func (h history) RecentEvents(ns, pod string) []*corev1.Event { return h[ns+"/"+pod] }

// rig is a Source on a fake clientset with a fake clock, collecting what it emits.
type rig struct {
	t      *testing.T
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	src    *Source
	got    chan *core.Event
	mu     sync.Mutex
	logs   []*corev1.PodLogOptions
}

func newRig(t *testing.T, cfg Config, objects ...runtime.Object) *rig {
	t.Helper()
	r := &rig{t: t, client: fake.NewClientset(objects...), clock: clocktesting.NewFakeClock(t0), got: make(chan *core.Event, 100)}
	// Logs: previous and current tails differ, so a test can tell which one landed where.
	r.client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		opts := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
		r.mu.Lock()
		r.logs = append(r.logs, opts)
		r.mu.Unlock()
		which := "current"
		if opts.Previous {
			which = "previous"
		}
		return true, &runtime.Unknown{Raw: []byte(fmt.Sprintf("%s log of %s\nlast line\n", which, opts.Container))}, nil
	})
	cfg.Client = r.client
	cfg.Clock = r.clock
	cfg.Emit = func(e *core.Event) { r.got <- e }
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.src = src
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); src.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !src.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("informers never synced")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r
}

func (r *rig) logRequests() []*corev1.PodLogOptions {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*corev1.PodLogOptions(nil), r.logs...)
}

// crash raises a container's restartCount by n and sets its last state, as a kubelet would.
func (r *rig) crash(ns, name, container string, n int32, reason string, code int32) {
	r.t.Helper()
	ctx := context.Background()
	pod, err := r.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	for i := range pod.Status.ContainerStatuses {
		s := &pod.Status.ContainerStatuses[i]
		if s.Name != container {
			continue
		}
		s.RestartCount += n
		s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, StartedAt: metav1.NewTime(t0.Add(-time.Minute)), FinishedAt: metav1.NewTime(t0)}}
		s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}
	}
	if _, err := r.client.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

// next waits for the next emitted event.
func (r *rig) next() *core.Event {
	r.t.Helper()
	select {
	case e := <-r.got:
		return e
	case <-time.After(10 * time.Second):
		r.t.Fatal("no restart reported within 10s")
		return nil
	}
}

// none checks that nothing more was emitted. Informer delivery is asynchronous, so it first
// waits for a marker restart (on another pod) made after the action under test, then checks
// that the marker is the next event.
func (r *rig) noneBefore(markerPod string) {
	r.t.Helper()
	r.crash("ns", markerPod, "app", 1, "Error", 1)
	if e := r.next(); e.Restart.Pod != markerPod {
		r.t.Fatalf("unexpected report before the marker: %s", e.Message)
	}
}

func pod(name string, restarts int32, owners ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: typesUID("uid-" + name), OwnerReferences: owners},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: restarts,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
}

func controller(kind, name, uid string) metav1.OwnerReference {
	yes := true
	api := "apps/v1"
	if kind == "Job" {
		api = "batch/v1"
	}
	return metav1.OwnerReference{APIVersion: api, Kind: kind, Name: name, UID: typesUID(uid), Controller: &yes}
}

func TestRestartIsReportedWithItsExplanation(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", Namespace: "ns", UID: "uid-rs",
		OwnerReferences: []metav1.OwnerReference{controller("Deployment", "web", "uid-dep")}}}
	backoff := &corev1.Event{Reason: "BackOff", Message: "Back-off restarting failed container"}
	r := newRig(t, Config{Cluster: "prod-eu", Events: history{"ns/web-5d8f-x": {backoff}}},
		rs, pod("web-5d8f-x", 0, controller("ReplicaSet", "web-5d8f", "uid-rs")), pod("marker", 0))

	r.crash("ns", "web-5d8f-x", "app", 1, "OOMKilled", 137)
	e := r.next()
	if e.Type != "Warning" || e.Reason != "ContainerRestarted" || e.InvolvedObject.Kind != "Pod" ||
		e.InvolvedObject.Name != "web-5d8f-x" || e.InvolvedObject.FieldPath != "spec.containers{app}" || e.Cluster != "prod-eu" {
		t.Errorf("event: %+v", e.Event)
	}
	if want := "container app of pod ns/web-5d8f-x restarted: exit code 137 (OOMKilled); restart count 1"; e.Message != want {
		t.Errorf("message:\n got %q\nwant %q", e.Message, want)
	}
	p := e.Restart
	if p.Cluster != "prod-eu" || p.Namespace != "ns" || p.Pod != "web-5d8f-x" || p.Container != "app" || p.ContainerKind != "regular" ||
		p.Node != "node-1" || p.RestartCount != 1 || p.Folded != 0 || p.OwnerKind != "Deployment" || p.OwnerName != "web" {
		t.Errorf("restart: %+v", p)
	}
	if p.LastState == nil || p.LastState.ExitCode != 137 || p.LastState.Reason != "OOMKilled" || !p.LastState.FinishedAt.Time.Equal(t0) {
		t.Errorf("last state: %+v", p.LastState)
	}
	if p.PreviousLog != "previous log of app\nlast line" || p.CurrentLog != "current log of app\nlast line" || p.LogNote != "" {
		t.Errorf("logs: previous %q, current %q, note %q", p.PreviousLog, p.CurrentLog, p.LogNote)
	}
	if len(p.RecentEvents) != 1 || p.RecentEvents[0] != backoff {
		t.Errorf("recent events: %v", p.RecentEvents)
	}
	if !e.Observed.Equal(t0) || !e.LastTimestamp.Time.Equal(t0) {
		t.Errorf("times: observed %s, last %s; want the injected clock's %s", e.Observed, e.LastTimestamp, t0)
	}
	for _, o := range r.logRequests() {
		if o.TailLines == nil || *o.TailLines != DefaultTailLines || o.LimitBytes == nil || *o.LimitBytes != DefaultLimitBytes || o.Container != "app" {
			t.Errorf("log request not bounded by the defaults: %+v", o)
		}
	}
	if n := len(r.logRequests()); n != 2 {
		t.Errorf("%d log requests, want 2 (previous and current)", n)
	}
}

func TestRestartsBeforeStartAndNewPodsWithRestartsAreNotReported(t *testing.T) {
	r := newRig(t, Config{}, pod("old", 5), pod("marker", 0))
	ctx := context.Background()
	// A pod that had restarted before herald started changes in another way: no report.
	p, _ := r.client.CoreV1().Pods("ns").Get(ctx, "old", metav1.GetOptions{})
	p.Status.Message = "something else changed"
	if _, err := r.client.CoreV1().Pods("ns").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A pod first seen with a non-zero restartCount is not a restart.
	if _, err := r.client.CoreV1().Pods("ns").Create(ctx, pod("born-restarted", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r.noneBefore("marker")
	// Its next restart is: counted from 5, not from 0.
	r.crash("ns", "old", "app", 1, "Error", 1)
	if e := r.next(); e.Restart.Pod != "old" || e.Restart.RestartCount != 6 || e.Restart.Folded != 0 {
		t.Fatalf("got %s (folded %d)", e.Message, e.Restart.Folded)
	}
}

func TestCrashLoopIsThrottledPerContainer(t *testing.T) {
	r := newRig(t, Config{Repeat: 10 * time.Minute}, pod("loop", 0), pod("marker", 0), pod("marker2", 0))
	r.crash("ns", "loop", "app", 1, "Error", 1)
	if e := r.next(); e.Restart.RestartCount != 1 {
		t.Fatalf("first: %s", e.Message)
	}
	for range 3 {
		r.clock.Step(2 * time.Minute)
		r.crash("ns", "loop", "app", 1, "Error", 1)
	}
	r.noneBefore("marker")        // restarts 2..4 folded (the marker is another pod: not throttled)
	r.clock.Step(5 * time.Minute) // 11 minutes after the first report
	r.crash("ns", "loop", "app", 1, "Error", 1)
	e := r.next()
	if e.Restart.RestartCount != 5 || e.Restart.Folded != 3 || !strings.Contains(e.Message, "3 more restart(s) folded into this report") {
		t.Fatalf("after the window: %s (folded %d)", e.Message, e.Restart.Folded)
	}
	if got := testutilCount(r.src.cfg.Metrics.throttled); got != 3 {
		t.Errorf("throttled metric = %v, want 3", got)
	}
	r.noneBefore("marker2")
}

func TestOwnerResolution(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-7c9", Namespace: "ns", UID: "uid-rs",
		OwnerReferences: []metav1.OwnerReference{controller("Deployment", "api", "uid-dep")}}}
	bareRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "lonely", Namespace: "ns", UID: "uid-lonely"}}
	client := fake.NewClientset(rs, bareRS)
	o := newOwners(client, NewMetrics(nil))
	cases := []struct {
		name      string
		pod       *corev1.Pod
		kind, own string
	}{
		{"through the ReplicaSet to the Deployment", pod("a", 0, controller("ReplicaSet", "api-7c9", "uid-rs")), "Deployment", "api"},
		{"StatefulSet directly", pod("b", 0, controller("StatefulSet", "db", "uid-ss")), "StatefulSet", "db"},
		{"Job directly", pod("c", 0, controller("Job", "migrate", "uid-job")), "Job", "migrate"},
		{"ReplicaSet without a Deployment", pod("d", 0, controller("ReplicaSet", "lonely", "uid-lonely")), "ReplicaSet", "lonely"},
		{"ReplicaSet gone", pod("e", 0, controller("ReplicaSet", "deleted", "uid-deleted")), "ReplicaSet", "deleted"},
		{"ReplicaSet name reused by another", pod("f", 0, controller("ReplicaSet", "api-7c9", "uid-old-rs")), "ReplicaSet", "api-7c9"},
		{"bare pod", pod("g", 0), "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind, name := o.resolve(context.Background(), c.pod)
			if kind != c.kind || name != c.own {
				t.Errorf("got %s/%s, want %s/%s", kind, name, c.kind, c.own)
			}
		})
	}
	// The resolved ReplicaSet is cached: a crash loop costs one lookup.
	before := len(client.Actions())
	for range 5 {
		o.resolve(context.Background(), cases[0].pod)
	}
	if n := len(client.Actions()) - before; n != 0 {
		t.Errorf("%d API calls for a cached ReplicaSet, want 0", n)
	}
}

func TestLogNotes(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	cases := []struct {
		name     string
		err      error
		waiting  bool
		wantNote []string
		reason   string
	}{
		{"pod gone", apierrors.NewNotFound(gr, "p"), false,
			[]string{"previous log unavailable: the pod or container no longer exists"}, "gone"},
		{"RBAC", apierrors.NewForbidden(gr, "p", errors.New("no")), false,
			[]string{"previous log unavailable: herald may not read pods/log in namespace ns (grant get on pods/log)"}, "forbidden"},
		{"kubelet says no previous container", apierrors.NewBadRequest(`previous terminated container "app" in pod "p" not found`), false,
			[]string{`previous log unavailable: previous terminated container "app" in pod "p" not found`}, "unavailable"},
		{"no kubelet answers", apierrors.NewInternalError(errors.New("dial tcp: no route")), false,
			[]string{`previous log unavailable: the API server could not fetch it from the kubelet of node "node-1"`}, "unavailable"},
		{"current container waiting", nil, true,
			[]string{"current log unavailable: the container is waiting (CrashLoopBackOff)"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := fake.NewClientset()
			calls := 0
			client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
				calls++
				if a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions).Previous && c.err != nil {
					return true, nil, c.err
				}
				return true, &runtime.Unknown{Raw: []byte("ok\n")}, nil
			})
			m := NewMetrics(nil)
			src, err := New(Config{Client: client, Emit: func(*core.Event) {}, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			p := pod("p", 1)
			st := p.Status.ContainerStatuses[0]
			if c.waiting {
				st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
			}
			pr := src.enrich(context.Background(), &report{pod: p, r: restart{container: "app", kind: "regular", from: 0, to: 1, status: st}, detected: t0})
			for _, w := range c.wantNote {
				if !strings.Contains(pr.LogNote, w) {
					t.Errorf("note %q lacks %q", pr.LogNote, w)
				}
			}
			if msg := message(pr); !strings.Contains(msg, pr.LogNote) {
				t.Errorf("message %q does not carry the note", msg)
			}
			if c.waiting && calls != 1 {
				t.Errorf("%d log requests for a waiting container, want 1 (previous only)", calls)
			}
			if c.reason != "" {
				if got := testutilCount(m.logFails.WithLabelValues("previous", c.reason)); got != 1 {
					t.Errorf("log failure metric {previous,%s} = %v, want 1", c.reason, got)
				}
			}
		})
	}
}

func TestLogTimeoutGivesANote(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, context.DeadlineExceeded
	})
	f := &logFetcher{client: client, tailLines: 5, limitBytes: 100, timeout: time.Second, metrics: NewMetrics(nil)}
	text, note := f.fetch(context.Background(), pod("p", 1), "app", true)
	if text != "" || note != "previous log unavailable: no answer within 1s" {
		t.Fatalf("text %q, note %q", text, note)
	}
}

func TestQueueFullReportsWithoutLogs(t *testing.T) {
	client := fake.NewClientset()
	var got []*core.Event
	src, err := New(Config{Client: client, Queue: 1, Emit: func(e *core.Event) { got = append(got, e) }})
	if err != nil {
		t.Fatal(err)
	}
	older := pod("p", 0)
	older.Status.ContainerStatuses = append(older.Status.ContainerStatuses, corev1.ContainerStatus{Name: "side"})
	newer := older.DeepCopy()
	newer.Status.ContainerStatuses[0].RestartCount = 1
	newer.Status.ContainerStatuses[1].RestartCount = 1
	src.onUpdate(older, newer) // no workers run: the first waits in the queue, the second overflows
	if len(src.work) != 1 || len(got) != 1 {
		t.Fatalf("queued %d, emitted %d; want 1 and 1", len(src.work), len(got))
	}
	if !strings.Contains(got[0].Restart.LogNote, "logs not fetched") || !strings.Contains(got[0].Message, "logs not fetched") {
		t.Errorf("overflow report: %s", got[0].Message)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Client: fake.NewClientset(), Emit: func(*core.Event) {}, LabelSelector: "app in (", Repeat: -time.Second})
	if err == nil {
		t.Fatal("bad selector and negative repeat accepted")
	}
	for _, want := range []string{"--pod-restart-selector", "--restart-repeat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestStripPodDropsManagedFields(t *testing.T) {
	p := pod("p", 0)
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	p.Annotations = map[string]string{lastApplied: "{...}", "keep": "me"}
	out, _ := stripPod(p)
	q := out.(*corev1.Pod)
	if q.ManagedFields != nil || q.Annotations[lastApplied] != "" || q.Annotations["keep"] != "me" {
		t.Fatalf("stripped pod: %+v %v", q.ManagedFields, q.Annotations)
	}
}

func TestIgnoredContainersAreNotReported(t *testing.T) {
	var got []*core.Event
	src, err := New(Config{Client: fake.NewClientset(), Queue: 10, IgnoreContainers: []string{"istio-proxy"},
		Emit: func(e *core.Event) { got = append(got, e) }})
	if err != nil {
		t.Fatal(err)
	}
	older := pod("p", 0)
	older.Status.ContainerStatuses = append(older.Status.ContainerStatuses, corev1.ContainerStatus{Name: "istio-proxy"})
	newer := older.DeepCopy()
	newer.Status.ContainerStatuses[0].RestartCount = 1
	newer.Status.ContainerStatuses[1].RestartCount = 1
	src.onUpdate(older, newer)
	if len(src.work) != 1 || len(got) != 0 {
		t.Fatalf("queued %d, emitted %d; want only app's restart queued", len(src.work), len(got))
	}
	if r := <-src.work; r.r.container != "app" {
		t.Fatalf("queued %s, want app", r.r.container)
	}
	if n := testutilCount(src.cfg.Metrics.detected); n != 1 {
		t.Errorf("detected = %v, want 1 (ignored containers are not counted)", n)
	}
}

// With a checkpoint's counts (Seed), a restart that happened while herald was down is reported
// once at start: counted from the saved count; a pod created after the checkpoint from 0; an
// unchanged count, or a pod older than the checkpoint that had not restarted then and has not
// since, reports nothing. Restarts gives the counts back for the next checkpoint.
func TestRestartsDuringDowntimeAreReportedOnceFromTheCheckpoint(t *testing.T) {
	newer := pod("new", 2)
	newer.CreationTimestamp = metav1.NewTime(t0.Add(time.Minute))
	old := func(name string, n int32) *corev1.Pod {
		p := pod(name, n)
		p.CreationTimestamp = metav1.NewTime(t0.Add(-time.Hour))
		return p
	}
	seed := map[string]int32{"uid-rose/app": 3, "uid-same/app": 4}
	r := newRig(t, Config{Seed: seed, SeedTime: t0}, old("rose", 5), old("same", 4), old("quiet", 0), newer, pod("marker", 0))
	got := map[string]int32{}
	for range 2 {
		e := r.next()
		got[e.Restart.Pod] = e.Restart.RestartCount
	}
	if got["rose"] != 5 || got["new"] != 2 || len(got) != 2 {
		t.Errorf("reported %v, want rose at 5 and new at 2", got)
	}
	r.noneBefore("marker")
	counts := r.src.Restarts()
	if counts["uid-rose/app"] != 5 || counts["uid-same/app"] != 4 || counts["uid-new/app"] != 2 || counts["uid-marker/app"] != 1 {
		t.Errorf("Restarts() = %v", counts)
	}
	if _, ok := counts["uid-quiet/app"]; ok {
		t.Errorf("Restarts() keeps a container that never restarted: %v", counts)
	}
}

// NoLogs (--restart-log-lines=0): the restart is still reported and explained, but no log is
// requested, so no log text reaches a sink.
func TestNoLogsFetchesNoLog(t *testing.T) {
	r := newRig(t, Config{NoLogs: true}, pod("web", 0), pod("marker", 0))
	r.crash("ns", "web", "app", 1, "Error", 1)
	e := r.next()
	p := e.Restart
	if p.LastState == nil || p.LastState.ExitCode != 1 {
		t.Errorf("last state: %+v", p.LastState)
	}
	if p.PreviousLog != "" || p.CurrentLog != "" {
		t.Errorf("logs: previous %q, current %q; want none", p.PreviousLog, p.CurrentLog)
	}
	if n := len(r.logRequests()); n != 0 {
		t.Errorf("%d log requests, want none", n)
	}
}
