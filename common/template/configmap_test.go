package template

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const (
	cmNS   = "monitoring"
	cmName = "herald-body"
)

func bodyConfigMap(content string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: cmNS},
		Data:       map[string]string{ContentKey: content},
	}
}

func cmOptions(kube *fake.Clientset, m *Metrics) Options {
	return Options{Owner: "--sink #1 (webhook)", SinkID: "webhook#1", JSON: true, Kube: kube, Metrics: m,
		ConfigMapName: cmName, ConfigMapNamespace: cmNS, Inline: `{"inline":true}`, Default: KubeEventerDefault}
}

// renderV renders the sample event and returns its "v" field.
func renderV(t *testing.T, b *Body) string {
	t.Helper()
	out, err := b.Render(SampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ V string }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return doc.V
}

// eventually polls cond until it holds; the deadline only bounds a failing test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestConfigMapLoad(t *testing.T) {
	kube := fake.NewClientset(bodyConfigMap(`{"v":"{{ .Reason }} {{ .Message }}"}`))
	b, err := New(context.Background(), cmOptions(kube, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, want := renderV(t, b), "BackOff "+SampleEvent().Message; got != want {
		t.Errorf("got %q, want %q (the ConfigMap wins over body_template and the default)", got, want)
	}
	if b.Source() != `ConfigMap monitoring/herald-body, key "content"` {
		t.Errorf("Source() = %q", b.Source())
	}
}

func TestConfigMapStartErrors(t *testing.T) {
	forbidden := func(verb string) func(k8stesting.Action) (bool, runtime.Object, error) {
		return func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, cmName,
				errorString(`User "system:serviceaccount:monitoring:herald" cannot `+verb+` resource "configmaps"`))
		}
	}
	grant := "grant get,list,watch on configmaps in monitoring to herald's ServiceAccount"
	tests := []struct {
		name    string
		objects []runtime.Object
		setup   func(*fake.Clientset)
		want    []string
	}{
		{"missing", nil, nil, []string{"--sink #1 (webhook)", "ConfigMap monitoring/herald-body (custom_body_configmap) does not exist",
			"create it with the body template under data.content", "custom_body_configmap_namespace"}},
		{"no content key", []runtime.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: cmNS},
			Data: map[string]string{"body": "x", "Content": "y"}}}, nil,
			[]string{`ConfigMap monitoring/herald-body has no key "content" (its keys: [Content body])`, "put the body template under data.content"}},
		{"broken template", []runtime.Object{bodyConfigMap(`{"v": {{ .Reason }}}`)}, nil,
			[]string{`ConfigMap monitoring/herald-body, key "content" is sent as JSON`, "line 1, column 7"}},
		{"get forbidden", []runtime.Object{bodyConfigMap(`{}`)}, func(k *fake.Clientset) {
			k.PrependReactor("get", "configmaps", forbidden("get"))
		}, []string{"herald may not get ConfigMap monitoring/herald-body", grant}},
		{"list forbidden", []runtime.Object{bodyConfigMap(`{}`)}, func(k *fake.Clientset) {
			k.PrependReactor("list", "configmaps", forbidden("list"))
		}, []string{"herald may not list ConfigMap monitoring/herald-body", grant}},
		{"watch forbidden", []runtime.Object{bodyConfigMap(`{}`)}, func(k *fake.Clientset) {
			k.PrependWatchReactor("configmaps", func(k8stesting.Action) (bool, watch.Interface, error) {
				_, _, err := forbidden("watch")(nil)
				return true, nil, err
			})
		}, []string{"herald may not watch ConfigMap monitoring/herald-body", grant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(tt.objects...)
			if tt.setup != nil {
				tt.setup(kube)
			}
			b, err := New(context.Background(), cmOptions(kube, nil))
			if err == nil {
				b.Close()
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
		// A kube-eventer template starts anyway, as kube-eventer did: with the default body
		// while the ConfigMap cannot be used (or, when only the watch is denied, with the
		// ConfigMap read once), and one warning that says the same.
		t.Run(tt.name+", kube-eventer", func(t *testing.T) {
			kube := fake.NewClientset(tt.objects...)
			if tt.setup != nil {
				tt.setup(kube)
			}
			var warnings []string
			o := cmOptions(kube, nil)
			o.KubeEventer = true
			o.Warnf = func(name, format string, args ...any) {
				warnings = append(warnings, name+": "+fmt.Sprintf(format, args...))
			}
			b, err := New(context.Background(), o)
			if err != nil {
				t.Fatalf("New failed; kube-eventer started: %v", err)
			}
			defer b.Close()
			if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "custom_body_configmap: ") {
				t.Fatalf("warnings %q, want one about custom_body_configmap", warnings)
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(warnings[0], w) {
					t.Errorf("warning lacks %q:\n%s", w, warnings[0])
				}
			}
			out, err := b.Render(SampleEvent())
			if err != nil {
				t.Fatal(err)
			}
			readOnce := strings.HasSuffix(tt.name, "watch forbidden") || tt.name == "list forbidden"
			switch {
			case readOnce && string(out) != "{}":
				t.Errorf("rendered %s, want the ConfigMap's template read once", out)
			case !readOnce && !strings.Contains(string(out), `"EventReason": "BackOff"`):
				t.Errorf("rendered %s, want kube-eventer's default body", out)
			case !readOnce && !strings.Contains(b.Source(), "kube-eventer's default body, standing in until ConfigMap monitoring/herald-body"):
				t.Errorf("Source() = %q", b.Source())
			}
		})
	}
}

