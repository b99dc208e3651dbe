package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// updated are the columns a redelivery of the same (event_id, count) overwrites.
func updated() []string {
	var out []string
	for _, c := range columns {
		if c.name != "event_id" && c.name != "count" {
			out = append(out, c.name)
		}
	}
	return out
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

// tableInfo is what herald learned about an existing table.
type tableInfo struct {
	// textTimes is set when the time columns are text (kube-eventer's documented varchar(64)):
	// herald then writes kube-eventer's time strings into them.
	textTimes bool
	// uniqueKey is set when a UNIQUE KEY covers exactly (event_id, count).
	uniqueKey bool
}

// inspect creates the table when it is absent and checks that it has every column herald
// writes. A table that lacks some is reported with the ALTER TABLE statement that fixes it.
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

	rows, err := db.QueryContext(ctx,
		"SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		s.cfg.Schema, s.cfg.Table)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		types[strings.ToLower(name)] = strings.ToLower(typ)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var missing []string
	for _, c := range columns {
		if _, ok := types[c.name]; !ok {
			missing = append(missing, fmt.Sprintf("ADD COLUMN `%s` %s", c.name, c.def))
		}
	}
	if len(missing) > 0 {
		return nil, &schemaError{fmt.Errorf("table %s lacks %d of the columns herald writes; add them: ALTER TABLE %s %s",
			s.qualified, len(missing), s.qualified, strings.Join(missing, ", "))}
	}
	info := &tableInfo{}
	switch types["first_occurrence_time"] {
	case "date", "datetime", "timestamp":
	default:
		info.textTimes = true
	}

	keys, err := db.QueryContext(ctx,
		"SELECT INDEX_NAME, GROUP_CONCAT(LOWER(COLUMN_NAME) ORDER BY COLUMN_NAME) FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME",
		s.cfg.Schema, s.cfg.Table)
	if err != nil {
		return nil, err
	}
	defer keys.Close()
	for keys.Next() {
		var name, cols string
		if err := keys.Scan(&name, &cols); err != nil {
			return nil, err
		}
		if cols == "count,event_id" {
			info.uniqueKey = true
		}
	}
	return info, keys.Err()
}

// schemaError is a table that does not fit; it is retried (an operator may fix the table
// while herald keeps the events queued), never dropped as permanent.
type schemaError struct{ err error }

func (e *schemaError) Error() string { return e.err.Error() }
func (e *schemaError) Unwrap() error { return e.err }
