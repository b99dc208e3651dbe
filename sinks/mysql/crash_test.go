package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

type crashRow struct {
	Cluster, Namespace, Pod, Container string
	RestartCount                       int32
	Reason                             string
	ExitCode                           sql.NullInt64
	FinishedAt                         sql.NullTime
	Log, Owner, Node                   string
}

func readCrashes(t *testing.T, db *sql.DB, table string) []crashRow {
	t.Helper()
	rows, err := db.Query("SELECT cluster, namespace, pod, container, restart_count, reason, exit_code, finished_at, log, owner, node FROM `" + table + "` ORDER BY restart_count")
	require.NoError(t, err)
	defer rows.Close()
	var out []crashRow
	for rows.Next() {
		var r crashRow
		require.NoError(t, rows.Scan(&r.Cluster, &r.Namespace, &r.Pod, &r.Container, &r.RestartCount, &r.Reason, &r.ExitCode, &r.FinishedAt, &r.Log, &r.Owner, &r.Node))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// restartEvent is the sample restart report at restart count n, with a distinct event uid.
func restartEvent(n int32) *core.Event {
	e := template.SampleRestartEvent()
	e.Event = e.Event.DeepCopy()
	e.UID = types.UID(fmt.Sprintf("%s-%d", e.UID, n))
	r := *e.Restart
	r.RestartCount = n
	e.Restart = &r
	return e
}

func TestRestartReportsGoToTheCrashTable(t *testing.T) {
	srv, name, db := database(t)
	s := build(t, sinkURI(srv, name, ""))
	first := restartEvent(5)
	plain := event(1, 1, "Back-off restarting failed container")
	require.NoError(t, s.Export(context.Background(), []*core.Event{plain, first}))
	// A retried batch and a redelivery of the same restart never add a row.
	require.NoError(t, s.Export(context.Background(), []*core.Event{plain, first}))
	require.NoError(t, s.Export(context.Background(), []*core.Event{first}))

	assert.Equal(t, 2, countRows(t, db, "kube_event"), "the restart report is also an ordinary event row")
	got := readCrashes(t, db, DefaultCrashTable)
	require.Len(t, got, 1, "one row per container restart, however often it is delivered")
	r, want := got[0], first.Restart
	assert.Equal(t, first.Cluster, r.Cluster, "the event's cluster when the report carries none")
	assert.Equal(t, want.Namespace, r.Namespace)
	assert.Equal(t, want.Pod, r.Pod)
	assert.Equal(t, "app", r.Container)
	assert.Equal(t, int32(5), r.RestartCount)
	assert.Equal(t, "OOMKilled", r.Reason)
	assert.Equal(t, sql.NullInt64{Int64: 137, Valid: true}, r.ExitCode)
	assert.Equal(t, want.LastState.FinishedAt.UTC().Truncate(time.Second), r.FinishedAt.Time)
	assert.Equal(t, want.PreviousLog, r.Log)
	assert.Equal(t, "ReplicaSet/checkout-7d4b9c6f5", r.Owner)
	assert.Equal(t, "node-3", r.Node)

	// The next restart of the container is a new row; a report without log keeps the note.
	next := restartEvent(6)
	next.Restart.PreviousLog = ""
	next.Restart.LogNote = "previous log unavailable: the pod or container no longer exists"
	next.Restart.LastState = nil
	require.NoError(t, s.Export(context.Background(), []*core.Event{next}))
	got = readCrashes(t, db, DefaultCrashTable)
	require.Len(t, got, 2)
	assert.Equal(t, next.Restart.LogNote, got[1].Log)
	assert.False(t, got[1].ExitCode.Valid, "no last state: exit code NULL, not 0")
	assert.False(t, got[1].FinishedAt.Valid)
}

func TestCrashTableKeepsALargeLogAndCanBeDisabled(t *testing.T) {
	srv, name, db := database(t)
	s := build(t, sinkURI(srv, name, "&crash_table=crashes"))
	e := restartEvent(1)
	e.Restart.PreviousLog = strings.Repeat("panic: 日本語 out of memory\n", 200<<10/32)
	require.NoError(t, s.Export(context.Background(), []*core.Event{e}))
	got := readCrashes(t, db, "crashes")
	require.Len(t, got, 1)
	assert.Equal(t, e.Restart.PreviousLog, got[0].Log, "a 200 KiB tail is kept whole in MEDIUMTEXT")

	off := build(t, sinkURI(srv, name, "&table=plain&crash_table="))
	require.NoError(t, off.Export(context.Background(), []*core.Event{restartEvent(2)}))
	assert.Equal(t, 1, countRows(t, db, "plain"))
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", name, DefaultCrashTable).Scan(&n))
	assert.Zero(t, n, "crash_table= creates no crash table")
	assert.Len(t, readCrashes(t, db, "crashes"), 1)
}

func TestBadCrashTableFailsAtStart(t *testing.T) {
	_, err := sinks.Build(2, "mysql:?u:Hunter2secret@tcp(127.0.0.1:3306)/db&crash_table=pod-crash", sinks.Env{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `parameter "crash_table": "pod-crash" is not a plain table name`)
}
