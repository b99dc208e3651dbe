package mysql

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// DefaultTable is kube-eventer's table name.
const DefaultTable = "kube_event"

// Params are the mysql sink's own parameters. Everything else in the query is the DSN, as in
// kube-eventer: mysql:?USER:PASS@tcp(HOST:3306)/DB?charset=utf8&table=kube_event.
var Params = []uri.Param{
	{Name: "table", Default: DefaultTable, Example: "k8s_event",
		Help: "table the events go to, TABLE or DB.TABLE; created (utf8mb4) when absent"},
	{Name: "crash_table", Default: DefaultCrashTable, Example: "pod_crash",
		Help: "table restart reports (--pod-restarts) also go to, one row per container restart, in the events' database; created when absent; empty (crash_table=) writes none"},
}

// Config is the mysql sink's parsed configuration.
type Config struct {
	// Driver is the parsed DSN, adjusted: utf8mb4, interpolated parameters, timeouts, UTC.
	Driver *mysql.Config
	// Schema and Table name the table; Schema is the DSN's database unless table= says DB.TABLE.
	Schema, Table string
	// CrashTable is the table of container restarts in Schema; "" writes none.
	CrashTable string
	// ReplacedCharset is the charset the DSN asked for when herald replaced it with utf8mb4.
	ReplacedCharset string
}

var identRe = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)

// ParseConfig reads the table and the DSN. The DSN is every query item that is not a herald
// parameter, in order, as kube-eventer took it from the raw query (no percent-decoding), so
// existing --sink values keep working. Problems are recorded in p.
func ParseConfig(t sinks.Target) *Config {
	p := t.Params
	c := &Config{}

	table := p.String("table")
	schema, name, qualified := strings.Cut(table, ".")
	if !qualified {
		schema, name = "", table
	}
	if !identRe.MatchString(name) || (qualified && !identRe.MatchString(schema)) {
		p.Errorf("table", "use letters, digits, _ and $ (TABLE or DB.TABLE, up to 64 characters each)", "%q is not a plain table name", table)
	}
	c.Table = name
	c.CrashTable = p.String("crash_table")
	if c.CrashTable != "" && !identRe.MatchString(c.CrashTable) {
		p.Errorf("crash_table", "use letters, digits and _ (up to 64 characters), or crash_table= to write no crash rows", "%q is not a plain table name", c.CrashTable)
	}

	dsn, err := extractDSN(t.URL.RawQuery)
	if err != nil {
		p.Errorf("DSN", `write it as kube-eventer did: mysql:?USER:PASS@tcp(HOST:3306)/DB?charset=utf8mb4&table=kube_event`, "%v", err)
		return c
	}
	// Query items that are neither herald's nor a near-miss of one are the DSN's (driver options
	// or MySQL system variables); near-misses ("tabel") stay errors with a suggestion.
	p.Passthrough()

	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		p.Errorf("DSN", "see https://github.com/go-sql-driver/mysql#dsn-data-source-name", "%s", redact.Text(err.Error()))
		return c
	}
	if cfg.DBName == "" {
		p.Errorf("DSN", "name the database after the slash: USER:PASS@tcp(HOST:3306)/DB", "no database given")
	}
	switch cfg.Net {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		p.Errorf("DSN", "write tcp(HOST:PORT) or unix(/path/to/socket) after the @", "network %q is not tcp or unix", cfg.Net)
	}
	c.Schema = cfg.DBName
	if qualified {
		c.Schema = schema
	}
	c.ReplacedCharset = askedCharset(dsn)

	if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
		p.Errorf("DSN", "remove charset and collation from the DSN", "%v", err)
	}
	cfg.InterpolateParams = true // one round trip per statement instead of prepare/execute/close
	cfg.Loc = time.UTC
	cfg.ParseTime = false
	cfg.MaxAllowedPacket = 0 // ask the server, so an oversized row fails before it is sent
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	cfg.Logger = driverLogger{}
	c.Driver = cfg
	return c
}

// extractDSN joins the raw query items that are not herald parameters. The first of them must
// be the DSN itself (USER:PASS@tcp(...)/DB[?params]); later ones are DSN parameters.
func extractDSN(rawQuery string) (string, error) {
	var head string
	var rest []string
	for _, item := range strings.Split(rawQuery, "&") {
		if item == "" {
			continue
		}
		key, _, _ := strings.Cut(item, "=")
		if k, err := url.QueryUnescape(key); err == nil && isHeraldParam(k) {
			continue
		}
		if head == "" {
			head = item
			continue
		}
		rest = append(rest, item)
	}
	if head == "" {
		return "", fmt.Errorf("no DSN given")
	}
	if !strings.Contains(head, "/") {
		return "", fmt.Errorf("the DSN must come first and name a database after a slash")
	}
	if len(rest) == 0 {
		return head, nil
	}
	sep := "&"
	if !strings.Contains(head, "?") {
		sep = "?"
	}
	return head + sep + strings.Join(rest, "&"), nil
}

func isHeraldParam(name string) bool {
	for _, list := range [][]uri.Param{Params, sinks.CommonParams} {
		for _, p := range list {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

// askedCharset returns the DSN's charset when it is not utf8mb4 (kube-eventer's docs say
// charset=utf8, MySQL's 3-byte utf8 that cannot store emoji).
func askedCharset(dsn string) string {
	_, q, ok := strings.Cut(dsn[strings.LastIndex(dsn, "/")+1:], "?")
	if !ok {
		return ""
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	cs := v.Get("charset")
	if cs == "" || strings.EqualFold(cs, "utf8mb4") {
		return ""
	}
	return cs
}
