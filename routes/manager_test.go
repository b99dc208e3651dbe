package routes

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks"
)

// hook is a webhook receiver that records the involved object's name of each body it gets and
// accepts only the credential in want (a query parameter, as a bot key would be).
type hook struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []string
	want    string
	refused int
}

func newHook(t *testing.T, key string) *hook {
	h := &hook{want: key}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.URL.Query().Get("key") != h.want {
			h.refused++
			http.Error(w, "bad key", http.StatusUnauthorized)
			return
		}
		var body struct{ Name string }
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		h.got = append(h.got, body.Name)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// wait waits until the hook has got want (in any order) and nothing else.
func (h *hook) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.names()
		if strings.Join(sorted(got), ",") == strings.Join(sorted(want), ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

const body = `{"Name":"{{ .InvolvedObject.Name }}"}`

func hookReceiver(ns, name string, h *hook) api.Receiver {
	return api.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: api.ReceiverSpec{
		Sink:      "webhook:" + h.srv.URL + "/?method=POST&key=${KEY}",
		SecretRef: &api.LocalObjectReference{Name: "hook"},
		Template:  body,
	}}
}

func newTestManager(t *testing.T, objs Objects) (*Manager, *core.Pipeline) {
	m := core.NewMetrics(prometheus.NewRegistry())
	p := core.NewPipeline(core.PipelineConfig{Metrics: m, Backoff: core.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, CredentialMax: 50 * time.Millisecond, Factor: 2}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		_ = p.Shutdown(context.Background())
		cancel()
	})
	mgr := NewManager(Config{Pipeline: p, Env: sinks.Env{Ctx: ctx}, Namespace: "herald", Objects: objs, RemoveTimeout: time.Second})
	p.Start()
	return mgr, p
}

// Receivers and Routes applied, edited, rotated and deleted while events flow.
func TestManagerFollowsTheSnapshots(t *testing.T) {
	objs := secrets{"team-a/hook": {"KEY": []byte("k1")}, "team-b/hook": {"KEY": []byte("kb")}}
	ha, hb := newHook(t, "k1"), newHook(t, "kb")
	mgr, p := newTestManager(t, objs)
	snap := Snapshot{
		Receivers: []api.Receiver{hookReceiver("team-a", "chat", ha), hookReceiver("team-b", "chat", hb)},
		Routes: []api.Route{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "all"}, Spec: api.RouteSpec{Receivers: []string{"chat"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "oom"}, Spec: api.RouteSpec{Receivers: []string{"chat"}, Reasons: []string{"OOM"}}},
		},
	}
	statuses, err := mgr.Apply(snap, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if !s.Ready {
			t.Errorf("%s %s/%s not ready: %s", s.Kind, s.Namespace, s.Name, s.Message)
		}
	}
	p.Push(event("team-a", "Pod", "a1", "Warning", "BackOff", ""))
	p.Push(event("team-b", "Pod", "b1", "Warning", "BackOff", "")) // not OOM
	p.Push(event("team-b", "Pod", "b2", "Warning", "OOMKilling", ""))
	ha.wait(t, "a1")
	hb.wait(t, "b2")

	// Team b edits its Route: the same sink, new selection.
	snap.Routes[1].Spec.Reasons = []string{"BackOff"}
	if _, err := mgr.Apply(snap, true); err != nil {
		t.Fatal(err)
	}
	p.Push(event("team-b", "Pod", "b3", "Warning", "BackOff", ""))
	hb.wait(t, "b2", "b3")

	// Team a's key is rotated at the receiver first: events fail with 401 and wait in the
	// queue; then the Secret gets the new key and the backlog goes out with it.
	ha.mu.Lock()
	ha.want = "k2"
	ha.mu.Unlock()
	p.Push(event("team-a", "Pod", "a2", "Warning", "BackOff", ""))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ha.mu.Lock()
		refused := ha.refused
		ha.mu.Unlock()
		if refused > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the receiver never refused the old key")
		}
	}
	objs["team-a/hook"]["KEY"] = []byte("k2")
	if _, err := mgr.Apply(snap, true); err != nil {
		t.Fatal(err)
	}
	ha.wait(t, "a1", "a2")

	// A strict snapshot with a problem changes nothing.
	bad := snap
	bad.Routes = append([]api.Route{{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "bad"}, Spec: api.RouteSpec{Receivers: []string{"chat"}, Level: "Info"}}}, snap.Routes...)
	if _, err := mgr.Apply(bad, true); err == nil || !strings.Contains(err.Error(), "Route team-a/bad: spec.level") {
		t.Fatalf("strict apply of an invalid Route: %v", err)
	}
	p.Push(event("team-a", "Pod", "a3", "Warning", "BackOff", ""))
	ha.wait(t, "a1", "a2", "a3")

	// Not strict: the invalid Route is reported and the rest applies.
	statuses, err = mgr.Apply(bad, false)
	if err != nil {
		t.Fatal(err)
	}
	var badStatus *Status
	for i := range statuses {
		if statuses[i].Name == "bad" {
			badStatus = &statuses[i]
		}
	}
	if badStatus == nil || badStatus.Ready || badStatus.Reason != "InvalidSpec" {
		t.Fatalf("status of the invalid Route: %+v", badStatus)
	}

	// Team b deletes its Receiver: its sink leaves the pipeline and the checkpoint.
	snap.Receivers = snap.Receivers[:1]
	statuses, err = mgr.Apply(snap, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.Kind == "Route" && s.Namespace == "team-b" && (s.Ready || s.Reason != "ReceiverNotFound") {
			t.Errorf("the Route of a deleted Receiver: %+v", s)
		}
	}
	if got := mgr.Sinks(); len(got) != 1 || got[0].ID != "receiver/team-a/chat" || got[0].Key != "receiver=team-a/chat" {
		t.Errorf("running sinks %v", got)
	}
	p.Push(event("team-b", "Pod", "b4", "Warning", "BackOff", ""))
	p.Push(event("team-a", "Pod", "a4", "Warning", "BackOff", ""))
	ha.wait(t, "a1", "a2", "a3", "a4")
	hb.wait(t, "b2", "b3")
}

