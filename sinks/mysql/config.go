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
	// ID names the sink in logs and metrics (sinks.Target.ID).
	ID string
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

// ParseConfig reads the sink's parameters; the Config is returned only when every one is
// valid (t.Params.Err reports them all, each with its fix).
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	c := readConfig(t, env)
	if err := t.Params.Err(); err != nil {
		return nil, err
	}
	c.ID = t.ID
	return c, nil
}

// readConfig reads the table and the DSN. The DSN is every query item that is not a herald
// parameter, in order, as kube-eventer took it from the raw query (no percent-decoding), so
// existing --sink values keep working. Problems are recorded in p.
func readConfig(t sinks.Target, _ sinks.Env) *Config {
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

	dsn, err := extractDSN(p, t.URL.RawQuery)
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

// driverParams are go-sql-driver/mysql's own DSN parameters; any other DSN parameter is a MySQL
// system variable the driver sets on connect.
var driverParams = map[string]bool{
	"allowAllFiles": true, "allowCleartextPasswords": true, "allowFallbackToPlaintext": true,
	"allowNativePasswords": true, "allowOldPasswords": true, "charset": true, "checkConnLiveness": true,
	"collation": true, "clientFoundRows": true, "columnsWithAlias": true, "connectionAttributes": true,
	"interpolateParams": true, "loc": true, "timeTruncate": true, "maxAllowedPacket": true,
	"multiStatements": true, "parseTime": true, "readTimeout": true, "rejectReadOnly": true,
	"serverPubKey": true, "timeout": true, "tls": true, "writeTimeout": true, "compress": true,
}

// extractDSN finds the DSN in the raw query (no percent-decoding, as kube-eventer took it). The
// first item that is not a herald parameter is the DSN itself (USER:PASS@tcp(...)/DB[?params]).
// Later items are read as kube-eventer's code read them: with table= it kept only the DSN
// before the first '&' and dropped the rest; without table= the whole query was the DSN, so
// each item reached the driver (a MySQL system variable, unless the driver knows it). herald
// keeps the driver's own options in both cases, drops herald's parameters and near-misses of
// them (reported by Params), and says where it reads an item differently.
func extractDSN(p *uri.Params, rawQuery string) (string, error) {
	tableGiven := p.Has("table")
	var head string
	var rest []string
	for _, item := range strings.Split(rawQuery, "&") {
		if item == "" {
			continue
		}
		rawKey, _, _ := strings.Cut(item, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			key = rawKey
		}
		if isHeraldParam(key) {
			continue
		}
		if head == "" {
			head = item
			continue
		}
		switch {
		case driverParams[key]:
			if tableGiven {
				p.Warnf(key, "kube-eventer used only the DSN before the first '&' when table= was given, and dropped this; herald passes it to the driver (a go-sql-driver/mysql option)")
			}
			rest = append(rest, item)
		case p.Suggest(key) != "":
			// A misspelt herald parameter: Params reports it; it is no DSN item.
		case tableGiven:
			p.Warnf(key, "kube-eventer dropped it (with table= it used only the DSN before the first '&'); herald ignores it too")
		default:
			rest = append(rest, item) // a MySQL system variable, as kube-eventer passed it
		}
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
