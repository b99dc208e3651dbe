package grafana_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// receiver is a Grafana stand-in for POST /api/annotations: it authenticates the request as
// Grafana does (a bearer token of a service account, or basic auth; 401 {"message":
// "Unauthorized"} otherwise, 403 for a token without annotations:create), decodes the body
// strictly (the fields of Grafana's PostAnnotationsCmd, text required, time in epoch
// milliseconds), and answers {"message":"Annotation added","id":N} like Grafana, keeping every
// annotation it adds.
type receiver struct {
	*httptest.Server
	mu          sync.Mutex
	tokens      map[string]bool // token -> may create annotations
	annotations []annotation
	orgs        []string
}

type annotation struct {
	ID           int
	DashboardUID string   `json:"dashboardUID"`
	DashboardID  int      `json:"dashboardId"`
	PanelID      int      `json:"panelId"`
	Time         int64    `json:"time"`
	TimeEnd      int64    `json:"timeEnd"`
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
	Data         any      `json:"data"`
}

const (
	goodToken   = "glsa_editor_0123456789abcdef"
	viewerToken = "glsa_viewer_0123456789abcdef"
)

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{tokens: map[string]bool{goodToken: true, viewerToken: false}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/annotations" || r.Method != http.MethodPost {
		reply(w, http.StatusNotFound, map[string]string{"message": "Not found"})
		return
	}
	canCreate, known := false, false
	if user, pw, ok := r.BasicAuth(); ok {
		known, canCreate = user == "admin" && pw == "admin-pw-1", true
	} else if tok, ok := bytesCut(r.Header.Get("Authorization"), "Bearer "); ok {
		canCreate, known = rc.tokens[tok]
	}
	if !known {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	if !canCreate {
		reply(w, http.StatusForbidden, map[string]string{"accessErrorId": "ACE0123", "message": "You'll need additional permissions to perform this action. Permissions needed: annotations:create", "title": "Access denied"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var a annotation
	if err := dec.Decode(&a); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"message": "bad request data"})
		return
	}
	if a.Text == "" {
		reply(w, http.StatusBadRequest, map[string]string{"message": "text field should not be empty"})
		return
	}
	if a.Time < 1e12 {
		// Seconds instead of milliseconds put the annotation in January 1970.
		reply(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("test receiver: time %d is not epoch milliseconds", a.Time)})
		return
	}
	rc.mu.Lock()
	a.ID = len(rc.annotations) + 1
	rc.annotations = append(rc.annotations, a)
	rc.orgs = append(rc.orgs, r.Header.Get("X-Grafana-Org-Id"))
	rc.mu.Unlock()
	reply(w, http.StatusOK, map[string]any{"message": "Annotation added", "id": a.ID})
}

func bytesCut(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func (rc *receiver) added() []annotation {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]annotation(nil), rc.annotations...)
}
