package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/test/mariadb"
)

// shared is one MariaDB for the package's tests (each test uses its own database); a test
// that restarts the server starts its own.
var (
	shared    *mariadb.Server
	sharedErr error
	dbSeq     atomic.Int32
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-mariadb-")
	if err != nil {
		panic(err)
	}
	shared, sharedErr = mariadb.New(dir)
	if sharedErr == nil {
		sharedErr = shared.Start()
	}
	code := m.Run()
	if shared != nil {
		_ = shared.Stop()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// database creates a fresh database on the shared server and returns the server, its name and
// a client for checking what the sink wrote.
func database(t testing.TB) (*mariadb.Server, string, *sql.DB) {
	t.Helper()
	mariadb.Require(t, sharedErr)
	return databaseOn(t, shared)
}

func databaseOn(t testing.TB, srv *mariadb.Server) (*mariadb.Server, string, *sql.DB) {
	t.Helper()
	name := fmt.Sprintf("herald_t%d", dbSeq.Add(1))
	require.NoError(t, srv.CreateDatabase(name))
	db, err := srv.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return srv, name, db
}

// sinkURI is a --sink value in kube-eventer's form.
func sinkURI(srv *mariadb.Server, db, extra string) string {
	return "mysql:?" + srv.DSN(db) + "?charset=utf8" + extra
}

func build(t testing.TB, value string) *Sink {
	t.Helper()
	b, err := sinks.Build(1, value, sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink.(*Sink)
}

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func event(i int, count int32, msg string) *core.Event {
	return &core.Event{
		Cluster: "prod-eu",
		Event: &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("web-%d.18a4f", i), Namespace: "prod", UID: types.UID(fmt.Sprintf("ev-%05d", i))},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "prod", Name: fmt.Sprintf("web-%d", i), UID: types.UID(fmt.Sprintf("pod-%05d", i))},
			Reason:         "BackOff",
			Message:        msg,
			Type:           corev1.EventTypeWarning,
			Count:          count,
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
			FirstTimestamp: metav1.NewTime(t0),
			LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(count) * time.Minute)),
		},
	}
}

func batch(from, n int) []*core.Event {
	out := make([]*core.Event, n)
	for i := range out {
		out[i] = event(from+i, 1, fmt.Sprintf("Back-off restarting failed container %d", from+i))
	}
	return out
}

func countRows(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM `"+table+"`").Scan(&n))
	return n
}

type stored struct {
	Cluster, Namespace, Kind, Name, ObjectUID, EventID string
	Count                                              int32
	Type, Reason, Message, SourceHost                  string
	First, Last                                        sql.NullTime
}

func readRow(t testing.TB, db *sql.DB, table, eventID string, count int32) stored {
	t.Helper()
	var r stored
	require.NoError(t, db.QueryRow("SELECT cluster, namespace, kind, name, object_uid, event_id, count, type, reason, message, source_host, first_occurrence_time, last_occurrence_time FROM `"+table+"` WHERE event_id = ? AND count = ?", eventID, count).
		Scan(&r.Cluster, &r.Namespace, &r.Kind, &r.Name, &r.ObjectUID, &r.EventID, &r.Count, &r.Type, &r.Reason, &r.Message, &r.SourceHost, &r.First, &r.Last))
	return r
}