// TestConfigMapFallbackSwitches: a kube-eventer template whose ConfigMap is missing at start is
// served by the default body until the ConfigMap is created, then by the ConfigMap's template.
func TestConfigMapFallbackSwitches(t *testing.T) {
	kube := fake.NewClientset()
	o := cmOptions(kube, nil)
	o.KubeEventer = true
	o.Warnf = func(string, string, ...any) {}
	b, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := kube.CoreV1().ConfigMaps(cmNS).Create(context.Background(), bodyConfigMap(`{"v":"late {{ .Reason }}"}`), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ConfigMap's template in use", func() bool {
		out, err := b.Render(SampleEvent())
		return err == nil && string(out) == `{"v":"late BackOff"}`
	})
	if b.Source() != `ConfigMap monitoring/herald-body, key "content"` {
		t.Errorf("Source() = %q", b.Source())
	}
}

// TestConfigMapWatch walks a ConfigMap through edits: good edits apply, broken ones are
// refused and counted while the last good template stays, deletion keeps it, re-creation
// applies. Renders run concurrently throughout and always see a whole template.
func TestConfigMapWatch(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientset(bodyConfigMap(`{"v":"one"}`), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: cmNS}, Data: map[string]string{ContentKey: "{{ broken"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := cmOptions(kube, m)
	o.Timeout = 300 * time.Millisecond
	b, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	applied := func() float64 { return testutil.ToFloat64(m.reloads.WithLabelValues("webhook#1", ReloadApplied)) }
	rejected := func() float64 { return testutil.ToFloat64(m.reloads.WithLabelValues("webhook#1", ReloadRejected)) }
	if n := testutil.CollectAndCount(reg, "herald_template_reloads_total"); n != 2 {
		t.Errorf("want both series at zero after New, got %d series", n)
	}

	// Render concurrently the whole time: every body is one of the good templates.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var renderErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := b.Render(SampleEvent())
			if err == nil && !strings.Contains("one two three four", renderVNoT(out)) {
				err = errorString("unexpected body " + string(out))
			}
			if err != nil {
				renderErr = err
				return
			}
		}
	}()

	cms := kube.CoreV1().ConfigMaps(cmNS)
	update := func(cm *corev1.ConfigMap) {
		t.Helper()
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	update(bodyConfigMap(`{"v":"two"}`))
	eventually(t, "the edit to apply", func() bool { return renderV(t, b) == "two" })
	if applied() != 1 || rejected() != 0 {
		t.Errorf("applied %v, rejected %v; want 1, 0", applied(), rejected())
	}

	// Broken edits: a parse error, invalid JSON, a missing key. Each is refused and counted.
	update(bodyConfigMap(`{"v":"{{ .Reason "}`))
	eventually(t, "the parse error to be refused", func() bool { return rejected() == 1 })
	update(bodyConfigMap(`{"v": {{ .Message }}}`))
	eventually(t, "the invalid JSON to be refused", func() bool { return rejected() == 2 })
	update(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: cmNS}, Data: map[string]string{"contents": `{"v":"x"}`}})
	eventually(t, "the missing key to be refused", func() bool { return rejected() == 3 })
	// Edits past a budget: a range over a huge number, nested ranges that multiply past
	// MaxRangeIterations, a sample render past the time budget (a call that doubles at each
	// level). Refused and counted the same way; the render goroutine sees none of them.
	update(bodyConfigMap(`{"v":"{{ range 100000000000 }}{{ end }}"}`))
	eventually(t, "the huge range to be refused", func() bool { return rejected() == 4 })
	update(bodyConfigMap(`{"v":"{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}"}`))
	eventually(t, "the nested ranges to be refused", func() bool { return rejected() == 5 })
	update(bodyConfigMap(`{{ define "r" }}{{ if . }}{{ template "r" slice . 1 }}{{ template "r" slice . 1 }}{{ end }}{{ end }}{"v":"{{ template "r" .Message }}"}`))
	eventually(t, "the slow template to be refused", func() bool { return rejected() == 6 })
	if got := renderV(t, b); got != "two" {
		t.Errorf("after broken edits the body is %q, want the last good template", got)
	}

	// Changes that are no edit of the template are neither applied nor refused: another
	// ConfigMap in the namespace, a label on this one. Events arrive in order, so once the
	// next real edit applies these have been seen.
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: cmNS}, Data: map[string]string{ContentKey: "{{ still broken"}}
	if _, err := cms.Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	update(bodyConfigMap(`{"v":"three"}`))
	eventually(t, "the third template", func() bool { return renderV(t, b) == "three" })
	labelled := bodyConfigMap(`{"v":"three"}`)
	labelled.Labels = map[string]string{"team": "sre"}
	update(labelled)
	update(bodyConfigMap(`{"v":"four"}`))
	eventually(t, "the fourth template", func() bool { return renderV(t, b) == "four" })
	if applied() != 3 || rejected() != 6 {
		t.Errorf("applied %v, rejected %v; want 3, 6", applied(), rejected())
	}

	// Deleting the ConfigMap keeps the last good template. Re-creating it broken is refused
	// (and shows the delete has been handled); fixing it applies.
	if err := cms.Delete(ctx, cmName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, bodyConfigMap(`{{ if }}`), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the broken re-created ConfigMap to be refused", func() bool { return rejected() == 7 })
	if got := renderV(t, b); got != "four" {
		t.Errorf("after deletion the body is %q, want the last good template", got)
	}
	update(bodyConfigMap(`{"v":"one"}`))
	eventually(t, "the fixed ConfigMap", func() bool { return applied() == 4 })
	if got := renderV(t, b); got != "one" {
		t.Errorf("after the fix the body is %q", got)
	}

	close(stop)
	wg.Wait()
	if renderErr != nil {
		t.Errorf("concurrent render: %v", renderErr)
	}
}

