package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 123456789, time.UTC)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, c := range []Checkpoint{{ResourceVersion: 1, Time: t0}, {ResourceVersion: math.MaxUint64, Time: t0.In(time.FixedZone("CST", 8*3600))}} {
		b := Encode(c)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if got.ResourceVersion != c.ResourceVersion || !got.Time.Equal(c.Time) {
			t.Errorf("round trip of %+v gave %+v", c, got)
		}
		// A position, not per-event state: the same small size however many events were seen.
		if len(b) > 120 {
			t.Errorf("encoding is %d bytes: %s", len(b), b)
		}
	}
	if got := string(Encode(Checkpoint{ResourceVersion: 42, Time: t0})); got != `{"version":3,"resourceVersion":"42","time":"2026-11-23T18:53:15.123456789Z"}` {
		t.Errorf("encoding changed: %s", got)
	}
	withSinks := Checkpoint{ResourceVersion: 42, Sinks: map[string]uint64{"webhook:http://b/": 50, "kafka:?brokers=k:9092": 42}, Time: t0}
	b := Encode(withSinks)
	if got := string(b); got != `{"version":3,"resourceVersion":"42","sinks":{"kafka:?brokers=k:9092":"42","webhook:http://b/":"50"},"time":"2026-11-23T18:53:15.123456789Z"}` {
		t.Errorf("encoding with sinks changed: %s", got)
	}
	got, err := Decode(b)
	if err != nil || !samePosition(got, withSinks) {
		t.Errorf("round trip of %+v gave %+v, %v", withSinks, got, err)
	}
	if got.Sink("webhook:http://b/") != 50 || got.Sink("new:sink") != 42 {
		t.Errorf("Sink() = %d for a saved sink (want 50), %d for a new one (want 42)", got.Sink("webhook:http://b/"), got.Sink("new:sink"))
	}
	withScopes := Checkpoint{ResourceVersion: 40, Scopes: map[string]uint64{"shop": 40, "pay": 90}, Sinks: map[string]uint64{"a": 90}, Time: t0}
	got, err = Decode(Encode(withScopes))
	if err != nil || !samePosition(got, withScopes) || got.Scope("pay") != 90 || got.Scope("other") != 40 {
		t.Errorf("round trip of %+v gave %+v, %v", withScopes, got, err)
	}
	full := Checkpoint{ResourceVersion: 40, Restarts: map[string]int32{"uid-1/app": 3}, Time: t0,
		Origin: Origin{Instance: "team-a", Config: "c0ffee", Process: "pod-1_1234"}}
	got, err = Decode(Encode(full))
	if err != nil || !samePosition(got, full) || got.Origin != full.Origin {
		t.Errorf("round trip of %+v gave %+v, %v", full, got, err)
	}
	// What herald 0.2 wrote (format 2) still resumes.
	if v2, err := Decode([]byte(`{"version":2,"resourceVersion":"42","sinks":{"a":"43"},"time":"2026-11-23T18:53:15Z"}`)); err != nil || v2.Sink("a") != 43 {
		t.Errorf("version 2: %+v, %v", v2, err)
	}
	// What herald 0.1 wrote still resumes.
	v1, err := Decode([]byte(`{"version":1,"resourceVersion":"42","time":"2026-11-23T18:53:15Z"}`))
	if err != nil || v1.ResourceVersion != 42 || v1.Sink("any") != 42 {
		t.Errorf("version 1: %+v, %v", v1, err)
	}
}

func TestDecodeRefusesWhatItCannotTrust(t *testing.T) {
	for _, in := range []string{
		``, `not json`, `{"version":4,"resourceVersion":"42","time":"2026-11-23T18:53:15Z"}`,
		`{"version":2,"resourceVersion":"42","restarts":{"u/c":1},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":2,"resourceVersion":"42","writer":{"instance":"a"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":3,"resourceVersion":"42","restarts":{"u/c":0},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":3,"resourceVersion":"42","writer":{"instance":"a","other":1},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":1,"resourceVersion":"42","sinks":{"a":"43"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":2,"resourceVersion":"42","sinks":{"a":"-1"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":2,"resourceVersion":"42","sinks":{"a":"0"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":2,"resourceVersion":"42","scopes":{"shop":"x"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":1,"resourceVersion":"42","scopes":{"shop":"43"},"time":"2026-11-23T18:53:15Z"}`,
		`{"version":1,"resourceVersion":"x42","time":"2026-11-23T18:53:15Z"}`,
		`{"version":1,"resourceVersion":"0","time":"2026-11-23T18:53:15Z"}`,
		`{"version":1,"resourceVersion":"42","time":"yesterday"}`,
		`{"version":1,"resourceVersion":"42","time":"2026-11-23T18:53:15Z","states":{}}`,
	} {
		if c, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", in, c)
		}
	}
}