func TestWritesEveryColumnAndKeepsTextIntact(t *testing.T) {
	srv, name, db := database(t)
	s := build(t, sinkURI(srv, name, ""))

	chinese := "Back-off 重启失败的容器 web (容器 \"app\" 在 Pod 中) 🚑🔥 'quoted' \\ backslash"
	long := strings.Repeat("日志行 log line 🙂 ", 6000) // ~150 KB: more than TEXT (64 KB) holds
	evs := []*core.Event{event(1, 3, chinese), event(2, 1, long)}
	node := event(3, 1, "Node node-7 status is now: NodeNotReady")
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-7", UID: "node-uid-7"}
	node.FirstTimestamp, node.LastTimestamp = metav1.Time{}, metav1.Time{}
	node.EventTime = metav1.NewMicroTime(t0.Add(90*time.Second + 123456*time.Microsecond))
	series := event(4, 0, "new-style event with a series")
	series.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(t0.Add(time.Hour))}
	series.LastTimestamp = metav1.Time{}
	evs = append(evs, node, series)

	require.NoError(t, s.Export(context.Background(), evs))
	assert.Equal(t, 4, countRows(t, db, "kube_event"), "kube-eventer's default table")

	r := readRow(t, db, "kube_event", "ev-00001", 3)
	assert.Equal(t, stored{
		Cluster: "prod-eu", Namespace: "prod", Kind: "Pod", Name: "web-1", ObjectUID: "pod-00001", EventID: "ev-00001",
		Count: 3, Type: "Warning", Reason: "BackOff", Message: chinese, SourceHost: "node-7",
		First: sql.NullTime{Time: t0, Valid: true}, Last: sql.NullTime{Time: t0.Add(3 * time.Minute), Valid: true},
	}, r)

	assert.Equal(t, long, readRow(t, db, "kube_event", "ev-00002", 1).Message, "messages are stored in full")

	n := readRow(t, db, "kube_event", "ev-00003", 1)
	assert.Equal(t, "", n.Namespace, "cluster-scoped object")
	assert.Equal(t, "Node", n.Kind)
	assert.Equal(t, t0.Add(90*time.Second), n.First.Time, "no firstTimestamp: eventTime, to the second")
	assert.Equal(t, t0.Add(90*time.Second), n.Last.Time, "no lastTimestamp: eventTime, as kube-eventer")

	sr := readRow(t, db, "kube_event", "ev-00004", 7)
	assert.EqualValues(t, 7, sr.Count, "the series count is the count")
	assert.Equal(t, t0.Add(time.Hour), sr.Last.Time, "the series' last observation")

	// The table herald created: utf8mb4, MEDIUMTEXT message, UNIQUE KEY (event_id, count).
	var collation string
	require.NoError(t, db.QueryRow("SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kube_event'", name).Scan(&collation))
	assert.True(t, strings.HasPrefix(collation, "utf8mb4_"), collation)
	var msgType string
	require.NoError(t, db.QueryRow("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kube_event' AND COLUMN_NAME = 'message'", name).Scan(&msgType))
	assert.Equal(t, "mediumtext", msgType)
	var uniqueCols string
	require.NoError(t, db.QueryRow("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kube_event' AND INDEX_NAME = 'uk_event_count'", name).Scan(&uniqueCols))
	assert.Equal(t, "event_id,count", uniqueCols)
}

func TestReplayNeverDoublesAndRedeliveryUpdates(t *testing.T) {
	srv, name, db := database(t)
	s := build(t, sinkURI(srv, name, "&table=events"))
	evs := batch(0, 300)

	require.NoError(t, s.Export(context.Background(), evs))
	require.NoError(t, s.Export(context.Background(), evs), "a retry of the same batch")
	require.NoError(t, s.Export(context.Background(), evs[100:200]))
	assert.Equal(t, 300, countRows(t, db, "events"), "nothing doubled")

	// The same delivery seen again with a later lastTimestamp updates its row...
	again := event(5, 1, "Back-off restarting failed container 5 (updated)")
	again.LastTimestamp = metav1.NewTime(t0.Add(10 * time.Minute))
	require.NoError(t, s.Export(context.Background(), []*core.Event{again}))
	assert.Equal(t, 300, countRows(t, db, "events"))
	r := readRow(t, db, "events", "ev-00005", 1)
	assert.Equal(t, "Back-off restarting failed container 5 (updated)", r.Message)
	assert.Equal(t, t0.Add(10*time.Minute), r.Last.Time)

	// ...while a count bump is a new occurrence, a new row (as kube-eventer delivered Modified).
	bumped := event(5, 2, "Back-off restarting failed container 5")
	require.NoError(t, s.Export(context.Background(), []*core.Event{bumped}))
	assert.Equal(t, 301, countRows(t, db, "events"))
}

