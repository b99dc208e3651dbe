package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// kubeEventerDDL is the CREATE TABLE of kube-eventer's common/mysql/shema.sql, as it is.
func kubeEventerDDL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/kube-eventer-shema.sql")
	require.NoError(t, err)
	ddl := regexp.MustCompile("(?s)CREATE TABLE .*").FindString(string(b))
	require.NotEmpty(t, ddl, "no CREATE TABLE in kube-eventer's shema.sql")
	return ddl
}

// rowsWrittenByKubeEventer inserts two rows the way kube-eventer's sink did (its INSERT, its
// time strings; one event delivered twice, as kube-eventer wrote every update).
func rowsWrittenByKubeEventer(t *testing.T, db *sql.DB) {
	t.Helper()
	for i := 0; i < 2; i++ {
		_, err := db.Exec("INSERT INTO kube_event (namespace,kind,name,type,reason,message,event_id,first_occurrence_time,last_occurrence_time) VALUES(?,?,?,?,?,?,?,?,?)",
			"prod", "Pod", "old-1", "Warning", "BackOff", "written by kube-eventer", "old-uid", "2026-11-20 10:00:00 +0000 UTC", "2026-11-20 10:00:00 +0000 UTC")
		require.NoError(t, err)
	}
}

type keRow struct {
	Namespace, Kind, Name, Type, Reason, Message, EventID, First, Last string
}

func readKubeEventerRow(t *testing.T, db *sql.DB, eventID string) keRow {
	t.Helper()
	var r keRow
	require.NoError(t, db.QueryRow("SELECT namespace, kind, name, type, reason, message, event_id, first_occurrence_time, last_occurrence_time FROM kube_event WHERE event_id = ? ORDER BY id DESC LIMIT 1", eventID).
		Scan(&r.Namespace, &r.Kind, &r.Name, &r.Type, &r.Reason, &r.Message, &r.EventID, &r.First, &r.Last))
	return r
}

func columnsOf(t *testing.T, db *sql.DB, schema string) []string {
	t.Helper()
	rows, err := db.Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kube_event' ORDER BY ORDINAL_POSITION", schema)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		out = append(out, c)
	}
	return out
}

var keColumns = []string{"id", "namespace", "kind", "name", "type", "reason", "message", "event_id", "first_occurrence_time", "last_occurrence_time", "update_time"}

// kube-eventer's own table, made by its DDL, with rows it wrote; herald's user may ALTER it.
// Checked at start, before any event: herald adds its columns (and the unique key that makes
// retries harmless), leaves kube-eventer's rows as they were, and writes kube-eventer's columns
// as kube-eventer did: its time strings, and a message longer than varchar(255) cut to fit
// instead of refused.
func TestKubeEventerTableWithAlterPrivilege(t *testing.T) {
	srv, name, db := database(t)
	require.NoError(t, exec(db, kubeEventerDDL(t)))
	rowsWrittenByKubeEventer(t, db)

	b, err := sinks.Build(1, "mysql:?"+srv.DSN(name)+"?charset=utf8", sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	s := b.Sink.(*Sink)
	defer s.Close()
	<-s.done // the check New started
	require.NotNil(t, s.info, "the table is checked at start")
	assert.Empty(t, s.info.subset)
	assert.True(t, s.info.uniqueKey)
	assert.True(t, s.info.textTimes)
	assert.Equal(t, append(keColumns, "cluster", "object_uid", "count", "source_host"), columnsOf(t, db, name))

	long := strings.Repeat("调度失败 0/5 nodes are available: ", 20)
	evs := []*core.Event{event(1, 3, "Back-off \"app\" 容器 🚑"), event(2, 1, long)}
	noLast := event(3, 1, "eventTime only")
	noLast.LastTimestamp = metav1.Time{}
	noLast.EventTime = metav1.NewMicroTime(t0.Add(90_500_000_000))
	evs = append(evs, noLast)
	require.NoError(t, s.Export(context.Background(), evs))
	require.NoError(t, s.Export(context.Background(), evs), "a replay")
	assert.Equal(t, 2+3, countRows(t, db, "kube_event"), "kube-eventer's rows kept, nothing doubled")

	assert.Equal(t, keRow{Namespace: "prod", Kind: "Pod", Name: "web-1", Type: "Warning", Reason: "BackOff",
		Message: "Back-off \"app\" 容器 🚑", EventID: "ev-00001",
		First: "2026-11-23 18:53:15 +0000 UTC", Last: "2026-11-23 18:56:15 +0000 UTC"}, readKubeEventerRow(t, db, "ev-00001"))
	msg := readKubeEventerRow(t, db, "ev-00002").Message
	assert.Equal(t, 255, len([]rune(msg)), "cut to the column's 255 characters")
	assert.True(t, strings.HasSuffix(msg, "..."))
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(msg, "...")))
	assert.Equal(t, "2026-11-23 18:54:45.5 +0000 UTC", readKubeEventerRow(t, db, "ev-00003").Last, "eventTime, as kube-eventer")
	assert.Equal(t, "written by kube-eventer", readKubeEventerRow(t, db, "old-uid").Message)
	assert.Equal(t, []string{"prod-eu", "pod-00001", "3", "node-7"}, heraldColumns(t, db, "kube_event", "ev-00001"))
	assert.Equal(t, []string{"", "", "NULL", ""}, heraldColumns(t, db, "kube_event", "old-uid"), "kube-eventer's rows: NULL count")
}

