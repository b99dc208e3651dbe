package honeycomb_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a Honeycomb stand-in for the batch events API, as Honeycomb documents it
// (docs.honeycomb.io/api/events/create-events): POST /1/batch/DATASET (the dataset URL-escaped
// as one path segment), the API key in X-Honeycomb-Team (401 for an unknown key), a JSON array
// of events, each {"data": {...}, "time": RFC 3339, "samplerate": N} with data required and no
// other member, an event at most 1 MB of JSON, at most 2000 fields, string fields at most 64 KB.
// It answers 200 with one {"status": 202} per event, in order, or a 400 with Honeycomb's error
// text for an event it cannot take; reject may refuse more, by the event's data.
type receiver struct {
	*httptest.Server
	keys map[string]bool

	mu       sync.Mutex
	datasets []string
	events   []received
	bodies   []int
	// reject, when set, gives an event's status and error ("" status 0: taken).
	reject func(data map[string]any) (int, string)
}

type received struct {
	Dataset string
	Data    map[string]any
	Time    time.Time
}

const goodKey = "hcaik_01jabcdefghijklmnopqrstuvw"

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	rc := &receiver{keys: map[string]bool{goodKey: true}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func replyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.EscapedPath(), "/1/batch/") {
		replyJSON(w, http.StatusNotFound, map[string]string{"error": "not found: " + r.Method + " " + r.URL.Path})
		return
	}
	seg := strings.TrimPrefix(r.URL.EscapedPath(), "/1/batch/")
	if seg == "" || strings.Contains(seg, "/") {
		replyJSON(w, http.StatusNotFound, map[string]string{"error": "dataset must be one path segment"})
		return
	}
	dataset := strings.TrimPrefix(r.URL.Path, "/1/batch/")
	if !rc.keys[r.Header.Get("X-Honeycomb-Team")] {
		replyJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown API key - check your credentials"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		replyJSON(w, http.StatusBadRequest, map[string]string{"error": "Content-Type " + ct})
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" {
		replyJSON(w, http.StatusBadRequest, map[string]string{"error": "this receiver takes plain bodies, got " + ce})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil || len(raws) == 0 {
		replyJSON(w, http.StatusBadRequest, map[string]string{"error": "Request body is malformed and cannot be read."})
		return
	}
	var out []map[string]any
	var took []received
	for _, raw := range raws {
		status, msg := rc.check(raw)
		var ev struct {
			Data map[string]any `json:"data"`
			Time time.Time      `json:"time"`
		}
		_ = json.Unmarshal(raw, &ev)
		if status == 0 && rc.reject != nil {
			status, msg = rc.reject(ev.Data)
		}
		if status != 0 {
			out = append(out, map[string]any{"status": status, "error": msg})
			continue
		}
		took = append(took, received{Dataset: dataset, Data: ev.Data, Time: ev.Time})
		out = append(out, map[string]any{"status": http.StatusAccepted})
	}
	rc.mu.Lock()
	rc.events = append(rc.events, took...)
	rc.datasets = append(rc.datasets, dataset)
	rc.bodies = append(rc.bodies, len(body))
	rc.mu.Unlock()
	replyJSON(w, http.StatusOK, out)
}

// check validates one event as Honeycomb documents it; 0 means it is well formed.
func (rc *receiver) check(raw json.RawMessage) (int, string) {
	if len(raw) > 1<<20 {
		return http.StatusBadRequest, "Event exceeds max event size of 1000000 bytes"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ev struct {
		Data       map[string]any `json:"data"`
		Time       *string        `json:"time"`
		SampleRate *int           `json:"samplerate"`
	}
	if err := dec.Decode(&ev); err != nil {
		return http.StatusBadRequest, "Request body is malformed and cannot be read."
	}
	if len(ev.Data) == 0 {
		return http.StatusBadRequest, "Request body should not be empty."
	}
	if len(ev.Data) > 2000 {
		return http.StatusBadRequest, "Event has too many columns."
	}
	for k, v := range ev.Data {
		if s, ok := v.(string); ok && len(s) > 64<<10 {
			return http.StatusBadRequest, fmt.Sprintf("field %s is longer than 64 KB", k)
		}
	}
	if ev.Time != nil {
		if _, err := time.Parse(time.RFC3339Nano, *ev.Time); err != nil {
			return http.StatusBadRequest, "time is not RFC 3339: " + *ev.Time
		}
	}
	return 0, ""
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.events...)
}
