package httpx_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/uri"
)

func paramsOf(t *testing.T, query string) *uri.Params {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return uri.NewParams("--sink #1 (test)", v, httpx.Params)
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	// Unknown CA: refused, and retried (a certificate can be fixed without restarting herald).
	_, err := post(t, newClient(t, httpx.Options{}), srv.URL, "x", nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: got %v, want a certificate error", err)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := post(t, newClient(t, httpx.Options{CAFile: caFile}), srv.URL, "x", nil); err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
	if _, err := post(t, newClient(t, httpx.Options{InsecureSkipVerify: true}), srv.URL, "x", nil); err != nil {
		t.Fatalf("with insecure_skip_verify: %v", err)
	}
}

func TestBadCAFile(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{notPEM, filepath.Join(t.TempDir(), "missing.pem")} {
		_, err := httpx.NewClient(httpx.Options{CAFile: f})
		if err == nil || !strings.HasPrefix(err.Error(), `parameter "ca_file" (or "cacert"): `) {
			t.Errorf("ca_file=%s: got %v, want an error naming ca_file", f, err)
		}
	}
}