// A Receiver refuses filter parameters in its sink: selection belongs on Routes.
func TestReceiverSinkRefusesFilters(t *testing.T) {
	mgr, _ := newTestManager(t, nil)
	statuses, err := mgr.Apply(Snapshot{Receivers: []api.Receiver{{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "r"},
		Spec: api.ReceiverSpec{Sink: "webhook:http://127.0.0.1:1/?level=Normal&namespaces=kube-system"}}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 || statuses[0].Ready || statuses[0].Reason != "SinkInvalid" || !strings.Contains(statuses[0].Message, "belongs on a Route") {
		t.Fatalf("statuses %+v", statuses)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // as a ConfigMap volume swaps its files
		t.Fatal(err)
	}
}

// A --config file is reloaded when it changes; a version that does not validate is refused
// and the last good one keeps running.
func TestFileReload(t *testing.T) {
	objs := secrets{"herald/hook": {"KEY": []byte("k")}}
	h := newHook(t, "k")
	mgr, p := newTestManager(t, objs)
	reg := prometheus.NewRegistry()
	fm := NewFileMetrics(reg)
	path := filepath.Join(t.TempDir(), "herald.yaml")
	good := `apiVersion: herald.dev/v1alpha1
kind: Receiver
metadata: {name: hook}
spec:
  sink: webhook:` + h.srv.URL + `/?method=POST&key=${KEY}
  secretRef: {name: hook}
  template: '{"Name":"{{ .InvolvedObject.Name }}"}'
---
apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: pods}
spec:
  receivers: [hook]
  kinds: [Pod]
`
	writeFile(t, path, good)
	f := &File{Path: path, Namespace: "herald", Manager: mgr, Metrics: fm, Interval: 10 * time.Millisecond}
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	go f.Run(ctx, hup)
	p.Push(event("team-x", "Pod", "p1", "Warning", "BackOff", ""))
	p.Push(event("team-x", "Deployment", "d1", "Warning", "BackOff", ""))
	h.wait(t, "p1")

	waitReloads := func(result string, n float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for testutil.ToFloat64(fm.reloads.WithLabelValues(result)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("herald_config_reloads_total{result=%q} = %v, want %v", result, testutil.ToFloat64(fm.reloads.WithLabelValues(result)), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	writeFile(t, path, strings.Replace(good, "kinds: [Pod]", "kinds: [Pod, Deployment]", 1))
	waitReloads("success", 2)
	p.Push(event("team-x", "Deployment", "d2", "Warning", "BackOff", ""))
	h.wait(t, "p1", "d2")

	writeFile(t, path, strings.Replace(good, "kinds: [Pod]", "kinds: [Pod]\n  level: Info", 1))
	waitReloads("failure", 1)
	if testutil.ToFloat64(fm.lastOK) != 0 {
		t.Error("herald_config_last_reload_successful is not 0 after a refused reload")
	}
	p.Push(event("team-x", "Deployment", "d3", "Warning", "BackOff", "")) // the last good config still runs
	h.wait(t, "p1", "d2", "d3")

	hup <- os.Interrupt // SIGHUP: loads again (still refused)
	waitReloads("failure", 2)
}

func TestParse(t *testing.T) {
	snap, err := Parse([]byte(`# team routes
apiVersion: herald.dev/v1alpha1
kind: List
items:
- apiVersion: herald.dev/v1alpha1
  kind: Receiver
  metadata: {name: a, namespace: team-a}
  spec: {sink: "log:"}
- apiVersion: herald.dev/v1alpha1
  kind: Route
  metadata: {name: a, namespace: team-a}
  spec: {receivers: [a]}
---
apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: b}
spec:
  receivers: [a]
  groupWait: 30s
`), "herald")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Receivers) != 1 || len(snap.Routes) != 2 || snap.Routes[1].Namespace != "herald" || snap.Routes[1].Spec.GroupWait.Duration != 30*time.Second {
		t.Fatalf("parsed %+v", snap)
	}
	for _, tc := range []struct{ text, want string }{
		{"apiVersion: herald.dev/v1alpha1\nkind: Route\nmetadata: {name: a}\nspec: {receivers: [a], reason: [x]}\n", `document 1 (Route a): unknown field "reason"`},
		{"apiVersion: herald.dev/v1\nkind: Route\nmetadata: {name: a}\n", `apiVersion "herald.dev/v1": write herald.dev/v1alpha1`},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", `kind "ConfigMap"`},
		{"apiVersion: herald.dev/v1alpha1\nkind: Route\nmetadata: {}\n", "metadata.name is empty"},
		{"apiVersion: herald.dev/v1alpha1\nkind: Route\nmetadata: {name: a}\n---\napiVersion: herald.dev/v1alpha1\nkind: Route\nmetadata: {name: a}\n", "a second Route herald/a"},
		{"kind: [\n", "document 1"},
	} {
		if _, err := Parse([]byte(tc.text), "herald"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
		}
	}
}

// failingCopies refuses, for good, every event whose object is "bad", and asks for a retry of
// those named "later": verdicts on the copies a Receiver's sink is given.
type failingCopies struct{ got []*core.Event }

func (f *failingCopies) Name() string { return "failing" }
func (f *failingCopies) Close() error { return nil }
func (f *failingCopies) Export(_ context.Context, batch []*core.Event) error {
	var out core.Outcomes
	for _, e := range batch {
		f.got = append(f.got, e)
		switch e.InvolvedObject.Name {
		case "bad":
			out.Reject(core.Permanent(errors.New("400")), e)
		case "later":
			out.Retry(errors.New("503"), e)
		}
	}
	return out.Err(len(batch))
}

// The sink sees each event with the note of the first Route that selects it, and its verdicts
// reach the pipeline about the pipeline's own events.
func TestAnnotatingMapsVerdictsBack(t *testing.T) {
	noisy := route("team-a", api.RouteSpec{Reasons: []string{"BackOff"}, Summary: "crash loop", Metadata: map[string]string{"team": "a", "env": "prod"}})
	other := route("team-a", api.RouteSpec{})
	other.Name = "rest"
	s1, _ := compileRoute(noisy, "herald", nil)
	s2, _ := compileRoute(other, "herald", nil)
	inner := &failingCopies{}
	c1, c2 := &routeCounts{}, &routeCounts{}
	a := &annotating{Sink: inner, routes: newRouteSet([]noted{{sel: s1, note: noteOf(noisy), counts: c1}, {sel: s2, note: noteOf(other), counts: c2}})}
	good, bad, later := event("team-a", "Pod", "good", "Warning", "BackOff", ""), event("team-a", "Pod", "bad", "Warning", "BackOff", ""), event("team-a", "Pod", "later", "Warning", "Failed", "")
	retry, _, rejected, _ := core.Fates(a.Export(context.Background(), []*core.Event{good, bad, later}), []*core.Event{good, bad, later})
	if len(retry) != 1 || retry[0] != later || len(rejected) != 1 || rejected[0] != bad {
		t.Fatalf("retry %v, rejected %v: want the pipeline's own events", retry, rejected)
	}
	if n := inner.got[0].Route; n.Summary != "crash loop" || n.Metadata["team"] != "a" || n.Name != "rt" {
		t.Errorf("note of a BackOff: %+v", n)
	}
	if n := inner.got[2].Route; n.Name != "rest" || n.Summary != "" {
		t.Errorf("note of another event: %+v", n)
	}
	if good.Route.Name != "" {
		t.Error("the shared event was changed")
	}
	if c1.delivered.Load() != 1 || c1.dropped.Load() != 1 || c2.failed.Load() != 1 || c2.delivered.Load() != 0 {
		t.Errorf("route counts: %d delivered %d dropped; %d failed %d delivered", c1.delivered.Load(), c1.dropped.Load(), c2.failed.Load(), c2.delivered.Load())
	}
}

// A Route's noise control: its BackOff events are grouped by reason and wait a moment for
// company, another Route's events to the same Receiver are not; the webhook gets one message
// for the group with .Folded counting the others.
func TestRouteNoiseControl(t *testing.T) {
	objs := secrets{"team-a/hook": {"KEY": []byte("k")}}
	h := newHook(t, "k")
	mgr, p := newTestManager(t, objs)
	rcv := hookReceiver("team-a", "chat", h)
	rcv.Spec.Template = `{"Name":"{{ .InvolvedObject.Name }}/{{ .Folded }}"}`
	wait := metav1.Duration{Duration: 300 * time.Millisecond}
	if _, err := mgr.Apply(Snapshot{
		Receivers: []api.Receiver{rcv},
		Routes: []api.Route{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "a-crashes"}, Spec: api.RouteSpec{Receivers: []string{"chat"}, Reasons: []string{"BackOff"}, GroupBy: []string{"reason"}, GroupWait: &wait}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "b-rest"}, Spec: api.RouteSpec{Receivers: []string{"chat"}}},
		},
	}, true); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"w1", "w2", "w3"} {
		p.Push(event("team-a", "Pod", n, "Warning", "BackOff", ""))
	}
	p.Push(event("team-a", "Pod", "m1", "Warning", "FailedMount", ""))
	h.wait(t, "m1/0", "w3/2")
}

