package objlabels

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats counts what a Lookup has done since it was created. Every call of Labels is counted
// once, under the result its caller got.
type Stats struct {
	// Hits were answered from the cache, including cached absences ("not found").
	Hits uint64
	// Misses read the object (or waited for a read another caller started) and found it.
	Misses uint64
	// NotFound read the object and found it gone; the empty answer is now cached.
	NotFound uint64
	// Errors returned an error, a cached Forbidden included.
	Errors uint64
	// MapperResets is how many times an unknown kind made the Lookup reset its RESTMapper.
	MapperResets uint64
}

// counters are plain atomics, so that a cache hit costs an atomic add and no map or label
// lookup; Prometheus reads them only when it scrapes.
type counters struct {
	hits, misses, notFound, errors, resets atomic.Uint64
}

// Stats returns the counts so far.
func (l *Lookup) Stats() Stats {
	return Stats{
		Hits:         l.stats.hits.Load(),
		Misses:       l.stats.misses.Load(),
		NotFound:     l.stats.notFound.Load(),
		Errors:       l.stats.errors.Load(),
		MapperResets: l.stats.resets.Load(),
	}
}

// register exports the counters as herald_object_labels_lookups_total{result}. On an error
// nothing stays registered, so the caller may try again with another registry.
func (c *counters) register(reg prometheus.Registerer) error {
	const help = `Lookups of the labels of an event's involved object, by result: "hit" (from the cache), "miss" (read from the API server), "not_found" (the object is gone; cached as no labels), "error" (no answer; a missing RBAC permission is logged by the caller).`
	var done []prometheus.Collector
	for _, r := range []struct {
		result string
		v      *atomic.Uint64
	}{
		{"hit", &c.hits},
		{"miss", &c.misses},
		{"not_found", &c.notFound},
		{"error", &c.errors},
	} {
		v := r.v
		col := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "herald_object_labels_lookups_total",
			Help:        help,
			ConstLabels: prometheus.Labels{"result": r.result},
		}, func() float64 { return float64(v.Load()) })
		if err := reg.Register(col); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return fmt.Errorf("objlabels: register metrics: %w", err)
		}
		done = append(done, col)
	}
	return nil
}