func TestFileSaveLoad(t *testing.T) {
	f := &File{Path: filepath.Join(t.TempDir(), "cp")}
	if _, err := f.Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing file: %v, want ErrNotFound", err)
	}
	for _, rv := range []uint64{10, 20} {
		if err := f.Save(Checkpoint{ResourceVersion: rv, Time: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := f.Load()
		if err != nil || got.ResourceVersion != rv {
			t.Fatalf("Load = %+v, %v; want rv %d", got, err, rv)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(f.Path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := os.WriteFile(f.Path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(); err == nil || !strings.Contains(err.Error(), "file:"+f.Path) {
		t.Errorf("Load of garbage: %v; want an error naming the file", err)
	}
	bad := &File{Path: filepath.Join(t.TempDir(), "no-such-dir", "cp")}
	if err := bad.Save(Checkpoint{ResourceVersion: 1, Time: t0}); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

func TestConfigMapSaveLoad(t *testing.T) {
	client := fake.NewClientset()
	cm := &ConfigMap{Client: client, Namespace: "herald", Name: "herald-checkpoint"}
	if _, err := cm.Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before any save: %v, want ErrNotFound", err)
	}
	if err := cm.Save(Checkpoint{ResourceVersion: 10, Time: t0}); err != nil {
		t.Fatal(err) // creates it
	}
	if err := cm.Save(Checkpoint{ResourceVersion: 20, Time: t0}); err != nil {
		t.Fatal(err) // updates it
	}
	// Another replica (a new leader) reads what this one saved.
	other := &ConfigMap{Client: client, Namespace: "herald", Name: "herald-checkpoint"}
	got, err := other.Load()
	if err != nil || got.ResourceVersion != 20 {
		t.Fatalf("Load = %+v, %v; want rv 20", got, err)
	}
	// Someone else writes in between: the conflict is resolved by re-reading.
	if err := other.Save(Checkpoint{ResourceVersion: 30, Time: t0}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	conflicts := 0
	client.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if conflicts == 0 {
			conflicts++
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "herald-checkpoint", errors.New("stale"))
		}
		return false, nil, nil
	})
	if err := cm.Save(Checkpoint{ResourceVersion: 40, Time: t0}); err != nil {
		t.Fatal(err)
	}
	stored, _ := client.CoreV1().ConfigMaps("herald").Get(t.Context(), "herald-checkpoint", metav1.GetOptions{})
	if c, err := Decode([]byte(stored.Data[ConfigMapKey])); err != nil || c.ResourceVersion != 40 || conflicts != 1 {
		t.Errorf("stored %q (%v) after %d conflicts; want rv 40 after 1", stored.Data[ConfigMapKey], err, conflicts)
	}
	// Forbidden: the error says which RBAC rule is missing.
	client.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "herald-checkpoint", errors.New("no"))
	})
	if _, err := (&ConfigMap{Client: client, Namespace: "herald", Name: "herald-checkpoint"}).Load(); err == nil || !strings.Contains(err.Error(), "Role") {
		t.Errorf("forbidden Load: %v; want a hint about the Role", err)
	}
}

