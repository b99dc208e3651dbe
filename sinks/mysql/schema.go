package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/golang/glog"
)

// column is one column herald writes.
type column struct {
	name string
	// def is the column definition herald creates the table with.
	def string
}

// columns are the columns herald writes, in INSERT order: kube-eventer's documented ones (name,
// namespace, event_id, type, reason, message, kind, first_occurrence_time,
// last_occurrence_time) plus cluster, count, object_uid and source_host.
var columns = []column{
	{"cluster", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT '--cluster-name'"},
	{"namespace", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'involved object namespace'"},
	{"kind", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'involved object kind'"},
	{"name", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'involved object name'"},
	{"object_uid", "VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'involved object uid'"},
	{"event_id", "VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'event uid'"},
	{"count", "INT NOT NULL DEFAULT 0 COMMENT 'event count (series count for new-style events)'"},
	{"type", "VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'Normal or Warning'"},
	{"reason", "VARCHAR(255) NOT NULL DEFAULT ''"},
	{"message", "MEDIUMTEXT NOT NULL"},
	{"source_host", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'node that reported the event'"},
	{"first_occurrence_time", "DATETIME NULL COMMENT 'UTC'"},
	{"last_occurrence_time", "DATETIME NULL COMMENT 'UTC'"},
}

// createTable is the statement herald creates its table with.
func createTable(qualified string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,\n", qualified)
	for _, c := range columns {
		fmt.Fprintf(&b, "  `%s` %s,\n", c.name, c.def)
	}
	b.WriteString("  `update_time` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n")
	b.WriteString("  PRIMARY KEY (`id`),\n")
	b.WriteString("  UNIQUE KEY `uk_event_count` (`event_id`, `count`),\n")
	b.WriteString("  KEY `idx_object` (`namespace`, `kind`, `name`),\n")
	b.WriteString("  KEY `idx_last_occurrence` (`last_occurrence_time`)\n")
	b.WriteString(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='Kubernetes events written by herald'")
	return b.String()
}

// kubeEventerColumns are the columns kube-eventer's sink writes (its common/mysql INSERT): a
// table without one of them cannot take its events.
var kubeEventerColumns = []string{"namespace", "kind", "name", "type", "reason", "message", "event_id", "first_occurrence_time", "last_occurrence_time"}

// addedDef is how herald adds one of its own columns to an existing table. count is NULL in
// the rows that were there before, so a unique key on (event_id, count) fits them all.
func addedDef(c column) string {
	if c.name == "count" {
		return "INT NULL DEFAULT NULL COMMENT 'event count (series count for new-style events); NULL in rows written before herald'"
	}
	return c.def
}

// limit is what a text column holds: at most chars characters (VARCHAR/CHAR) or bytes bytes
// (TEXT types); bmp is set for a 3-byte utf8 column, which cannot hold characters beyond U+FFFF.
type limit struct {
	chars, bytes int
	bmp          bool
}

// tableInfo is what herald learned about the table, and the statement it writes with.
type tableInfo struct {
	// textTimes is set when the time columns are text (kube-eventer's varchar): herald then
	// writes kube-eventer's time strings into them.
	textTimes bool
	// uniqueKey is set when a UNIQUE KEY covers exactly (event_id, count).
	uniqueKey bool
	// idx are the indices in columns that the table has, in INSERT order: all of them, or
	// kube-eventer's subset when herald may not add its own.
	idx []int
	// limits are the text columns' sizes, by index in columns.
	limits map[int]limit
	// subset names herald's columns the table lacks (written without them), for the warning.
	subset []string

	insertPrefix, placeholders, insertSuffix string
}

// inspect creates the table when it is absent, and fits herald to a table that exists: a table
// with kube-eventer's columns (its DDL) gets herald's own columns with ALTER TABLE ADD COLUMN
// when the user may alter it; otherwise herald writes kube-eventer's columns only and says so.
// A table that lacks one of kube-eventer's columns is reported with the statement that fixes it.
func (s *Sink) inspect(ctx context.Context, db *sql.DB) (*tableInfo, error) {
	var n int
	if err := db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		s.cfg.Schema, s.cfg.Table).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, createTable(s.qualified)); err != nil {
			return nil, fmt.Errorf("creating table %s: %w", s.qualified, err)
		}
		s.logf("created table %s", s.qualified)
	}

	cols, err := s.columns(ctx, db)
	if err != nil {
		return nil, err
	}
	var missingKE, missingKEDefs []string
	for _, c := range columns {
		if _, ok := cols[c.name]; !ok && slices.Contains(kubeEventerColumns, c.name) {
			missingKE = append(missingKE, c.name)
			missingKEDefs = append(missingKEDefs, fmt.Sprintf("ADD COLUMN `%s` %s", c.name, c.def))
		}
	}
	if len(missingKE) > 0 {
		return nil, &schemaError{fmt.Errorf("table %s lacks %s, which kube-eventer's table has and herald writes; add them: ALTER TABLE %s %s",
			s.qualified, strings.Join(missingKE, ", "), s.qualified, strings.Join(missingKEDefs, ", "))}
	}

	var missing []column
	for _, c := range columns {
		if _, ok := cols[c.name]; !ok {
			missing = append(missing, c)
		}
	}
	info := &tableInfo{}
	if len(missing) > 0 {
		var adds, names []string
		for _, c := range missing {
			adds = append(adds, fmt.Sprintf("ADD COLUMN `%s` %s", c.name, addedDef(c)))
			names = append(names, c.name)
		}
		alter := fmt.Sprintf("ALTER TABLE %s %s", s.qualified, strings.Join(adds, ", "))
		if _, err := db.ExecContext(ctx, alter); err != nil {
			if !isRowError(err) && !isSetupError(err) && !isAlterRefused(err) {
				return nil, err // the server is gone or busy: try again with the next batch
			}
			info.subset = names
			glog.Warningf("%s: table %s has kube-eventer's columns but not herald's (%s), and adding them failed (%v): herald writes kube-eventer's columns only. To get herald's columns, run as a user with the ALTER privilege: %s",
				s.id, s.qualified, strings.Join(names, ", "), err, alter)
		} else {
			s.logf("added herald's columns %s to table %s", strings.Join(names, ", "), s.qualified)
			if cols, err = s.columns(ctx, db); err != nil {
				return nil, err
			}
		}
	}
	for i, c := range columns {
		if ci, ok := cols[c.name]; ok {
			info.idx = append(info.idx, i)
			if ci.limit != (limit{}) {
				if info.limits == nil {
					info.limits = map[int]limit{}
				}
				info.limits[i] = ci.limit
			}
		}
	}
	switch cols["first_occurrence_time"].typ {
	case "date", "datetime", "timestamp":
	default:
		info.textTimes = true
	}

	info.uniqueKey, err = s.hasUniqueKey(ctx, db)
	if err != nil {
		return nil, err
	}
	if !info.uniqueKey && len(missing) > 0 && info.subset == nil {
		// herald just added count: give (event_id, count) the key that makes retries harmless.
		stmt := fmt.Sprintf("ALTER TABLE %s ADD UNIQUE KEY `uk_event_count` (`event_id`, `count`)", s.qualified)
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			glog.Warningf("%s: adding the unique key on (event_id, count) to %s failed (%v); herald writes without it", s.id, s.qualified, err)
		} else {
			info.uniqueKey = true
		}
	}
	info.statement(s.qualified)
	return info, nil
}

// colInfo is one column of the table as information_schema describes it.
type colInfo struct {
	typ   string
	limit limit
}

// columns reads the table's columns: type, and the size of text columns.
func (s *Sink) columns(ctx context.Context, db *sql.DB) (map[string]colInfo, error) {
	rows, err := db.QueryContext(ctx,
		"SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		s.cfg.Schema, s.cfg.Table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]colInfo{}
	for rows.Next() {
		var name, typ string
		var chars, octets sql.NullInt64
		var charset sql.NullString
		if err := rows.Scan(&name, &typ, &chars, &octets, &charset); err != nil {
			return nil, err
		}
		typ = strings.ToLower(typ)
		ci := colInfo{typ: typ}
		switch typ {
		case "varchar", "char":
			ci.limit.chars = int(chars.Int64)
		case "tinytext", "text", "mediumtext", "longtext":
			ci.limit.bytes = int(octets.Int64)
		}
		if cs := strings.ToLower(charset.String); cs == "utf8" || cs == "utf8mb3" {
			ci.limit.bmp = true
		}
		out[strings.ToLower(name)] = ci
	}
	return out, rows.Err()
}

// hasUniqueKey reports a UNIQUE KEY on exactly (event_id, count).
func (s *Sink) hasUniqueKey(ctx context.Context, db *sql.DB) (bool, error) {
	keys, err := db.QueryContext(ctx,
		"SELECT INDEX_NAME, GROUP_CONCAT(LOWER(COLUMN_NAME) ORDER BY COLUMN_NAME) FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME",
		s.cfg.Schema, s.cfg.Table)
	if err != nil {
		return false, err
	}
	defer keys.Close()
	found := false
	for keys.Next() {
		var name, cols string
		if err := keys.Scan(&name, &cols); err != nil {
			return false, err
		}
		if cols == "count,event_id" {
			found = true
		}
	}
	return found, keys.Err()
}

// statement builds the multi-row upsert over the table's columns.
func (info *tableInfo) statement(qualified string) {
	names := make([]string, len(info.idx))
	var set []string
	for i, ci := range info.idx {
		c := columns[ci].name
		names[i] = "`" + c + "`"
		if c != "event_id" && c != "count" {
			set = append(set, fmt.Sprintf("`%s`=VALUES(`%s`)", c, c)) // VALUES(): MariaDB has no row alias
		}
	}
	info.insertPrefix = fmt.Sprintf("INSERT INTO %s (%s) VALUES ", qualified, strings.Join(names, ","))
	info.placeholders = "(" + strings.TrimSuffix(strings.Repeat("?,", len(info.idx)), ",") + ")"
	info.insertSuffix = " ON DUPLICATE KEY UPDATE " + strings.Join(set, ",")
}

// isAlterRefused reports an ALTER TABLE the server would not run for this user or table: no
// privilege (1142), a read-only table or server (1036, 1290), a key too long for the row format
// (1071).
func isAlterRefused(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1142, 1036, 1290, 1071, 1044:
		return true
	}
	return false
}

// schemaError is a table that does not fit; it is retried (an operator may fix the table
// while herald keeps the events queued), never dropped as permanent.
type schemaError struct{ err error }

func (e *schemaError) Error() string { return e.err.Error() }
func (e *schemaError) Unwrap() error { return e.err }