// TestCloseStopsWatch: Close ends the watch (and may be repeated); so does cancelling ctx.
func TestCloseStopsWatch(t *testing.T) {
	kube := fake.NewClientset(bodyConfigMap(`{"v":"one"}`))
	b, err := New(context.Background(), cmOptions(kube, nil))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close()
	select {
	case <-b.done:
	default:
		t.Error("watch still running after Close")
	}
	if got := renderV(t, b); got != "one" {
		t.Errorf("a closed Body renders %q, want its last template", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	b2, err := New(ctx, cmOptions(kube, nil))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually(t, "the watch to stop with its context", func() bool {
		select {
		case <-b2.done:
			return true
		default:
			return false
		}
	})
	b2.Close()
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("a second NewMetrics on the same registry: %v", err)
	}
	m1.reload("a", ReloadApplied)
	m2.reload("a", ReloadApplied)
	if got := testutil.ToFloat64(m1.reloads.WithLabelValues("a", ReloadApplied)); got != 2 {
		t.Errorf("shared counter = %v, want 2", got)
	}
	var none *Metrics
	none.reload("a", ReloadRejected) // nil Metrics count nothing and do not panic
	if _, err := NewMetrics(nil); err != nil {
		t.Error(err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// renderVNoT is renderV for the render goroutine, which must not call t.Fatal.
func renderVNoT(out []byte) string {
	var doc struct{ V string }
	if json.Unmarshal(out, &doc) != nil || doc.V == "" {
		return "<invalid>"
	}
	return doc.V
}
