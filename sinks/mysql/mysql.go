// Package mysql is herald's MySQL / MariaDB sink: events go to kube-eventer's kube_event table
// (created when absent, utf8mb4) as batched multi-row upserts keyed by event uid and count, so a
// retried batch never writes a row twice.
package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/golang/glog"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "mysql",
		DSN:     true,
		Summary: "MySQL or MariaDB table (kube-eventer's kube_event, created when absent): batched upserts, one row per event uid and count",
		Example: "mysql:?herald:${MYSQL_PASSWORD}@tcp(mysql:3306)/kube_eventer?charset=utf8mb4&table=kube_event",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// Statement limits: rows per INSERT, and a byte budget that stays well inside the smallest
// max_allowed_packet in use (4 MiB on MySQL 5.7) even after escaping.
const (
	maxRowsPerStatement  = 500
	maxBytesPerStatement = 512 << 10
)

// Connection pool limits: a sink writes one batch at a time per pipeline worker.
const (
	maxOpenConns    = 4
	maxIdleConns    = 4
	connMaxLifetime = 5 * time.Minute
	connMaxIdleTime = time.Minute
)

// Sink writes events to a MySQL or MariaDB table.
type Sink struct {
	id        string
	cfg       *Config
	qualified string // `db`.`table`
	db        *sql.DB
	now       func() time.Time
	loc       *time.Location // kube-eventer's text times are in this zone

	// stop ends the check of the table New starts in the background; done is closed when it
	// has returned.
	stop context.CancelFunc
	done chan struct{}

	crashQualified, crashInsert string // empty when crash_table= is empty

	mu         sync.Mutex
	crashReady bool       // the crash table exists
	info       *tableInfo // nil until the table has been checked (again after it vanished)
}

// New builds the sink from a parsed Config; unless env.CheckOnly, it prepares the table in
// the background. It does not wait to connect: a server that is down at start delays delivery
// (the pipeline retries) instead of stopping herald.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	connector, err := mysql.NewConnector(cfg.Driver)
	if err != nil {
		return nil, fmt.Errorf("the DSN is not usable: %v", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if cfg.ReplacedCharset != "" {
		glog.Infof("%s: charset=%s in the DSN is replaced by utf8mb4, so 4-byte characters (emoji, rare CJK) are stored intact", cfg.ID, cfg.ReplacedCharset)
	}
	s := &Sink{id: cfg.ID, cfg: cfg, db: db, now: env.Clock(), loc: time.UTC,
		qualified: fmt.Sprintf("`%s`.`%s`", cfg.Schema, cfg.Table)}
	if cfg.CrashTable != "" {
		s.crashQualified = fmt.Sprintf("`%s`.`%s`", cfg.Schema, cfg.CrashTable)
		s.crashInsert = crashStatement(s.crashQualified)
	}
	if env.Location != nil {
		s.loc = env.Location
	}
	if !env.CheckOnly {
		s.prepare()
	}
	return s, nil
}

// prepare checks (and creates or extends) the table in the background right away, so what
// herald will do with an existing table (add its columns, or write kube-eventer's subset) is
// logged at start, not with the first event. A failure here is left to the first Export.
func (s *Sink) prepare() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		defer cancel()
		if _, err := s.table(ctx); err != nil && ctx.Err() == nil {
			glog.Warningf("%s: checking table %s at start: %v (herald tries again with the first events)", s.id, s.qualified, err)
		}
	}()
}

// Name is the sink's scheme.
func (s *Sink) Name() string { return "mysql" }

func (s *Sink) logf(format string, args ...any) {
	glog.Infof("%s: "+format, append([]any{s.id}, args...)...)
}

// table checks (or creates) the table once, and again after it vanished.
func (s *Sink) table(ctx context.Context) (*tableInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info != nil {
		return s.info, nil
	}
	info, err := s.inspect(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if !info.uniqueKey {
		glog.Warningf("%s: table %s has no UNIQUE KEY on (event_id, count), so a retried batch may insert rows twice; add it: ALTER TABLE %s ADD UNIQUE KEY `uk_event_count` (`event_id`, `count`)", s.id, s.qualified, s.qualified)
	}
	s.info = info
	return info, nil
}

// Export upserts the batch. A row whose value the table refuses (too long, wrong character set)
// is found by splitting the statement and reported as a permanent failure; the rest are written.
// A lost connection or a server that is down is a retryable error.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	info, err := s.table(ctx)
	if err != nil {
		return s.statementError(err)
	}
	now := s.now()
	rows := make([]row, len(events))
	for i, e := range events {
		rows[i] = makeRow(e, info, s.loc, now)
	}
	var failures []failure
	for start := 0; start < len(rows); {
		end := chunkEnd(rows, start)
		fs, stop := s.insertSplit(ctx, info, rows[start:end])
		failures = append(failures, fs...)
		if stop != nil {
			for _, r := range rows[end:] {
				failures = append(failures, failure{event: r.event, err: stop})
			}
			break
		}
		start = end
	}
	failed := make(map[*core.Event]bool, len(failures))
	for _, f := range failures {
		failed[f.event] = true
	}
	for _, f := range s.writeCrashes(ctx, events) {
		if !failed[f.event] { // an event is retried once, whatever failed
			failures = append(failures, f)
			failed[f.event] = true
		}
	}
	return s.result(events, failures)
}