// heraldColumns reads herald's own columns of the newest row of an event.
func heraldColumns(t *testing.T, db *sql.DB, table, eventID string) []string {
	t.Helper()
	var cluster, uid, host string
	var count sql.NullInt64
	require.NoError(t, db.QueryRow("SELECT cluster, object_uid, count, source_host FROM `"+table+"` WHERE event_id = ? ORDER BY id DESC LIMIT 1", eventID).Scan(&cluster, &uid, &count, &host))
	n := "NULL"
	if count.Valid {
		n = fmt.Sprint(count.Int64)
	}
	return []string{cluster, uid, n, host}
}

// The same table, and a user that may write rows but not ALTER the table: herald writes
// kube-eventer's columns only, says so at start, and leaves the table as it was.
func TestKubeEventerTableWithoutAlterPrivilege(t *testing.T) {
	srv, name, db := database(t)
	require.NoError(t, exec(db, kubeEventerDDL(t)))
	rowsWrittenByKubeEventer(t, db)
	dsn, err := srv.CreateUser("kevent_"+name, "Kev-Pw9x", name, "SELECT, INSERT, UPDATE")
	require.NoError(t, err)

	b, err := sinks.Build(1, "mysql:?"+dsn+"?charset=utf8&table=kube_event", sinks.Env{})
	require.NoError(t, err)
	s := b.Sink.(*Sink)
	defer s.Close()
	<-s.done
	require.NotNil(t, s.info, "the table is checked at start")
	assert.Equal(t, []string{"cluster", "object_uid", "count", "source_host"}, s.info.subset, "herald's columns it cannot add")

	evs := batch(0, 20)
	require.NoError(t, s.Export(context.Background(), evs))
	assert.Equal(t, keColumns, columnsOf(t, db, name), "the table is unchanged")
	assert.Equal(t, 2+20, countRows(t, db, "kube_event"))
	got := readKubeEventerRow(t, db, "ev-00007")
	assert.Equal(t, keRow{Namespace: "prod", Kind: "Pod", Name: "web-7", Type: "Warning", Reason: "BackOff",
		Message: "Back-off restarting failed container 7", EventID: "ev-00007",
		First: "2026-11-23 18:53:15 +0000 UTC", Last: "2026-11-23 18:54:15 +0000 UTC"}, got)
}

// kube-eventer read the DSN from the raw query: with table= only the part before the first '&'
// (the rest dropped), without it the whole query (each item reaching the driver). herald reads
// it the same way and says where it reads an item differently.
func TestKubeEventerDSNForms(t *testing.T) {
	cases := []struct {
		value string
		table string
		warn  []string
	}{
		// KE080: a fork's cluster= after table=, which kube-eventer dropped.
		{"mysql:?username:password@tcp(ip:port)/dbname?charset=utf8&table=tablename&cluster=clustername", "tablename",
			[]string{`parameter "cluster": kube-eventer dropped it`}},
		{"mysql:?u:p@tcp(127.0.0.1:3306)/db?charset=utf8&table=t&timeout=5s", "t",
			[]string{`parameter "timeout": kube-eventer used only the DSN before the first '&' when table= was given`}},
		{"mysql:?u:p@tcp(127.0.0.1:3306)/db?charset=utf8&timeout=5s", "kube_event", nil},
		{"mysql:?u:p@tcp(127.0.0.1:3306)/kube_event?charset=utf8", "kube_event", nil},
	}
	for _, tc := range cases {
		b, err := sinks.Build(2, tc.value, sinks.Env{CheckOnly: true})
		require.NoError(t, err, tc.value)
		assert.Equal(t, tc.table, b.Sink.(*Sink).cfg.Table)
		require.Len(t, b.Warnings, len(tc.warn), "%s: %q", tc.value, b.Warnings)
		for i, w := range tc.warn {
			assert.Contains(t, b.Warnings[i], w)
			assert.Contains(t, b.Warnings[i], "--sink #2 (mysql)")
		}
		assert.NotContains(t, fmt.Sprint(b.Warnings), "password")
		_ = b.Sink.Close()
	}
	b, err := sinks.Build(2, "mysql:?u:p@tcp(127.0.0.1:3306)/db?charset=utf8&table=t&timeout=5s&cluster=c", sinks.Env{CheckOnly: true})
	require.NoError(t, err)
	defer b.Sink.Close()
	cfg := b.Sink.(*Sink).cfg
	assert.Equal(t, "5s", cfg.Driver.Timeout.String(), "the driver's option reaches the driver")
	assert.NotContains(t, cfg.Driver.Params, "cluster", "what kube-eventer dropped is no system variable")
}
