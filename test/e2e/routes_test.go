package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/heraldproject/herald/test/harness"
)

var (
	receiversGVR = schema.GroupVersionResource{Group: "herald.dev", Version: "v1alpha1", Resource: "receivers"}
	routesGVR    = schema.GroupVersionResource{Group: "herald.dev", Version: "v1alpha1", Resource: "routes"}
	crdGVR       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// installCRDs applies deploy/crds to the shared cluster and waits until both are served.
func installCRDs(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	for _, f := range []string{"herald.dev_receivers.yaml", "herald.dev_routes.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "crds", f))
		if err != nil {
			t.Fatal(err)
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(crdGVR).Create(context.Background(), &u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	for _, gvr := range []schema.GroupVersionResource{receiversGVR, routesGVR} {
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{Limit: 1})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not served: %v", gvr.Resource, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// apply creates or replaces a herald.dev object given as YAML.
func apply(t *testing.T, dyn dynamic.Interface, text string) {
	t.Helper()
	var u unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(text), &u.Object); err != nil {
		t.Fatal(err)
	}
	gvr := receiversGVR
	if u.GetKind() == "Route" {
		gvr = routesGVR
	}
	res := dyn.Resource(gvr).Namespace(u.GetNamespace())
	cur, err := res.Get(context.Background(), u.GetName(), metav1.GetOptions{})
	if err == nil {
		u.SetResourceVersion(cur.GetResourceVersion())
		_, err = res.Update(context.Background(), &u, metav1.UpdateOptions{})
	} else if apierrors.IsNotFound(err) {
		_, err = res.Create(context.Background(), &u, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// readyCondition waits until the object's Ready condition has status want for its current
// generation, and returns the condition's reason and message and the status counts.
func readyCondition(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name, want string) (reason, message string, status map[string]any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			st, _, _ := unstructured.NestedMap(u.Object, "status")
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				gen, _ := m["observedGeneration"].(int64)
				if m["type"] == "Ready" && m["status"] == want && gen == u.GetGeneration() {
					return m["reason"].(string), m["message"].(string), st
				}
			}
		}
		if time.Now().After(deadline) {
			got := ""
			if u != nil {
				b, _ := json.Marshal(u.Object["status"])
				got = string(b)
			}
			t.Fatalf("%s %s/%s: no Ready=%s condition for its generation (status %s, err %v)", gvr.Resource, ns, name, want, got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// objectNames are the involved objects' names of the bodies recv got.
func objectNames(recv *harness.Receiver) []string {
	var out []string
	for _, r := range recv.Requests() {
		var b struct{ Name string }
		if json.Unmarshal(r.Body, &b) == nil {
			out = append(out, b.Name)
		}
	}
	return out
}

func waitNames(t *testing.T, recv *harness.Receiver, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := objectNames(recv)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) || len(got) > len(want) {
			t.Fatalf("received %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTeamRoutes runs herald with --routes and --config against the real API server with the
// CRDs of deploy/crds: teams declare Receivers and Routes in their namespaces, herald delivers
// what each Route selects and nothing of other namespaces, follows edits and deletions within
// seconds, reports each object's state in its status, and reloads its config file (refusing
// a version that does not validate).
func TestTeamRoutes(t *testing.T) {
	dyn, err := dynamic.NewForConfig(shared.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, dyn)
	client := shared.Client()
	home := namespace(t, shared, "herald-home")
	teamA := namespace(t, shared, "team-a")
	teamB := namespace(t, shared, "team-b")

	// Team a's robot key has every character that breaks a URI.
	const key = `k3y/with?odd&chars=%+# é`
	if _, err := client.CoreV1().Secrets(teamA).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "robot", Namespace: teamA},
		Data:       map[string][]byte{"KEY": []byte(key)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	recvA := harness.NewReceiver(t)
	recvAdmin := harness.NewReceiver(t)
	body := `{"Name":"{{ .InvolvedObject.Name }}","Reason":"{{ .Reason }}","Summary":"{{ .Route.Summary }}","Team":"{{ .Route.Metadata.team }}"}`
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Receiver
metadata: {name: robot, namespace: `+teamA+`}
spec:
  sink: webhook:`+recvA.URL+`/hook?method=POST&key=${KEY}
  secretRef: {name: robot}
  template: '`+body+`'
`)
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: crashes, namespace: `+teamA+`}
spec:
  receivers: [robot]
  reasons: [BackOff]
  summary: checkout crash loop
  metadata: {team: payments}
`)

	// The config file: an admin Route in herald's namespace, for team b's namespace.
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	admin := `apiVersion: herald.dev/v1alpha1
kind: Receiver
metadata: {name: ops}
spec:
  sink: webhook:` + recvAdmin.URL + `/ops?method=POST
  template: '` + body + `'
---
apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: team-b}
spec:
  receivers: [ops]
  namespaces: [` + teamB + `]
`
	if err := os.WriteFile(cfg, []byte(admin), 0o600); err != nil {
		t.Fatal(err)
	}
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig,
		Args: []string{"--routes", "--config=" + cfg, "--instance=routes-e2e", "--checkpoint=off"},
		Env:  []string{"POD_NAMESPACE=" + home}})

	reason, msg, _ := readyCondition(t, dyn, receiversGVR, teamA, "robot", "True")
	if reason != "Ready" || strings.Contains(msg, "k3y") {
		t.Errorf("Receiver status: %s: %s", reason, msg)
	}
	readyCondition(t, dyn, routesGVR, teamA, "crashes", "True")

	createEvent(t, client, teamA, "a1", "Warning", "BackOff", "back-off restarting")
	createEvent(t, client, teamA, "a2", "Warning", "FailedMount", "not a crash")
	createEvent(t, client, teamB, "b1", "Warning", "BackOff", "team b's")
	waitNames(t, recvA, "pod-a1")
	waitNames(t, recvAdmin, "pod-b1")
	if q, _ := url.ParseQuery(recvA.Requests()[0].Query); q.Get("key") != key {
		t.Errorf("the receiver got key %q, want the Secret's value", q.Get("key"))
	}
	// The Route's summary and metadata reach the template.
	var first struct{ Summary, Team string }
	if err := json.Unmarshal(recvA.Requests()[0].Body, &first); err != nil || first.Summary != "checkout crash loop" || first.Team != "payments" {
		t.Errorf("body %s: want the Route's summary and metadata (%v)", recvA.Requests()[0].Body, err)
	}

	// Team a widens its Route: effective within seconds, no restart.
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: crashes, namespace: `+teamA+`}
spec:
  receivers: [robot]
  reasons: [BackOff, FailedMount]
`)
	readyCondition(t, dyn, routesGVR, teamA, "crashes", "True")
	time.Sleep(time.Second) // the informer and the settle delay
	createEvent(t, client, teamA, "a3", "Warning", "FailedMount", "now wanted")
	waitNames(t, recvA, "pod-a1", "pod-a3")

	// A Route that cannot work is Ready=False with the field and the fix, and affects
	// nothing else; so is one that reaches into other namespaces from a team's namespace.
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: broken, namespace: `+teamA+`}
spec:
  receivers: [robot]
  reasons: ["(unclosed"]
`)
	if reason, msg, _ := readyCondition(t, dyn, routesGVR, teamA, "broken", "False"); reason != "InvalidSpec" || !strings.Contains(msg, "spec.reasons[0]") {
		t.Errorf("broken Route: %s: %s", reason, msg)
	}
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: greedy, namespace: `+teamA+`}
spec:
  receivers: [robot]
  namespaces: [`+teamB+`]
`)
	if _, msg, _ := readyCondition(t, dyn, routesGVR, teamA, "greedy", "False"); !strings.Contains(msg, "only for Routes in herald's own namespace ("+home+")") {
		t.Errorf("greedy Route: %s", msg)
	}
	createEvent(t, client, teamB, "b2", "Warning", "BackOff", "still team b's")
	createEvent(t, client, teamA, "a4", "Warning", "BackOff", "still delivered")
	waitNames(t, recvA, "pod-a1", "pod-a3", "pod-a4")
	waitNames(t, recvAdmin, "pod-b1", "pod-b2")

	// The counts reach the Receiver's status.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, _, st := readyCondition(t, dyn, receiversGVR, teamA, "robot", "True")
		if d, _ := st["delivered"].(int64); d >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Receiver status counts %v, want delivered >= 3", st)
		}
		time.Sleep(time.Second)
	}

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		_, _, st := readyCondition(t, dyn, routesGVR, teamA, "crashes", "True")
		if d, _ := st["delivered"].(int64); d == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Route status counts %v, want delivered 3 (a1, a3, a4)", st)
		}
	}

	// The config file: a version that does not validate is refused (SIGHUP), the last good
	// one keeps delivering; a good edit applies.
	loads := h.Metric("herald_config_reloads_total", `result="success"`)
	if err := os.WriteFile(cfg, []byte(strings.Replace(admin, "namespaces:", "level: Info\n  namespaces:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	h.WaitMetric(1, "herald_config_reloads_total", `result="failure"`)
	if v := h.Metric("herald_config_last_reload_successful"); v != 0 {
		t.Errorf("herald_config_last_reload_successful = %v after a refused reload", v)
	}
	createEvent(t, client, teamB, "b3", "Warning", "BackOff", "the last good config")
	waitNames(t, recvAdmin, "pod-b1", "pod-b2", "pod-b3")
	if err := os.WriteFile(cfg, []byte(strings.Replace(admin, "namespaces: ["+teamB+"]", "namespaces: ["+teamB+"]\n  excludeReasons: [BackOff]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	h.WaitMetric(loads+1, "herald_config_reloads_total", `result="success"`)
	if v := h.Metric("herald_config_last_reload_successful"); v != 1 {
		t.Errorf("herald_config_last_reload_successful = %v after a good reload", v)
	}
	createEvent(t, client, teamB, "b4", "Warning", "BackOff", "excluded now")
	createEvent(t, client, teamB, "b5", "Warning", "FailedMount", "still wanted")
	waitNames(t, recvAdmin, "pod-b1", "pod-b2", "pod-b3", "pod-b5")

	// objectSelector: the labels of the object the event is about, read from the API server.
	if _, err := client.CoreV1().Pods(teamA).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-a6", Namespace: teamA, Labels: map[string]string{"tier": "frontend"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.test/c"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	apply(t, dyn, `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: frontend-probes, namespace: `+teamA+`}
spec:
  receivers: [robot]
  reasons: [Unhealthy]
  objectSelector:
    matchLabels: {tier: frontend}
`)
	readyCondition(t, dyn, routesGVR, teamA, "frontend-probes", "True")
	time.Sleep(time.Second)
	createEvent(t, client, teamA, "a6", "Warning", "Unhealthy", "probe failed on a frontend pod")
	createEvent(t, client, teamA, "a7", "Warning", "Unhealthy", "probe failed on a pod that does not exist")
	createEvent(t, client, teamA, "a8", "Warning", "BackOff", "a marker after both")
	waitNames(t, recvA, "pod-a1", "pod-a3", "pod-a4", "pod-a6", "pod-a8")

	// Team a rotates its robot key: herald sees the Secret's watch event and delivers with the
	// new key within seconds, not at the next 30-s resync.
	const rotated = `r0tated/key?&=%+# ü`
	sec, err := client.CoreV1().Secrets(teamA).Get(context.Background(), "robot", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"KEY": []byte(rotated)}
	if _, err := client.CoreV1().Secrets(teamA).Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the watch and the settle delay
	createEvent(t, client, teamA, "a9", "Warning", "BackOff", "after the rotation")
	waitNames(t, recvA, "pod-a1", "pod-a3", "pod-a4", "pod-a6", "pod-a8", "pod-a9")
	reqs := recvA.Requests()
	if q, _ := url.ParseQuery(reqs[len(reqs)-1].Query); q.Get("key") != rotated {
		t.Errorf("after the rotation the receiver did not get the new key (the old one: %v)", q.Get("key") == key)
	}

	// Team a deletes its Receiver: nothing more goes to it, and its Routes say why.
	if err := dyn.Resource(receiversGVR).Namespace(teamA).Delete(context.Background(), "robot", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if reason, _, _ := readyCondition(t, dyn, routesGVR, teamA, "crashes", "False"); reason != "ReceiverNotFound" {
		t.Errorf("Route of a deleted Receiver: %s", reason)
	}
	createEvent(t, client, teamA, "a5", "Warning", "BackOff", "nobody listens")
	time.Sleep(2 * time.Second)
	waitNames(t, recvA, "pod-a1", "pod-a3", "pod-a4", "pod-a6", "pod-a8", "pod-a9")

	if logs := h.Logs(); strings.Contains(logs, "k3y") || strings.Contains(logs, url.QueryEscape(key)) ||
		strings.Contains(logs, "r0tated") || strings.Contains(logs, url.QueryEscape(rotated)) {
		t.Errorf("the Secret's value is in herald's log")
	}
}

// TestSinkNoiseControl: a --sink with group_by and group_wait sends one message for a burst of
// events of one reason, standing for the others (.Folded), and each other reason on its own.
func TestSinkNoiseControl(t *testing.T) {
	ns := namespace(t, shared, "noise")
	recv := harness.NewReceiver(t)
	body := url.QueryEscape(`{"Name":"{{ .InvolvedObject.Name }}","Folded":{{ .Folded }}}`)
	harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, SourceParams: "namespaces=" + ns,
		Sinks: []string{"webhook:" + recv.URL + "/hook?method=POST&group_by=reason&group_wait=2s&body_template=" + body}})
	client := shared.Client()
	for _, n := range []string{"n1", "n2", "n3"} {
		createEvent(t, client, ns, n, "Warning", "BackOff", "crash loop")
	}
	createEvent(t, client, ns, "n4", "Warning", "FailedMount", "another reason")
	recv.WaitFor(2, 30*time.Second)
	time.Sleep(3 * time.Second) // nothing more comes
	reqs := recv.Requests()
	got := map[string]int{}
	for _, r := range reqs {
		var b struct {
			Name   string
			Folded int
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		got[b.Name] = b.Folded
	}
	if len(reqs) != 2 || got["pod-n3"] != 2 || got["pod-n4"] != 0 {
		t.Fatalf("requests %v, want pod-n3 standing for 2 more and pod-n4 alone", got)
	}
}

// TestReceiverResumesFromTheCheckpoint: a --config Receiver has its own checkpoint position
// (config=NAMESPACE/NAME): events written while herald was stopped reach it once after the
// restart, and what it had before is not sent again.
func TestReceiverResumesFromTheCheckpoint(t *testing.T) {
	ns := namespace(t, shared, "rcv-resume")
	recv := harness.NewReceiver(t)
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	body := `{"Name":"{{ .InvolvedObject.Name }}"}`
	if err := os.WriteFile(cfg, []byte(`apiVersion: herald.dev/v1alpha1
kind: Receiver
metadata: {name: hook}
spec:
  sink: webhook:`+recv.URL+`/hook?method=POST
  template: '`+body+`'
---
apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: all}
spec:
  receivers: [hook]
  namespaces: [`+ns+`]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "checkpoint")
	opts := harness.Options{Kubeconfig: shared.Kubeconfig, Args: []string{"--config=" + cfg, "--checkpoint=file:" + cp}}
	h := harness.Start(t, opts)
	client := shared.Client()
	createEvent(t, client, ns, "before", "Warning", "BackOff", "before the stop")
	waitNames(t, recv, "pod-before")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// Outside a pod herald's namespace is "default", the config objects' namespace.
		if _, ok := pollCheckpoint(t, cp).Sinks["config=default/hook"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint has no position for the Receiver: %+v", pollCheckpoint(t, cp))
		}
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	createEvent(t, client, ns, "down", "Warning", "BackOff", "while herald was stopped")
	harness.Start(t, opts)
	waitNames(t, recv, "pod-before", "pod-down")
	time.Sleep(2 * time.Second)
	waitNames(t, recv, "pod-before", "pod-down")
}