func TestKubeEventerURIForm(t *testing.T) {
	srv, name, db := database(t)
	t.Setenv("MYSQL_PASSWORD", srv.Password)
	dsn := strings.Replace(srv.DSN(name), srv.Password, "${MYSQL_PASSWORD}", 1)

	// kube-eventer's docs: charset=utf8, then &table=. utf8 (3-byte) is upgraded to utf8mb4.
	value := "mysql:?" + dsn + "?charset=utf8&table=k8s_event"
	b, err := sinks.Build(2, value, sinks.Env{})
	require.NoError(t, err)
	defer b.Sink.Close()
	assert.NotContains(t, b.Redacted, srv.Password, "the logged --sink value hides the password")
	assert.Contains(t, b.Redacted, "<redacted>@tcp(")
	require.NoError(t, b.Sink.Export(context.Background(), []*core.Event{event(1, 1, "emoji 🚀 survive charset=utf8")}))
	assert.Equal(t, "emoji 🚀 survive charset=utf8", readRow(t, db, "k8s_event", "ev-00001", 1).Message)

	// DSN parameters after table= still belong to the DSN; herald's filter parameters do not.
	value = "mysql:?" + dsn + "&table=other&level=Normal&timeout=5s&readTimeout=7s"
	b2, err := sinks.Build(3, value, sinks.Env{})
	require.NoError(t, err)
	defer b2.Sink.Close()
	s2 := b2.Sink.(*Sink)
	assert.Equal(t, 5*time.Second, s2.cfg.Driver.Timeout)
	assert.Equal(t, 7*time.Second, s2.cfg.Driver.ReadTimeout)
	assert.Equal(t, name, s2.cfg.Schema)
	assert.Equal(t, "other", s2.cfg.Table)
	require.NoError(t, s2.Export(context.Background(), batch(0, 3)))
	assert.Equal(t, 3, countRows(t, db, "other"))
	assert.Equal(t, maxOpenConns, s2.db.Stats().MaxOpenConnections, "the pool is bounded")
}

// MariaDB answers a wrong password with 1045: a refused credential, so the sink is down and
// keeps its events until the password is fixed.
func TestWrongPasswordIsARefusedCredentialAndNeverShown(t *testing.T) {
	srv, name, _ := database(t)
	s := build(t, "mysql:?"+mariadb.User+":Not-The-Pa55@tcp("+srv.Addr()+")/"+name)
	err := s.Export(context.Background(), batch(0, 2))
	require.Error(t, err)
	assert.True(t, core.IsCredential(err), "%v", err)
	assert.False(t, core.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "1045")
	assert.Contains(t, err.Error(), "check the DSN")
	assert.NotContains(t, err.Error(), "Not-The-Pa55")
}

