// Package checkpoint saves and loads herald's delivered positions (etcd resourceVersions: one
// for all sinks and one per sink, and the time they were reached), so that a restart or a
// hand-over resumes where the last run stopped instead of losing or replaying events. A
// checkpoint is a few dozen bytes per sink whatever the number of events.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"
)

// formatVersion is the "version" field Encode writes. Decode also reads version 1 (herald
// 0.1: one position, no per-sink ones) and 2 (no writer, no restart counts).
const formatVersion = 3

// Checkpoint is a delivered position: every event written at or below ResourceVersion had left
// every sink (delivered, filtered, rejected, or dropped and counted) by Time; every event at or
// below Sinks[key] had left that sink. A sink missing from Sinks is at ResourceVersion.
type Checkpoint struct {
	ResourceVersion uint64
	// Sinks are per-sink positions, keyed by the sink's name= or redacted --sink value.
	Sinks map[string]uint64
	// Scopes are the source's positions per namespace watched on its own ("" for all
	// namespaces): events of scope S are done for sink K when at or below both Scope(S) and
	// Sink(K). A namespace where nothing happens then holds back no other.
	Scopes map[string]uint64
	Time   time.Time
	// Restarts are the last restart count seen per container ("podUID/container"; only counts
	// above 0) by the pod restart source, so that a restart that happened while herald was down
	// or handing over is reported after resume.
	Restarts map[string]int32
	// RestartsTracked says the saving herald watched pod restarts, so Restarts is complete
	// (empty: no container had restarted).
	RestartsTracked bool
	// Origin is who saved the checkpoint; zero in checkpoints older than format 3.
	Origin Origin
}

// Origin identifies the herald that saved a checkpoint: its --instance, a fingerprint of its
// configuration (sinks, source, cluster name), and its process. A herald that finds another
// instance's checkpoint, or sees another process write its own while it runs, reports an
// instance conflict.
type Origin struct {
	Instance string `json:"instance"`
	Config   string `json:"config"`
	Process  string `json:"process"`
}

// Sink is the position of the sink with key: its own, or ResourceVersion when it has none (it is
// new since the checkpoint was saved).
func (c Checkpoint) Sink(key string) uint64 { return at(c.Sinks, key, c.ResourceVersion) }

// Scope is the source's position for scope, or ResourceVersion when it has none.
func (c Checkpoint) Scope(scope string) uint64 { return at(c.Scopes, scope, c.ResourceVersion) }

func at(m map[string]uint64, key string, floor uint64) uint64 {
	if p, ok := m[key]; ok && p >= floor {
		return p
	}
	return floor
}

// samePosition reports whether a and b are the same positions, whatever their times.
func samePosition(a, b Checkpoint) bool {
	return a.ResourceVersion == b.ResourceVersion && maps.Equal(a.Sinks, b.Sinks) && maps.Equal(a.Scopes, b.Scopes) &&
		maps.Equal(a.Restarts, b.Restarts) && a.RestartsTracked == b.RestartsTracked
}

// wire is the stored form. resourceVersions are strings, as the API server writes them.
type wire struct {
	Version         int               `json:"version"`
	ResourceVersion string            `json:"resourceVersion"`
	Sinks           map[string]string `json:"sinks,omitempty"`
	Scopes          map[string]string `json:"scopes,omitempty"`
	Restarts        map[string]int32  `json:"restarts,omitempty"`
	RestartsTracked bool              `json:"restartsTracked,omitempty"`
	Writer          *Origin           `json:"writer,omitempty"`
	Time            string            `json:"time"`
}

func encodeMap(m map[string]uint64) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = strconv.FormatUint(v, 10)
	}
	return out
}

func decodeMap(m map[string]string, what string) (map[string]uint64, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		p, err := strconv.ParseUint(v, 10, 64)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("checkpoint position %q of %s %q is not a positive number", v, what, k)
		}
		out[k] = p
	}
	return out, nil
}

// Encode returns c as a small JSON document.
func Encode(c Checkpoint) []byte {
	w := wire{Version: formatVersion, ResourceVersion: strconv.FormatUint(c.ResourceVersion, 10), Time: c.Time.UTC().Format(time.RFC3339Nano),
		Sinks: encodeMap(c.Sinks), Scopes: encodeMap(c.Scopes)}
	if len(c.Restarts) > 0 {
		w.Restarts = c.Restarts
	}
	w.RestartsTracked = c.RestartsTracked
	if c.Origin != (Origin{}) {
		origin := c.Origin
		w.Writer = &origin
	}
	b, _ := json.Marshal(w) // map keys are sorted: the same checkpoint encodes the same
	return b
}

// DecodeError is a stored checkpoint that is not one herald can read.
type DecodeError struct{ Reason string }

func (e *DecodeError) Error() string { return e.Reason }

// Decode reads what Encode wrote. Its errors are *DecodeError.
func Decode(b []byte) (Checkpoint, error) {
	c, err := decode(b)
	if err != nil {
		return Checkpoint{}, &DecodeError{Reason: err.Error()}
	}
	return c, nil
}

func decode(b []byte) (Checkpoint, error) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Checkpoint{}, fmt.Errorf("not a herald checkpoint: %v", err)
	}
	if w.Version < 1 || w.Version > formatVersion {
		return Checkpoint{}, fmt.Errorf("checkpoint format version %d; this herald reads versions 1 to %d (a newer herald wrote it?)", w.Version, formatVersion)
	}
	if w.Version < 3 && (w.Restarts != nil || w.Writer != nil || w.RestartsTracked) {
		return Checkpoint{}, fmt.Errorf("checkpoint format version %d has no restart counts or writer", w.Version)
	}
	if w.Version == 1 && (w.Sinks != nil || w.Scopes != nil) {
		return Checkpoint{}, errors.New("checkpoint format version 1 has no per-sink or per-namespace positions")
	}
	rv, err := strconv.ParseUint(w.ResourceVersion, 10, 64)
	if err != nil || rv == 0 {
		return Checkpoint{}, fmt.Errorf("checkpoint resourceVersion %q is not a positive number", w.ResourceVersion)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint time %q: %v", w.Time, err)
	}
	c := Checkpoint{ResourceVersion: rv, Time: t}
	if c.Sinks, err = decodeMap(w.Sinks, "sink"); err != nil {
		return Checkpoint{}, err
	}
	if c.Scopes, err = decodeMap(w.Scopes, "namespace"); err != nil {
		return Checkpoint{}, err
	}
	for k, n := range w.Restarts {
		if n <= 0 {
			return Checkpoint{}, fmt.Errorf("checkpoint restart count %d of container %q is not positive", n, k)
		}
	}
	c.Restarts, c.RestartsTracked = w.Restarts, w.RestartsTracked
	if w.Writer != nil {
		c.Origin = *w.Writer
	}
	return c, nil
}

// ErrNotFound is returned by Store.Load when no checkpoint has been saved yet.
var ErrNotFound = errors.New("no checkpoint saved yet")

// Store keeps one checkpoint.
type Store interface {
	// Load returns the saved checkpoint, or ErrNotFound.
	Load() (Checkpoint, error)
	// Save replaces the saved checkpoint.
	Save(Checkpoint) error
	// String names the store for logs ("file:/var/lib/herald/checkpoint").
	String() string
}
