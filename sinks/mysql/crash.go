package mysql

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

// DefaultCrashTable is the table restart reports (ContainerRestarted events from
// sources/podrestart) also go to, one row per container restart, like the Pod Monitor tools'
// crash history.
const DefaultCrashTable = "k8s_pod_crash"

// maxCrashLogBytes bounds the log tail kept per crash row (MEDIUMTEXT holds 16 MiB; the
// source's tails are 16 KiB by default).
const maxCrashLogBytes = 1 << 20

// crashColumns are the columns of the crash table, in INSERT order.
var crashColumns = []column{
	{"cluster", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT '--cluster-name'"},
	{"namespace", "VARCHAR(255) NOT NULL DEFAULT ''"},
	{"pod", "VARCHAR(255) NOT NULL DEFAULT ''"},
	{"container", "VARCHAR(255) NOT NULL DEFAULT ''"},
	{"restart_count", "INT NOT NULL DEFAULT 0"},
	{"reason", "VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'last termination reason (OOMKilled, Error)'"},
	{"exit_code", "INT NULL COMMENT 'last termination exit code'"},
	{"finished_at", "DATETIME NULL COMMENT 'UTC, when the previous container ended'"},
	{"log", "MEDIUMTEXT NOT NULL COMMENT 'tail of the previous container log, or why it is missing'"},
	{"owner", "VARCHAR(512) NOT NULL DEFAULT '' COMMENT 'Kind/name of the workload'"},
	{"node", "VARCHAR(255) NOT NULL DEFAULT ''"},
}

// createCrashTable is the statement herald creates the crash table with. The unique key makes
// a retried batch rewrite its rows instead of adding them again.
func createCrashTable(qualified string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,\n", qualified)
	for _, c := range crashColumns {
		fmt.Fprintf(&b, "  `%s` %s,\n", c.name, c.def)
	}
	b.WriteString("  `update_time` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n")
	b.WriteString("  PRIMARY KEY (`id`),\n")
	b.WriteString("  UNIQUE KEY `uk_container_restart` (`namespace`, `pod`, `container`, `restart_count`),\n")
	b.WriteString("  KEY `idx_finished` (`finished_at`)\n")
	b.WriteString(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='container restarts written by herald'")
	return b.String()
}

// crashArgs are e's crash row values, in the order of crashColumns.
func crashArgs(e *core.Event) []any {
	r := e.Restart
	cluster := r.Cluster
	if cluster == "" {
		cluster = e.Cluster
	}
	var reason string
	var exit, finished any
	if ls := r.LastState; ls != nil {
		reason = ls.Reason
		exit = ls.ExitCode
		if !ls.FinishedAt.IsZero() {
			finished = ls.FinishedAt.UTC().Truncate(time.Second)
		}
	}
	log := r.PreviousLog
	if log == "" {
		log = r.LogNote
	}
	owner := ""
	if r.OwnerName != "" {
		owner = r.OwnerKind + "/" + r.OwnerName
	}
	return []any{
		cut(cluster, 255), cut(r.Namespace, 255), cut(r.Pod, 255),
		cut(r.Container, 255), r.RestartCount, cut(reason, 255), exit, finished,
		cut(log, maxCrashLogBytes), cut(owner, 512), cut(r.Node, 255),
	}
}

// crashTable creates the crash table once when it is absent.
func (s *Sink) crashTable(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.crashReady {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, createCrashTable(s.crashQualified)); err != nil {
		return fmt.Errorf("creating table %s: %w", s.crashQualified, err)
	}
	s.crashReady = true
	return nil
}

// writeCrashes upserts one crash row per restart report in events, one statement per report
// (restarts are few). It returns the reports not written, with the error.
func (s *Sink) writeCrashes(ctx context.Context, events []*core.Event) []failure {
	if s.cfg.CrashTable == "" {
		return nil
	}
	var restarts []*core.Event
	for _, e := range events {
		if e != nil && e.Restart != nil {
			restarts = append(restarts, e)
		}
	}
	if len(restarts) == 0 {
		return nil
	}
	fail := func(from int, err error) []failure {
		var fs []failure
		for _, e := range restarts[from:] {
			fs = append(fs, failure{event: e, err: err})
		}
		return fs
	}
	if err := s.crashTable(ctx); err != nil {
		return fail(0, s.statementError(err))
	}
	var failures []failure
	for i, e := range restarts {
		_, err := s.db.ExecContext(ctx, s.crashInsert, crashArgs(e)...)
		switch {
		case err == nil:
		case isRowError(err):
			failures = append(failures, failure{event: e, err: core.Permanent(fmt.Errorf(
				"restart of %s/%s container %s refused by table %s: %v; %s",
				e.Restart.Namespace, e.Restart.Pod, e.Restart.Container, s.crashQualified, err, fix(err, s.crashQualified)))})
		default:
			if isMissingTable(err) {
				s.mu.Lock()
				s.crashReady = false
				s.mu.Unlock()
			}
			return append(failures, fail(i, s.statementError(err))...)
		}
	}
	return failures
}

// crashStatement is the single-row upsert into the crash table.
func crashStatement(qualified string) string {
	names := make([]string, len(crashColumns))
	var set []string
	for i, c := range crashColumns {
		names[i] = "`" + c.name + "`"
		switch c.name {
		case "namespace", "pod", "container", "restart_count":
		default:
			set = append(set, fmt.Sprintf("`%s`=VALUES(`%s`)", c.name, c.name))
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON DUPLICATE KEY UPDATE %s", qualified,
		strings.Join(names, ","), strings.TrimSuffix(strings.Repeat("?,", len(crashColumns)), ","), strings.Join(set, ","))
}

// cut makes s valid UTF-8 and keeps at most max bytes of it, on a character boundary.
func cut(s string, max int) string {
	s = text(s)
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
