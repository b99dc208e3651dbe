package alertmanager_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// receiver is an Alertmanager API v2 stand-in: it decodes POST /api/v2/alerts strictly against
// the postableAlerts schema of api/v2/openapi.yaml (an array of objects with required labels, a
// label set of string values, optional annotations, RFC 3339 startsAt/endsAt, generatorURL a
// URI, no other fields) plus the checks Alertmanager's handler makes (at least one label, valid
// label names, startsAt before endsAt), answers 400 with a JSON string for an invalid request as
// Alertmanager does, and keeps alerts by label set, as Alertmanager's store does.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	posts    int
	auth     []string
	alerts   map[string]storedAlert // by fingerprint: the sorted label set
	rejected []string
}

type storedAlert struct {
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	EndsAt      time.Time
	Updates     int
}

var labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	rc := &receiver{alerts: map[string]storedAlert{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/alerts" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.posts++
	rc.auth = append(rc.auth, r.Header.Get("Authorization"))
	alerts, err := validate(r.Header.Get("Content-Type"), body)
	if err != nil {
		rc.rejected = append(rc.rejected, err.Error())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(err.Error())
		return
	}
	for _, a := range alerts {
		fp := fingerprint(a.Labels)
		prev, seen := rc.alerts[fp]
		if seen {
			a.Updates = prev.Updates + 1
			if prev.StartsAt.Before(a.StartsAt) {
				a.StartsAt = prev.StartsAt
			}
		}
		rc.alerts[fp] = a
	}
	w.WriteHeader(http.StatusOK)
}

func validate(contentType string, body []byte) ([]storedAlert, error) {
	if !strings.HasPrefix(contentType, "application/json") {
		return nil, fmt.Errorf("Content-Type %q is not application/json", contentType)
	}
	var raw []map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("body is not an array of alerts: %v", err)
	}
	var out []storedAlert
	for i, obj := range raw {
		var a storedAlert
		for k := range obj {
			switch k {
			case "labels", "annotations", "startsAt", "endsAt", "generatorURL":
			default:
				return nil, fmt.Errorf("alert %d: unknown field %q", i, k)
			}
		}
		lab, ok := obj["labels"]
		if !ok {
			return nil, fmt.Errorf("alert %d: labels in body is required", i)
		}
		if err := json.Unmarshal(lab, &a.Labels); err != nil {
			return nil, fmt.Errorf("alert %d: labels is not a label set of strings: %v", i, err)
		}
		if len(a.Labels) == 0 {
			return nil, fmt.Errorf("alert %d: at least one label pair required", i)
		}
		for k, v := range a.Labels {
			if !labelNameRe.MatchString(k) {
				return nil, fmt.Errorf("alert %d: invalid label name %q", i, k)
			}
			if v == "" || !utf8.ValidString(v) {
				return nil, fmt.Errorf("alert %d: invalid value %q for label %q", i, v, k)
			}
		}
		if ann, ok := obj["annotations"]; ok {
			if err := json.Unmarshal(ann, &a.Annotations); err != nil {
				return nil, fmt.Errorf("alert %d: annotations is not a label set of strings: %v", i, err)
			}
		}
		for _, f := range []struct {
			name string
			dst  *time.Time
		}{{"startsAt", &a.StartsAt}, {"endsAt", &a.EndsAt}} {
			v, ok := obj[f.name]
			if !ok {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("alert %d: %s is not a string", i, f.name)
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("alert %d: %s in body must be of type date-time: %q", i, f.name, s)
			}
			*f.dst = t
		}
		if g, ok := obj["generatorURL"]; ok {
			var s string
			if err := json.Unmarshal(g, &s); err != nil || !strings.Contains(s, "://") {
				return nil, fmt.Errorf("alert %d: generatorURL in body must be of type uri", i)
			}
		}
		if !a.StartsAt.IsZero() && !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
			return nil, fmt.Errorf("alert %d: start time must be before end time", i)
		}
		out = append(out, a)
	}
	return out, nil
}

func fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	return b.String()
}

func (rc *receiver) snapshot() (posts int, alerts map[string]storedAlert) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	alerts = map[string]storedAlert{}
	for k, v := range rc.alerts {
		alerts[k] = v
	}
	return rc.posts, alerts
}