// chunkEnd returns the end of the statement that starts at rows[start].
func chunkEnd(rows []row, start int) int {
	size := 0
	end := start
	for end < len(rows) && end-start < maxRowsPerStatement {
		if end > start && size+rows[end].size > maxBytesPerStatement {
			break
		}
		size += rows[end].size
		end++
	}
	return end
}

// failure is one event that was not written.
type failure struct {
	event *core.Event
	err   error
}

// insertSplit upserts rows in one statement. When the server refuses a row's value, it splits
// the rows in halves until each refused row stands alone: those fail permanently, the others are
// written (each statement is atomic, and the upsert makes rewriting harmless). Any other error
// stops the batch: the rows not yet written fail with it, and it is returned as stop.
func (s *Sink) insertSplit(ctx context.Context, info *tableInfo, rows []row) (failures []failure, stop error) {
	err := s.insert(ctx, info, rows)
	switch {
	case err == nil:
		return nil, nil
	case !isRowError(err):
		err = s.statementError(err)
		for _, r := range rows {
			failures = append(failures, failure{event: r.event, err: err})
		}
		return failures, err
	case len(rows) == 1:
		e := rows[0].event
		return []failure{{event: e, err: core.Permanent(fmt.Errorf(
			"event %s (uid %s, count %d) refused by table %s: %v; %s",
			e.Key(), e.UID, count(e), s.qualified, err, fix(err, s.qualified)))}}, nil
	}
	mid := len(rows) / 2
	failures, stop = s.insertSplit(ctx, info, rows[:mid])
	if stop != nil {
		for _, r := range rows[mid:] {
			failures = append(failures, failure{event: r.event, err: stop})
		}
		return failures, stop
	}
	more, stop := s.insertSplit(ctx, info, rows[mid:])
	return append(failures, more...), stop
}

// insert runs one multi-row INSERT ... ON DUPLICATE KEY UPDATE.
func (s *Sink) insert(ctx context.Context, info *tableInfo, rows []row) error {
	var b strings.Builder
	b.Grow(len(info.insertPrefix) + len(rows)*(len(info.placeholders)+1) + len(info.insertSuffix))
	b.WriteString(info.insertPrefix)
	args := make([]any, 0, len(rows)*len(info.idx))
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(info.placeholders)
		args = append(args, r.args...)
	}
	b.WriteString(info.insertSuffix)
	_, err := s.db.ExecContext(ctx, b.String(), args...)
	return err
}

// statementError names the sink and the fix, marks what no retry can fix as permanent, and
// makes a vanished table be checked (and created) again.
func (s *Sink) statementError(err error) error {
	if isMissingTable(err) {
		s.mu.Lock()
		s.info = nil
		s.mu.Unlock()
	}
	var out error
	switch {
	case isCredentialError(err):
		out = core.Credential(fmt.Errorf("%s: %v; %s", s.id, err, fix(err, s.qualified)), fix(err, s.qualified))
	case isSetupError(err):
		out = core.Permanent(fmt.Errorf("%s: %v; %s", s.id, err, fix(err, s.qualified)))
	case isMissingTable(err):
		out = fmt.Errorf("%s: %v; herald creates the table again on the next attempt", s.id, err)
	default:
		out = fmt.Errorf("%s: writing to %s on %s: %w", s.id, s.qualified, s.cfg.Driver.Addr, err)
	}
	// The pipeline logs the outage and the recovery.
	return out
}

// result turns the failures into Export's error: rows the server refused for good (a value it
// cannot store) are rejected, the others retried.
func (s *Sink) result(events []*core.Event, failures []failure) error {
	if len(failures) == 0 {
		return nil
	}
	index := make(map[*core.Event]int, len(events))
	for i, e := range events {
		index[e] = i
	}
	sort.SliceStable(failures, func(i, j int) bool { return index[failures[i].event] < index[failures[j].event] })
	var retry, rejected []*core.Event
	var retryErr error
	var refused []string
	for _, f := range failures {
		if core.IsPermanent(f.err) {
			rejected = append(rejected, f.event)
			refused = append(refused, f.err.Error())
			continue
		}
		retry = append(retry, f.event)
		if retryErr == nil {
			retryErr = f.err
		}
	}
	var rejectErr error
	if len(rejected) > 0 {
		rejectErr = core.Permanent(fmt.Errorf("%s: %d of %d rows refused: %s", s.id, len(rejected), len(events), strings.Join(refused, "; ")))
	}
	if len(retry) > 0 && len(retry) < len(events) {
		retryErr = fmt.Errorf("%s: %d of %d events not written: %w", s.id, len(retry), len(events), retryErr)
	}
	return core.Partial(len(events), retry, retryErr, rejected, rejectErr)
}

// Close stops the start-up check and closes the connection pool.
func (s *Sink) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	return s.db.Close()
}

// Preview shows the row the sink would insert for e into a table herald creates (herald check
// connects to nothing, so it cannot see an existing table: one with kube-eventer's columns gets
// those only, its times as kube-eventer wrote them).
func (s *Sink) Preview(e *core.Event) (string, error) {
	info := &tableInfo{}
	for i := range columns {
		info.idx = append(info.idx, i)
	}
	r := makeRow(e, info, s.loc, s.now())
	var b strings.Builder
	fmt.Fprintf(&b, "one row of %s (as in a table herald creates):\n", s.qualified)
	for k, i := range info.idx {
		v := r.args[k]
		if v == nil {
			v = "NULL"
		}
		fmt.Fprintf(&b, "  %s = %v\n", columns[i].name, v)
	}
	return b.String(), nil
}
