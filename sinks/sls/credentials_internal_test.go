package sls

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldproject/herald/core"
)

// STS credentials are renewed refreshBefore they expire, not on every request; a renewal that
// fails keeps the current ones while they last, then the sink is down for its credentials.
func TestRoleCredentialsAreRenewedBeforeTheyExpire(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	clock := t0
	var mu sync.Mutex
	serial, up := 0, true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/latest/meta-data/ram/security-credentials/":
			_, _ = w.Write([]byte("role"))
		case "/latest/meta-data/ram/security-credentials/role":
			serial++
			_ = json.NewEncoder(w).Encode(map[string]string{
				"Code": "Success", "AccessKeyId": "STS.id" + string(rune('0'+serial)), "AccessKeySecret": "s", "SecurityToken": "t",
				"Expiration": clock.Add(10 * time.Minute).Format(stsTimeLayout),
			})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rs := &roleSource{tokenConfig: "/nonexistent/token-config", metadata: newMetadataClient(srv.URL), now: func() time.Time { return clock }}
	get := func() (string, error) {
		c, err := rs.get(context.Background())
		return c.ID, err
	}
	step := func(at time.Duration, wantID string, wantErr bool) {
		t.Helper()
		clock = t0.Add(at)
		id, err := get()
		if (err != nil) != wantErr || id != wantID {
			t.Fatalf("at +%v: got %q, %v; want %q (error %v)", at, id, err, wantID, wantErr)
		}
	}
	step(0, "STS.id1", false)
	step(4*time.Minute, "STS.id1", false) // 6 minutes left: kept
	step(6*time.Minute, "STS.id2", false) // 4 minutes left: renewed (valid until +16m)
	mu.Lock()
	up = false
	mu.Unlock()
	step(12*time.Minute, "STS.id2", false) // renewal fails, the current ones still last
	step(17*time.Minute, "", true)         // expired, and no renewal
	if _, err := get(); !core.IsCredential(err) {
		t.Fatalf("%v: want a credential outage", err)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	step(18*time.Minute, "STS.id3", false) // the service is back: delivering again
}
