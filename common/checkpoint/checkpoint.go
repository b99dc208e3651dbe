// Package checkpoint saves and loads herald's delivered position (an etcd resourceVersion and
// the time it was reached), so that a restart or a hand-over resumes where the last run stopped
// instead of losing or replaying events. The position is a few dozen bytes whatever the number
// of events.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// formatVersion is the "version" field of the encoding; Decode refuses others.
const formatVersion = 1

// Checkpoint is a delivered position: every event written at or below ResourceVersion had left
// every sink (delivered, filtered, rejected, or dropped and counted) by Time.
type Checkpoint struct {
	ResourceVersion uint64
	Time            time.Time
}

// wire is the stored form. resourceVersion is a string, as the API server writes it.
type wire struct {
	Version         int    `json:"version"`
	ResourceVersion string `json:"resourceVersion"`
	Time            string `json:"time"`
}

// Encode returns c as a small JSON document.
func Encode(c Checkpoint) []byte {
	b, _ := json.Marshal(wire{Version: formatVersion, ResourceVersion: strconv.FormatUint(c.ResourceVersion, 10), Time: c.Time.UTC().Format(time.RFC3339Nano)})
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
	if w.Version != formatVersion {
		return Checkpoint{}, fmt.Errorf("checkpoint format version %d; this herald reads version %d", w.Version, formatVersion)
	}
	rv, err := strconv.ParseUint(w.ResourceVersion, 10, 64)
	if err != nil || rv == 0 {
		return Checkpoint{}, fmt.Errorf("checkpoint resourceVersion %q is not a positive number", w.ResourceVersion)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint time %q: %v", w.Time, err)
	}
	return Checkpoint{ResourceVersion: rv, Time: t}, nil
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