func TestParse(t *testing.T) {
	client := fake.NewClientset()
	good := map[string]string{
		"off":                                "",
		"file:/var/lib/herald/checkpoint":    "file:/var/lib/herald/checkpoint every 0s",
		"configmap:herald/herald-checkpoint": "configmap:herald/herald-checkpoint every 1s",
		"file:/run/herald/cp,configmap:herald/herald-checkpoint": "file:/run/herald/cp every 0s; configmap:herald/herald-checkpoint every 1s",
	}
	for in, want := range good {
		targets, err := Parse(in, client, time.Second)
		var got []string
		for _, tg := range targets {
			got = append(got, fmt.Sprintf("%s every %s", tg.Store, tg.Interval))
		}
		if err != nil || strings.Join(got, "; ") != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "on", "file:", "configmap:herald", "configmap:/x", "configmap:Herald/x", "configmap:herald/X_Y", "off:x", "etcd:x",
		"off,file:/x", "file:/x,", "file:/x,file:/x"} {
		if s, err := Parse(in, client, time.Second); err == nil || !strings.Contains(err.Error(), "--checkpoint=") {
			t.Errorf("Parse(%q) = %v, %v; want an error naming the flag", in, s, err)
		}
	}
}

// The newest of several stores wins; a store with nothing or garbage is passed over.
func TestLoadNewest(t *testing.T) {
	dir := t.TempDir()
	older := &File{Path: filepath.Join(dir, "older")}
	newer := &File{Path: filepath.Join(dir, "newer")}
	empty := &File{Path: filepath.Join(dir, "empty")}
	garbage := &File{Path: filepath.Join(dir, "garbage")}
	if err := older.Save(Checkpoint{ResourceVersion: 10, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if err := newer.Save(Checkpoint{ResourceVersion: 12, Time: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage.Path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Store: older}, {Store: empty}, {Store: garbage}, {Store: newer}}
	c, from, garbled, err := LoadNewest(targets)
	if err != nil || c.ResourceVersion != 12 || from != newer {
		t.Errorf("LoadNewest = %+v from %v, %v; want 12 from %s", c, from, err, newer)
	}
	if len(garbled) != 1 || !strings.Contains(garbled[0].Error(), garbage.Path) {
		t.Errorf("garbled = %v, want the garbage file's error, naming it", garbled)
	}
	// Only garbage: not found, and the garbage reported, never a silent "none saved".
	if _, _, garbled, err := LoadNewest([]Target{{Store: empty}, {Store: garbage}}); !errors.Is(err, ErrNotFound) || len(garbled) != 1 {
		t.Errorf("LoadNewest of nothing usable: %v (garbled %v), want ErrNotFound and the garbage reported", err, garbled)
	}
	unreadable := &File{Path: dir} // a directory: read fails with an I/O error
	if _, _, _, err := LoadNewest([]Target{{Store: older}, {Store: unreadable}}); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("LoadNewest with an unreadable store: %v, want its error", err)
	}
}

// memStore records saves; fail makes Save fail.
type memStore struct {
	saves []Checkpoint
	fail  error
}

func (m *memStore) Load() (Checkpoint, error) { return Checkpoint{}, ErrNotFound }
func (m *memStore) Save(c Checkpoint) error {
	if m.fail != nil {
		return m.fail
	}
	m.saves = append(m.saves, c)
	return nil
}
func (m *memStore) String() string { return "mem" }

func TestWriterSavesOnlyWhenMovedAndAlwaysAtTheEnd(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	store := &memStore{}
	var pos uint64
	m := NewMetrics(nil)
	w := NewWriter([]Target{{Store: store, Interval: time.Second}}, func() Checkpoint { return Checkpoint{ResourceVersion: pos} }, clk, m, Checkpoint{ResourceVersion: 5, Time: t0})
	step := func() { clk.Step(time.Second); w.save(false) }

	step() // position unknown (0): nothing saved
	pos = 5
	step() // not moved since the loaded checkpoint
	pos = 9
	step()
	step() // not moved
	pos = 12
	step()
	store.fail = errors.New("disk full")
	pos = 13
	step()
	if testutil.ToFloat64(m.failures) != 1 {
		t.Errorf("failures = %v, want 1", testutil.ToFloat64(m.failures))
	}
	store.fail = nil
	step() // retried
	clk.Step(DefaultRefresh)
	w.save(false) // unmoved but old: refreshed so the time stays true
	if err := w.Final(); err != nil {
		t.Fatal(err)
	}
	var rvs []uint64
	for _, s := range store.saves {
		rvs = append(rvs, s.ResourceVersion)
	}
	if want := []uint64{9, 12, 13, 13, 13}; fmt.Sprint(rvs) != fmt.Sprint(want) {
		t.Fatalf("saved %v, want %v", rvs, want)
	}
	if w.Last().ResourceVersion != 13 || !w.Last().Time.Equal(clk.Now()) || testutil.ToFloat64(m.position) != 13 {
		t.Errorf("last %+v, gauge %v", w.Last(), testutil.ToFloat64(m.position))
	}
}

// A per-sink or per-namespace position that moves is a move even when the overall one stays,
// and is saved.
func TestWriterSavesPerSinkMoves(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	store := &memStore{}
	pos := Checkpoint{ResourceVersion: 5, Sinks: map[string]uint64{"a": 5, "b": 5}}
	w := NewWriter([]Target{{Store: store}}, func() Checkpoint { return pos }, clk, nil, Checkpoint{ResourceVersion: 5, Sinks: map[string]uint64{"a": 5, "b": 5}, Time: t0})
	w.save(false)
	pos = Checkpoint{ResourceVersion: 5, Sinks: map[string]uint64{"a": 5, "b": 9}}
	w.save(false)
	if len(store.saves) != 1 || store.saves[0].Sinks["b"] != 9 {
		t.Errorf("saves %+v, want one with b at 9", store.saves)
	}
	pos = Checkpoint{ResourceVersion: 5, Sinks: map[string]uint64{"a": 5, "b": 9}, Scopes: map[string]uint64{"shop": 12}}
	w.save(false)
	if len(store.saves) != 2 || store.saves[1].Scope("shop") != 12 {
		t.Errorf("saves %+v, want a second one with shop at 12", store.saves)
	}
}

// Run saves soon after each delivery to a target with no interval (a file) and at most once per
// interval to the other (a ConfigMap), on the injected clock.
func TestWriterRunSavesAfterDeliveries(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	file, cm := &memStore{}, &memStore{}
	var mu sync.Mutex
	pos := uint64(1)
	setPos := func(p uint64) { mu.Lock(); pos = p; mu.Unlock() }
	w := NewWriter([]Target{{Store: file}, {Store: cm, Interval: time.Second}},
		func() Checkpoint { mu.Lock(); defer mu.Unlock(); return Checkpoint{ResourceVersion: pos} }, clk, nil, Checkpoint{ResourceVersion: 1, Time: t0})
	saves := func(m *memStore) int { w.mu.Lock(); defer w.mu.Unlock(); return len(m.saves) }
	ctx, cancel := context.WithCancel(context.Background())
	progress := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { w.Run(ctx, progress); close(done) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (file saves %d, configmap saves %d)", what, saves(file), saves(cm))
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := 1; i <= 3; i++ { // three deliveries without the clock moving
		setPos(uint64(1 + i))
		progress <- struct{}{}
		waitFor("the file save after a delivery", func() bool { return saves(file) == i })
	}
	// The ConfigMap saved after the first delivery and waits for its interval for the rest.
	if got := saves(cm); got != 1 {
		t.Errorf("configmap saved %d times within one interval, want 1", got)
	}
	waitFor("the writer to sleep out the configmap's interval", clk.HasWaiters)
	clk.Step(time.Second)
	waitFor("the configmap save after its interval", func() bool { return saves(cm) == 2 })
	if got := cm.saves[1].ResourceVersion; got != 4 {
		t.Errorf("configmap's second save at %d, want the latest, 4", got)
	}
	cancel()
	<-done
}

// With no checkpoint yet, the first one is saved as soon as there is a position, not a whole
// interval later: a process killed in its first second still resumes.
func TestWriterSavesTheFirstCheckpointPromptly(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	store := &memStore{}
	saved := make(chan struct{})
	w := NewWriter([]Target{{Store: store, Interval: time.Second}}, func() Checkpoint { return Checkpoint{ResourceVersion: 7} }, clk, nil, Checkpoint{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.Run(ctx, nil); close(saved) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(firstPoll)
	for w.Last().ResourceVersion != 7 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-saved
	if len(store.saves) != 1 {
		t.Errorf("%d saves, want 1", len(store.saves))
	}
}