// A Receiver whose template renders invalid JSON for a JSON receiver is not ready, with the
// template's problem in its status, and the others run.
func TestReceiverWithABadTemplate(t *testing.T) {
	h := newHook(t, "k")
	mgr, _ := newTestManager(t, secrets{"team-a/hook": {"KEY": []byte("k")}})
	bad := hookReceiver("team-a", "bad", h)
	bad.Spec.Template = `{"reason": {{ .Reason }}}`
	statuses, err := mgr.Apply(Snapshot{Receivers: []api.Receiver{bad, hookReceiver("team-a", "good", h)}}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		switch s.Name {
		case "bad":
			if s.Ready || s.Reason != "SinkInvalid" || !strings.Contains(s.Message, "JSON") {
				t.Errorf("bad template: %+v", s)
			}
		case "good":
			if !s.Ready {
				t.Errorf("good Receiver: %+v", s)
			}
		}
	}
}

// A Receiver that worked and then fails (its Secret unreadable for a moment, an edit with a
// typo) keeps delivering with its last working version, and its status says why it is not
// ready; a deleted one goes.
func TestReceiverKeepsItsLastWorkingVersion(t *testing.T) {
	objs := secrets{"team-a/hook": {"KEY": []byte("k")}}
	h := newHook(t, "k")
	mgr, p := newTestManager(t, objs)
	snap := Snapshot{
		Receivers: []api.Receiver{hookReceiver("team-a", "chat", h)},
		Routes:    []api.Route{{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "all"}, Spec: api.RouteSpec{Receivers: []string{"chat"}}}},
	}
	if _, err := mgr.Apply(snap, false); err != nil {
		t.Fatal(err)
	}
	delete(objs, "team-a/hook") // the Secret cannot be read
	statuses, err := mgr.Apply(snap, false)
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	for _, s := range statuses {
		if s.Kind == "Receiver" {
			st = s
		}
	}
	if st.Ready || st.Reason != "SecretNotReadable" || !strings.Contains(st.Message, "keeps delivering with the last version that worked") {
		t.Fatalf("status %+v", st)
	}
	p.Push(event("team-a", "Pod", "p1", "Warning", "BackOff", ""))
	h.wait(t, "p1")
	snap.Receivers = nil
	if _, err := mgr.Apply(snap, false); err != nil {
		t.Fatal(err)
	}
	if len(mgr.Sinks()) != 0 {
		t.Errorf("a deleted Receiver still runs: %v", mgr.Sinks())
	}
}
