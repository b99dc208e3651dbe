// Package zincsearch runs a private ZincSearch server for tests: an Elasticsearch-compatible API
// (_bulk, _search, index templates under /es), built by hack/zincsearch.sh, listening on
// 127.0.0.1 with a free port and a temporary data directory. No Elasticsearch server can be
// fetched here; ZincSearch stands in for it.
package zincsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldproject/herald/test/daemon"
)

// Version is the ZincSearch release hack/zincsearch.sh builds.
const Version = "v0.4.10"

// BinEnv names the environment variable that points at the zincsearch binary; when it is unset
// the binary is looked up where hack/zincsearch.sh caches it.
const BinEnv = "HERALD_ZINC_BIN"

// User and Password are the admin account every server is started with.
const (
	User     = "admin"
	Password = "Herald#zinc-123"
)

// Server is one running ZincSearch.
type Server struct {
	// URL is the server's root (http://127.0.0.1:PORT); the Elasticsearch API is under URL+"/es".
	URL string
	Dir string

	proc *daemon.Process
}

// ESURL is the base URL of the Elasticsearch-compatible API, for an elasticsearch sink's nodes.
func (s *Server) ESURL() string { return s.URL + "/es" }

// Binary returns the zincsearch binary: $HERALD_ZINC_BIN, else hack/zincsearch.sh's cache.
func Binary() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("$%s=%s is not an executable file; run hack/zincsearch.sh and set %s to the path it prints", BinEnv, p, BinEnv)
		}
		return p, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "herald", "zincsearch-"+Version, "zincsearch")
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("ZincSearch %s is not built (%s is missing): run hack/zincsearch.sh (about 4 minutes, once) or set $%s", Version, p, BinEnv)
	}
	return p, nil
}

// Start starts a server in dir and waits until it answers.
func Start(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"ZINC_SERVER_ADDRESS=127.0.0.1",
		fmt.Sprintf("ZINC_SERVER_PORT=%d", port),
		"ZINC_DATA_PATH="+filepath.Join(dir, "data"),
		"ZINC_FIRST_ADMIN_USER="+User,
		"ZINC_FIRST_ADMIN_PASSWORD="+Password,
		"ZINC_SENTRY=false",
		"ZINC_TELEMETRY=false",
		"ZINC_PROFILER=false",
		"GIN_MODE=release",
	)
	proc, err := daemon.Start("zincsearch", cmd, filepath.Join(dir, "zincsearch.log"))
	if err != nil {
		return nil, err
	}
	s.proc = proc
	if err := proc.WaitReady(60*time.Second, "answer /healthz", daemon.HTTPStatus(s.URL+"/healthz", http.StatusOK)); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 20s) and waits for it.
func (s *Server) Stop() error {
	if s.proc != nil {
		s.proc.Stop(20 * time.Second)
		s.proc = nil
	}
	return nil
}

// Search runs an Elasticsearch query DSL search on index (a name or pattern) and returns the
// hits' _id and _source, up to size hits.
func (s *Server) Search(ctx context.Context, index string, query map[string]any, size int) ([]Hit, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "size": size})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ESURL()+"/"+index+"/_search", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(User, Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search %s: HTTP %d: %s", index, resp.StatusCode, raw)
	}
	var r struct {
		Hits struct {
			Hits []Hit `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("search %s: %v: %s", index, err, raw)
	}
	return r.Hits.Hits, nil
}

// Hit is one search result.
type Hit struct {
	Index  string         `json:"_index"`
	ID     string         `json:"_id"`
	Source map[string]any `json:"_source"`
}

// ForTest starts a server for one test (or benchmark) and stops it when the test ends. A missing
// binary fails the test with the command that builds it; it never skips.
func ForTest(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	s, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
