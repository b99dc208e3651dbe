package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// decodeBatch decodes one batch request as a receiver would: a JSON array, or NDJSON (each
// non-empty line one JSON object).
func decodeBatch(t *testing.T, r request, ndjson bool) []map[string]string {
	t.Helper()
	var out []map[string]string
	if !ndjson {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("body is not a JSON array of objects: %v\n%s", err, r.Body)
		}
		return out
	}
	if !bytes.HasSuffix(r.Body, []byte("\n")) {
		t.Errorf("NDJSON body does not end with a newline: %q", r.Body)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("NDJSON line %q: %v", sc.Bytes(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestBatchSendsOneRequestPerBatch(t *testing.T) {
	for _, tc := range []struct {
		param, contentType string
		ndjson             bool
	}{
		{"&batch=true", "application/json", false},
		{"&batch=true&batch_format=ndjson", "application/x-ndjson", true},
	} {
		t.Run(tc.param, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := build(t, "webhook:"+rc.URL+"/hook?method=POST"+tc.param, sinks.Env{})
			events := []*core.Event{event("BackOff", "line one\nline \"two\""), event("Failed", "b"), event("Unhealthy", "c")}
			if err := s.Export(context.Background(), events); err != nil {
				t.Fatal(err)
			}
			got := rc.requests()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1 for the batch", len(got))
			}
			if ct := got[0].Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			bodies := decodeBatch(t, got[0], tc.ndjson)
			var reasons []string
			for _, b := range bodies {
				reasons = append(reasons, b["EventReason"])
			}
			if !slices.Equal(reasons, []string{"BackOff", "Failed", "Unhealthy"}) {
				t.Errorf("batch holds %v, want the three events in order", reasons)
			}
			if bodies[0]["EventType"] != "Warning" || bodies[0]["EventKind"] != "Pod" {
				t.Errorf("first body %v, want kube-eventer's fields", bodies[0])
			}
		})
	}
}

// TestBatchRefusedIsSplitUntilOnlyTheBadEventIsRejected: the receiver refuses (400) any batch
// that holds an event with reason "Poison"; of eight events only that one is rejected, the seven
// others arrive, and none twice.
func TestBatchRefusedIsSplitUntilOnlyTheBadEventIsRejected(t *testing.T) {
	var delivered []string
	rc := newReceiver(t, func(_ int, r request, w http.ResponseWriter) {
		var bodies []map[string]string
		if err := json.Unmarshal(r.Body, &bodies); err != nil {
			http.Error(w, "not a JSON array", http.StatusBadRequest)
			return
		}
		for _, b := range bodies {
			if b["EventReason"] == "Poison" {
				http.Error(w, "invalid event in batch", http.StatusBadRequest)
				return
			}
		}
		for _, b := range bodies {
			delivered = append(delivered, b["EventMessage"])
		}
	})
	s := build(t, "webhook:"+rc.URL+"/hook?method=POST&batch=true", sinks.Env{})
	var events []*core.Event
	for i := range 8 {
		reason := "BackOff"
		if i == 5 {
			reason = "Poison"
		}
		events = append(events, event(reason, fmt.Sprintf("m%d", i)))
	}
	err := s.Export(context.Background(), events)
	var pe *core.PartialError
	if !errors.As(err, &pe) || len(pe.Rejected) != 1 || pe.Rejected[0] != events[5] || len(pe.Failed) != 0 {
		t.Fatalf("Export = %v, want only the Poison event rejected", err)
	}
	if want := []string{"m0", "m1", "m2", "m3", "m4", "m6", "m7"}; !slices.Equal(delivered, want) {
		t.Errorf("receiver took %v, want %v (each once, in order)", delivered, want)
	}
}

// TestBatchRetriesWholeOnAnOutage: a 503 retries the whole batch; a body that is not JSON is
// rejected alone, before anything is sent.
func TestBatchRetriesWholeOnAnOutage(t *testing.T) {
	rc := newReceiver(t, func(_ int, _ request, w http.ResponseWriter) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	s := build(t, "webhook:"+rc.URL+"/hook?method=POST&batch=true&body_template="+
		"%7B%7B%20if%20eq%20.Reason%20%22Raw%22%20%7D%7Dnot%20json%7B%7B%20else%20%7D%7D%7B%22r%22%3A%22%7B%7B%20.Reason%20%7D%7D%22%7D%7B%7B%20end%20%7D%7D", sinks.Env{})
	events := []*core.Event{event("BackOff", "a"), event("Raw", "b"), event("Failed", "c")}
	err := s.Export(context.Background(), events)
	var pe *core.PartialError
	if !errors.As(err, &pe) || len(pe.Rejected) != 1 || pe.Rejected[0] != events[1] || len(pe.Failed) != 2 || core.IsPermanent(pe.Err) {
		t.Fatalf("Export = %v, want the non-JSON body rejected and the other two retried", err)
	}
	got := rc.requests()
	if len(got) != 1 || !json.Valid(got[0].Body) {
		t.Fatalf("%d requests, want one with the two JSON bodies", len(got))
	}
}