// kube-eventer's documented table (its docs' DDL: varchar(64) times, TEXT message, no herald
// columns): herald adds its own columns, since its user may, and writes kube-eventer's time
// strings into the varchar time columns.
func TestExistingKubeEventerDocsTable(t *testing.T) {
	srv, name, db := database(t)
	_, err := db.Exec(`create table k8s_event
(
    id               bigint(20)   not null auto_increment primary key comment 'event primary key',
    name             varchar(64)  not null default '' comment 'event name',
    namespace        varchar(64)  not null default '' comment 'event namespace',
    event_id         varchar(64)  not null default '' comment 'event_id',
    type             varchar(64)  not null default '' comment 'event type Warning or Normal',
    reason           varchar(64)  not null default '' comment 'event reason',
    message          text  not null  comment 'event message' ,
    kind             varchar(64)  not null default '' comment 'event kind' ,
    first_occurrence_time   varchar(64)    not null default '' comment 'event first occurrence time',
    last_occurrence_time    varchar(64)    not null default '' comment 'event last occurrence time'
) ENGINE = InnoDB default CHARSET = utf8mb4 comment ='Event info tables'`)
	require.NoError(t, err)
	s := build(t, sinkURI(srv, name, "&table=k8s_event"))
	require.NoError(t, s.Export(context.Background(), batch(0, 2)))
	require.NoError(t, s.Export(context.Background(), batch(0, 2)), "a replay")
	assert.Equal(t, 2, countRows(t, db, "k8s_event"), "the unique key herald added keeps a replay from doubling")
	var first, last string
	require.NoError(t, db.QueryRow("SELECT first_occurrence_time, last_occurrence_time FROM k8s_event WHERE event_id = 'ev-00001'").Scan(&first, &last))
	assert.Equal(t, "2026-11-23 18:53:15 +0000 UTC", first, "kube-eventer's time strings in its varchar columns")
	assert.Equal(t, "2026-11-23 18:54:15 +0000 UTC", last)
	assert.Equal(t, []string{"prod-eu", "pod-00001", "1", "node-7"}, heraldColumns(t, db, "k8s_event", "ev-00001"))
}

// A table that lacks a column kube-eventer wrote cannot take its events: herald names the
// ALTER TABLE that fixes it, and keeps the events queued (retryable).
func TestTableWithoutKubeEventersColumns(t *testing.T) {
	srv, name, db := database(t)
	require.NoError(t, exec(db, "CREATE TABLE odd (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), message TEXT)"))
	s := build(t, sinkURI(srv, name, "&table=odd"))
	err := s.Export(context.Background(), batch(0, 2))
	require.Error(t, err)
	assert.False(t, core.IsPermanent(err), "an operator can fix the table while events wait")
	alter := regexp.MustCompile("ALTER TABLE .*$").FindString(err.Error())
	require.NotEmpty(t, alter, err.Error())
	for _, col := range []string{"namespace", "kind", "event_id", "first_occurrence_time"} {
		assert.Contains(t, alter, "ADD COLUMN `"+col+"`")
	}
	require.NoError(t, exec(db, alter), "the suggested statement runs as given")
	require.NoError(t, s.Export(context.Background(), batch(0, 2)))
	assert.Equal(t, 2, countRows(t, db, "odd"))
}

// A table that refuses some values: the refused rows fail alone and permanently, every other
// row is written, and the error names the fix. A value longer than its column is cut to fit.
func TestRefusedRowsDoNotBlockTheBatch(t *testing.T) {
	srv, name, db := database(t)
	require.NoError(t, exec(db, strings.Replace(createTable("`narrow`"), "`message` MEDIUMTEXT NOT NULL",
		"`message` VARCHAR(80) CHARACTER SET latin1 NOT NULL", 1)))
	s := build(t, sinkURI(srv, name, "&table=narrow"))

	evs := batch(0, 40)
	tooLong := event(100, 1, strings.Repeat("x", 81))
	notLatin1 := event(101, 1, "容器重启")
	evs = append(evs[:13], append([]*core.Event{tooLong}, evs[13:]...)...)
	evs = append(evs[:31], append([]*core.Event{notLatin1}, evs[31:]...)...)

	err := s.Export(context.Background(), evs)
	retry, _, rejected, rejectErr := core.Fates(err, evs)
	require.Error(t, err)
	assert.Empty(t, retry, "%v", err)
	assert.Equal(t, []*core.Event{notLatin1}, rejected)
	assert.Contains(t, rejectErr.Error(), "1366")
	assert.Contains(t, rejectErr.Error(), "CONVERT TO CHARACTER SET utf8mb4")
	assert.Equal(t, 41, countRows(t, db, "narrow"), "every other row is written")
	assert.Equal(t, strings.Repeat("x", 77)+"...", readRow(t, db, "narrow", "ev-00100", 1).Message, "a value longer than its column is cut to fit")

	// Retrying just the refused rows fails again, permanently, without writing anything.
	err = s.Export(context.Background(), rejected)
	assert.True(t, core.IsPermanent(err))
	assert.Equal(t, 41, countRows(t, db, "narrow"))
}

