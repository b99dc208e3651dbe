package kubernetes

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

// A streamed initial list reaches Replace through the store's transformer, which turns the
// events that will only be recorded into listedEvents. Whatever the checkpoint, Replace must
// then do exactly what it does with the whole events: deliver the same events in the same
// order, track the same states, keep the same pod history, count the same outcomes and leave
// the same position.
func TestStreamedListMatchesWholeList(t *testing.T) {
	list := func() []any {
		var out []any
		for i := 1; i <= 40; i++ {
			ev := eventAt(i, uint64(10*i), time.Duration(i-70)*time.Minute)
			ev.InvolvedObject.Name = fmt.Sprintf("web-%d", i%7) // several events per pod
			ev.Count = int32(i)
			out = append(out, ev)
		}
		return append(out, eventAt(3, 30, -67*time.Minute)) // a duplicate UID
	}
	cases := map[string]*Since{
		"no checkpoint":                 nil,
		"resuming in the middle":        {ResourceVersion: 205, Time: t0.Add(-10 * time.Minute)},
		"resuming before everything":    {ResourceVersion: 1, Time: t0.Add(-10 * time.Minute)},
		"a checkpoint ahead of the API": {ResourceVersion: 9000, Time: t0.Add(-time.Minute)},
		"resuming after a gap":          {ResourceVersion: 105, Time: t0.Add(-3 * time.Hour)},
	}
	for name, since := range cases {
		t.Run(name, func(t *testing.T) {
			type result struct {
				delivered     []string
				positions     []uint64
				tracked       int
				initial, gaps int
				gapSeconds    float64
				position      uint64
				history       map[int][]string
			}
			run := func(streamed bool) result {
				got := &collector{}
				var sc *Since
				if since != nil {
					c := *since
					sc = &c
				}
				h := newPodHistory(3, 100)
				m := NewMetrics(nil)
				s := newStore(storeOptions{cluster: "c", emit: got.emit, clock: clocktesting.NewFakeClock(t0), metrics: m, since: sc, ttl: time.Hour, history: h})
				in := list()
				if streamed {
					// What the reflector does with a streamed list: each event through the
					// transformer into a store keyed by namespace/name, then Replace with its List.
					tmp := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc, cache.WithTransformer(s.Transformer()))
					for _, obj := range in {
						if err := tmp.Add(obj); err != nil {
							t.Fatalf("temporary store: %v", err)
						}
					}
					in = tmp.List()
					if since == nil || since.ResourceVersion >= 400 {
						for _, obj := range in {
							if _, ok := obj.(*listedEvent); !ok {
								t.Fatalf("%T in the streamed list; want only listedEvents when nothing is delivered", obj)
							}
						}
					}
				} else {
					in = dedupeByName(in)
				}
				if err := s.Replace(in, "500"); err != nil {
					t.Fatal(err)
				}
				r := result{tracked: s.Len(), initial: counter(m.initial), gaps: counter(m.gaps), gapSeconds: testutil.ToFloat64(m.gapSeconds), position: s.Position(), history: map[int][]string{}}
				for _, e := range got.all() {
					r.delivered = append(r.delivered, fmt.Sprintf("%s#%d", e.UID, e.Count))
					r.positions = append(r.positions, e.Position)
				}
				for p := range 7 {
					for _, e := range h.recent("default", fmt.Sprintf("web-%d", p)) {
						r.history[p] = append(r.history[p], string(e.UID))
					}
				}
				return r
			}
			whole, streamed := run(false), run(true)
			if !slices.Equal(whole.delivered, streamed.delivered) || !slices.Equal(whole.positions, streamed.positions) {
				t.Errorf("delivered %v at %v streamed, %v at %v whole", streamed.delivered, streamed.positions, whole.delivered, whole.positions)
			}
			if whole.tracked != streamed.tracked || whole.initial != streamed.initial || whole.gaps != streamed.gaps || whole.gapSeconds != streamed.gapSeconds || whole.position != streamed.position {
				t.Errorf("streamed: tracked %d, initial %v, gaps %v, position %v; whole: %d, %v, %v, %v",
					streamed.tracked, streamed.initial, streamed.gaps, streamed.position, whole.tracked, whole.initial, whole.gaps, whole.position)
			}
			for p := range 7 {
				if !slices.Equal(whole.history[p], streamed.history[p]) {
					t.Errorf("pod web-%d history: %v streamed, %v whole", p, streamed.history[p], whole.history[p])
				}
			}
			if whole.tracked == 0 || len(whole.history) == 0 {
				t.Errorf("the case tracked nothing (%d) or kept no history (%v): it proves nothing", whole.tracked, whole.history)
			}
		})
	}
}

// dedupeByName keeps the last object per namespace/name, as the reflector's store does.
func dedupeByName(in []any) []any {
	idx := map[string]int{}
	var out []any
	for _, obj := range in {
		ev := obj.(*corev1.Event)
		k := ev.Namespace + "/" + ev.Name
		if i, ok := idx[k]; ok {
			out[i] = obj
			continue
		}
		idx[k] = len(out)
		out = append(out, obj)
	}
	return out
}
