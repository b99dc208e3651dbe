// Package mariadb runs private MariaDB servers for tests: Debian's mariadb-server (installed by
// hack/mariadb.sh install), a datadir in a temporary directory, listening on 127.0.0.1 only, no
// system service. A server can be stopped and started again on the same port and datadir.
package mariadb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/heraldproject/herald/test/daemon"
)

// ErrNotInstalled is returned when mariadbd or mariadb-install-db cannot be found.
var ErrNotInstalled = errors.New("MariaDB is not installed (mariadbd / mariadb-install-db not found): run hack/mariadb.sh install")

// User is the account Server creates for TCP clients; it has every privilege.
const User = "herald"

// Server is one private MariaDB instance.
type Server struct {
	// Dir holds the datadir, socket, pid file and error log.
	Dir string
	// Port is the TCP port on 127.0.0.1; it stays the same across Stop and Start.
	Port int
	// Password is User's password, random per server, with characters a DSN must carry as is.
	Password string

	mysqld string

	mu   sync.Mutex
	proc *daemon.Process
}

// find returns the path of the first name found on PATH or in the Debian locations.
func find(names ...string) (string, bool) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, true
		}
		for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/libexec", "/usr/local/sbin", "/usr/local/bin"} {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, true
			}
		}
	}
	return "", false
}

// New creates a datadir in dir with mariadb-install-db and picks a free port. It starts nothing.
func New(dir string) (*Server, error) {
	mysqld, ok := find("mariadbd", "mysqld")
	if !ok {
		return nil, ErrNotInstalled
	}
	installDB, ok := find("mariadb-install-db", "mysql_install_db")
	if !ok {
		return nil, ErrNotInstalled
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 6)
	_, _ = rand.Read(pw)
	s := &Server{Dir: dir, Port: port, Password: "Pw!" + hex.EncodeToString(pw) + ":x", mysqld: mysqld}
	args := []string{"--no-defaults", "--datadir=" + s.dataDir(), "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.Command(installDB, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("mariadb-install-db into %s failed: %v\n%s", s.dataDir(), err, lastLines(string(out), 20))
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

// Socket is the server's unix socket.
func (s *Server) Socket() string { return filepath.Join(s.Dir, "mysqld.sock") }

// Start starts mariadbd and waits until it accepts connections; the first Start also creates
// User. The server dies with the test process (SIGKILL on parent death) if Stop is never called.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return fmt.Errorf("mariadb in %s is already running", s.Dir)
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + s.dataDir(),
		"--socket=" + s.Socket(),
		fmt.Sprintf("--port=%d", s.Port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.Dir, "error.log"),
		"--skip-name-resolve",
		"--skip-log-bin",
		"--innodb-buffer-pool-size=64M",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(s.mysqld, args...)
	// mariadbd writes its own log (--log-error); what it prints besides is not needed.
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	proc, err := daemon.Start("mariadbd", cmd, filepath.Join(s.Dir, "error.log"))
	if err != nil {
		return err
	}
	if err := s.waitReady(proc); err != nil {
		proc.Stop(0)
		return err
	}
	s.proc = proc
	return nil
}

// waitReady polls the unix socket as root until the server answers, then makes sure User exists.
func (s *Server) waitReady(proc *daemon.Process) error {
	root := mysql.NewConfig()
	root.User = "root"
	root.Net = "unix"
	root.Addr = s.Socket()
	root.Timeout = time.Second
	connector, err := mysql.NewConnector(root)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	err = proc.WaitReady(60*time.Second, "accept connections", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.PingContext(ctx)
	})
	if err != nil {
		return err
	}
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", User, s.Password),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", User),
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("creating user %s: %v", User, err)
		}
	}
	return nil
}

// Stop stops mariadbd (SIGTERM, then SIGKILL after 30s) and waits for it to exit.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(30 * time.Second)
		s.proc = nil
	}
	return nil
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

// Addr is host:port for TCP clients.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// DSN is a go-sql-driver DSN for User over TCP to database db, with extra parameters appended
// ("parseTime=true").
func (s *Server) DSN(db string, params ...string) string {
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", User, s.Password, s.Addr(), db)
	if len(params) > 0 {
		dsn += "?" + strings.Join(params, "&")
	}
	return dsn
}

// Open returns a client for database db (parseTime on, UTC), for tests to check what a sink
// wrote.
func (s *Server) Open(db string) (*sql.DB, error) {
	return sql.Open("mysql", s.DSN(db, "parseTime=true", "loc=UTC", "charset=utf8mb4"))
}

// CreateDatabase creates database name (utf8mb4) if it does not exist.
func (s *Server) CreateDatabase(name string) error {
	db, err := s.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	return err
}

// CreateUser creates (or replaces) an account for TCP clients with exactly the given privileges
// on database db ("SELECT, INSERT, UPDATE"), for tests of what a sink does without the
// privileges User has. It returns a DSN for the account to db.
func (s *Server) CreateUser(name, password, db, privileges string) (string, error) {
	admin, err := s.Open("")
	if err != nil {
		return "", err
	}
	defer admin.Close()
	for _, q := range []string{
		fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", name),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", name, password),
		fmt.Sprintf("GRANT %s ON `%s`.* TO '%s'@'%%'", privileges, db, name),
	} {
		if _, err := admin.Exec(q); err != nil {
			return "", fmt.Errorf("%s: %w", strings.SplitN(q, " IDENTIFIED", 2)[0], err)
		}
	}
	return fmt.Sprintf("%s:%s@tcp(%s)/%s", name, password, s.Addr(), db), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Require fails t with the install hint when err is ErrNotInstalled. With HERALD_SKIP_MARIADB=1
// and CI unset it skips instead, saying so; CI always fails.
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotInstalled) && os.Getenv("HERALD_SKIP_MARIADB") == "1" && os.Getenv("CI") == "" {
		t.Skipf("SKIPPED (HERALD_SKIP_MARIADB=1): %v", err)
	}
	t.Fatal(err)
}

// Start creates and starts a server for one test and stops and removes it when the test ends.
// Its directory is short (a unix socket path is limited to 107 bytes), not t.TempDir().
func Start(t testing.TB) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "herald-mariadb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s, err := New(dir)
	Require(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	Require(t, s.Start())
	return s
}
