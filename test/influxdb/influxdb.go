// Package influxdb runs a private InfluxDB 1.8.10 for tests: it serves the 1.x /write API that
// every 1.x release serves, and /api/v2/write (influxdb-client-go/v2's v1-compatibility path);
// built by hack/influxdb.sh, listening on 127.0.0.1 with free ports and its meta, data and wal in
// a temporary directory, with authentication off (Start) or on (StartWithAdmin).
package influxdb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/test/daemon"
)

// Version is the InfluxDB release hack/influxdb.sh builds.
const Version = "v1.8.10"

// BinEnv names the environment variable that points at the influxd binary; when it is unset
// the binary is looked up where hack/influxdb.sh caches it.
const BinEnv = "HERALD_INFLUXD_BIN"

// Server is one running influxd.
type Server struct {
	// URL is the HTTP API's root, http://127.0.0.1:PORT.
	URL string
	Dir string
	// User and Password are the admin's when authentication is on; Query uses them.
	User, Password string

	proc *daemon.Process
}

// Binary returns the influxd binary: $HERALD_INFLUXD_BIN, else hack/influxdb.sh's cache.
func Binary() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("$%s=%s is not an executable file; run hack/influxdb.sh and set %s to the path it prints", BinEnv, p, BinEnv)
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
	p := filepath.Join(cache, "herald", "influxdb-"+Version, "influxd")
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("InfluxDB %s is not built (%s is missing): run hack/influxdb.sh (about 5 minutes, once) or set $%s", Version, p, BinEnv)
	}
	return p, nil
}

const configTemplate = `reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q
  logging-enabled = false

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  trace-logging-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = %t
  log-enabled = false
  flux-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
`

// Start starts influxd in dir, authentication off, and waits until /ping answers.
func Start(dir string) (*Server, error) {
	return start(dir, "", "")
}

// StartWithAdmin starts influxd in dir with authentication on and creates an admin user (the
// first user of a server with authentication on may be created without credentials).
func StartWithAdmin(dir, user, password string) (*Server, error) {
	s, err := start(dir, user, password)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Query(ctx, "", fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s' WITH ALL PRIVILEGES", user, strings.ReplaceAll(password, "'", `\'`))); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func start(dir, user, password string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "influxdb.conf")
	body := fmt.Sprintf(configTemplate, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort, user != "")
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", conf)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	proc, err := daemon.Start("influxd", cmd, filepath.Join(dir, "influxd.log"))
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), Dir: dir, User: user, Password: password, proc: proc}
	if err := proc.WaitReady(60*time.Second, "answer /ping", daemon.HTTPStatus(s.URL+"/ping", http.StatusNoContent)); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops influxd (SIGTERM, then SIGKILL after 20s) and waits for it.
func (s *Server) Stop() error {
	if s.proc != nil {
		s.proc.Stop(20 * time.Second)
		s.proc = nil
	}
	return nil
}

// Result is one InfluxQL statement's first series.
type Result struct {
	Columns []string
	Values  [][]any
}

// Query runs InfluxQL against db (epoch=ns, so times are integers) and returns the first
// series of the first statement (empty when there is none).
func (s *Server) Query(ctx context.Context, db, q string) (*Result, error) {
	form := url.Values{"q": {q}, "epoch": {"ns"}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.User != "" {
		req.SetBasicAuth(s.User, s.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: HTTP %d: %s", q, resp.StatusCode, raw)
	}
	var r struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("query %q: %v: %s", q, err, raw)
	}
	out := &Result{}
	if len(r.Results) == 0 {
		return out, nil
	}
	if r.Results[0].Error != "" {
		return nil, fmt.Errorf("query %q: %s", q, r.Results[0].Error)
	}
	if len(r.Results[0].Series) > 0 {
		out.Columns = r.Results[0].Series[0].Columns
		out.Values = r.Results[0].Series[0].Values
	}
	return out, nil
}

// CreateDatabase creates db (with its default retention policy autogen).
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	_, err := s.Query(ctx, "", fmt.Sprintf("CREATE DATABASE %q", db))
	return err
}

// Rows returns the result as one map per row, column name to value.
func (r *Result) Rows() []map[string]any {
	out := make([]map[string]any, len(r.Values))
	for i, v := range r.Values {
		m := make(map[string]any, len(r.Columns))
		for j, c := range r.Columns {
			if j < len(v) {
				m[c] = v[j]
			}
		}
		out[i] = m
	}
	return out
}

// ForTest starts a server for one test (or benchmark) and stops it when the test ends. A missing
// binary fails the test with the command that builds it; it never skips.
func ForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// ForTestWithAdmin is ForTest with authentication on and an admin user.
func ForTestWithAdmin(t testing.TB, user, password string) *Server {
	t.Helper()
	s, err := StartWithAdmin(t.TempDir(), user, password)
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
