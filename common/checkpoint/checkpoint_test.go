package checkpoint

import (
	"context"
	"errors"
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
	if got := string(Encode(Checkpoint{ResourceVersion: 42, Time: t0})); got != `{"version":1,"resourceVersion":"42","time":"2026-11-23T18:53:15.123456789Z"}` {
		t.Errorf("encoding changed: %s", got)
	}
}

func TestDecodeRefusesWhatItCannotTrust(t *testing.T) {
	for _, in := range []string{
		``, `not json`, `{"version":2,"resourceVersion":"42","time":"2026-11-23T18:53:15Z"}`,
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
		"off":                                "<nil>",
		"file:/var/lib/herald/checkpoint":    "file:/var/lib/herald/checkpoint",
		"configmap:herald/herald-checkpoint": "configmap:herald/herald-checkpoint",
	}
	for in, want := range good {
		s, err := Parse(in, client)
		got := "<nil>"
		if s != nil {
			got = s.String()
		}
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "on", "file:", "configmap:herald", "configmap:/x", "configmap:Herald/x", "configmap:herald/X_Y", "off:x", "etcd:x"} {
		if s, err := Parse(in, client); err == nil || !strings.Contains(err.Error(), "--checkpoint=") {
			t.Errorf("Parse(%q) = %v, %v; want an error naming the flag", in, s, err)
		}
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
	w := NewWriter(store, func() uint64 { return pos }, clk, m, Checkpoint{ResourceVersion: 5, Time: t0})
	step := func() { clk.Step(time.Second); _ = w.tick(false) }

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
	_ = w.tick(false) // unmoved but old: refreshed so the time stays true
	if err := w.Final(); err != nil {
		t.Fatal(err)
	}
	var rvs []uint64
	for _, s := range store.saves {
		rvs = append(rvs, s.ResourceVersion)
	}
	want := []uint64{9, 12, 13, 13, 13}
	if len(rvs) != len(want) {
		t.Fatalf("saved %v, want %v", rvs, want)
	}
	for i := range want {
		if rvs[i] != want[i] {
			t.Fatalf("saved %v, want %v", rvs, want)
		}
	}
	if w.Last().ResourceVersion != 13 || !w.Last().Time.Equal(clk.Now()) || testutil.ToFloat64(m.position) != 13 {
		t.Errorf("last %+v, gauge %v", w.Last(), testutil.ToFloat64(m.position))
	}
}

// Run saves on the injected clock's ticks, at most once per interval.
func TestWriterRunTicks(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	store := &memStore{}
	var mu sync.Mutex
	pos := uint64(1)
	w := NewWriter(store, func() uint64 { mu.Lock(); defer mu.Unlock(); pos++; return pos }, clk, nil, Checkpoint{ResourceVersion: 1, Time: t0})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for i := 0; i < 3; i++ {
		for !clk.HasWaiters() {
			time.Sleep(time.Millisecond)
		}
		clk.Step(500 * time.Millisecond)
		mu.Lock()
		p := pos
		mu.Unlock()
		if p != uint64(1+i) {
			t.Fatalf("saved before a full interval: position read %d times", p-1)
		}
		clk.Step(500 * time.Millisecond)
		for {
			mu.Lock()
			p = pos
			mu.Unlock()
			if p == uint64(2+i) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	<-done
	if len(store.saves) != 3 {
		t.Errorf("%d saves over 3 intervals, want 3", len(store.saves))
	}
}

// With no checkpoint yet, the first one is saved as soon as there is a position, not a whole
// interval later: a process killed in its first second still resumes.
func TestWriterSavesTheFirstCheckpointPromptly(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	store := &memStore{}
	saved := make(chan struct{})
	w := NewWriter(store, func() uint64 { return 7 }, clk, nil, Checkpoint{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.Run(ctx); close(saved) }()
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