func exec(db *sql.DB, q string) error { _, err := db.Exec(q); return err }

// MariaDB stops mid-stream and comes back on the same port and datadir: the export in between
// fails retryably, the retry succeeds, and the counts are exact.
func TestServerRestartMidStream(t *testing.T) {
	srv := mariadb.Start(t)
	_, name, db := databaseOn(t, srv)
	s := build(t, sinkURI(srv, name, ""))
	ctx := context.Background()

	require.NoError(t, s.Export(ctx, batch(0, 500)))
	require.NoError(t, srv.Stop())

	second := batch(500, 500)
	err := s.Export(ctx, second)
	require.Error(t, err, "the server is down")
	assert.False(t, core.IsPermanent(err), "a lost server is worth retrying: %v", err)
	t.Logf("while the server is down: %v", err)
	assert.NotContains(t, err.Error(), srv.Password)

	require.NoError(t, srv.Start())
	require.NoError(t, s.Export(ctx, second), "the pool reconnects")
	require.NoError(t, s.Export(ctx, batch(0, 500)), "a replay of the first batch")
	require.NoError(t, s.Export(ctx, batch(1000, 500)))
	assert.Equal(t, 1500, countRows(t, db, "kube_event"), "nothing lost, nothing doubled")
}

// The table is dropped while herald runs: the next export fails retryably and the one after
// creates the table again.
func TestDroppedTableIsCreatedAgain(t *testing.T) {
	srv, name, db := database(t)
	s := build(t, sinkURI(srv, name, ""))
	require.NoError(t, s.Export(context.Background(), batch(0, 5)))
	require.NoError(t, exec(db, "DROP TABLE kube_event"))
	err := s.Export(context.Background(), batch(5, 5))
	require.Error(t, err)
	assert.False(t, core.IsPermanent(err))
	require.NoError(t, s.Export(context.Background(), batch(5, 5)))
	assert.Equal(t, 5, countRows(t, db, "kube_event"))
}

func TestBadParametersFailAtStart(t *testing.T) {
	cases := []struct{ value, want string }{
		{"mysql:?u:Hunter2secret@tcp(127.0.0.1:3306)/?charset=utf8", "no database given"},
		{"mysql:?u:Hunter2secret@tcp(127.0.0.1:3306)/db&table=kube-event", `parameter "table": "kube-event" is not a plain table name`},
		{"mysql:?u:Hunter2secret@tcp(127.0.0.1:3306)/db&table=a.b.c", `parameter "table"`},
		{"mysql:?table=x", "no DSN given"},
		{"mysql:?u:Hunter2secret@bogus(127.0.0.1:3306)/db", `parameter "DSN"`},
	}
	for _, tc := range cases {
		b, err := sinks.Build(4, tc.value, sinks.Env{})
		if b != nil {
			_ = b.Sink.Close()
		}
		require.Error(t, err, tc.value)
		assert.Contains(t, err.Error(), tc.want, tc.value)
		assert.Contains(t, err.Error(), "--sink #4 (mysql)")
		assert.NotContains(t, err.Error(), "Hunter2secret", tc.value)
	}
}

// BenchmarkExport500 measures events/s into MariaDB at the pipeline's default batch (500 new
// events per Export, one multi-row upsert each; the server runs with its default durability).
func BenchmarkExport500(b *testing.B) {
	srv, name, _ := database(b)
	s := build(b, sinkURI(srv, name, ""))
	ctx := context.Background()
	require.NoError(b, s.Export(ctx, batch(0, 500)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		evs := batch((i+1)*500, 500)
		b.StartTimer()
		if err := s.Export(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}
