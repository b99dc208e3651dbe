package influxdb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/test/influxdb"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

func build(t testing.TB, value string) *Sink {
	t.Helper()
	b, err := sinks.Build(1, value, sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink.(*Sink)
}

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
			// Every event of a batch has the same last timestamp, to the second.
			LastTimestamp: metav1.NewTime(t0.Add(time.Duration(count) * time.Minute)),
		},
	}
}

func batch(from, n int) []*core.Event {
	out := make([]*core.Event, n)
	for i := range out {
		out[i] = event(from+i, 1, fmt.Sprintf("Back-off restarting failed container %d, \"quoted\" \n line", from+i))
	}
	return out
}

func TestHeraldLayoutWriteQueryReplay(t *testing.T) {
	srv := influxdb.ForTest(t)
	ctx := context.Background()
	// The v1 form: the sink creates the database itself, as kube-eventer did.
	s := build(t, "influxdb:"+srv.URL+"?db=events_t&layout=herald")

	evs := batch(0, 20)
	require.NoError(t, s.Export(ctx, evs))

	res, err := srv.Query(ctx, "events_t", `SELECT * FROM "kube_event" ORDER BY time`)
	require.NoError(t, err)
	rows := res.Rows()
	require.Len(t, rows, 20, "20 events of the same second are 20 points (the uid tag keeps them apart)")
	byUID := map[string]map[string]any{}
	for _, r := range rows {
		byUID[fmt.Sprint(r["uid"])] = r
	}
	r := byUID["ev-00003"]
	require.NotNil(t, r, "%v", rows)
	assert.Equal(t, "prod", r["namespace"])
	assert.Equal(t, "Pod", r["kind"])
	assert.Equal(t, "web-3", r["object_name"])
	assert.Equal(t, "BackOff", r["reason"])
	assert.Equal(t, "Warning", r["type"])
	assert.Equal(t, "prod-eu", r["cluster"])
	assert.Equal(t, "kubelet", r["component"])
	assert.Equal(t, "node-7", r["hostname"])
	// A newline inside a string field arrives intact through /write.
	assert.Equal(t, "Back-off restarting failed container 3, \"quoted\" \n line", r["message"])
	assert.Equal(t, json.Number("1"), r["count"])
	assert.Equal(t, json.Number(fmt.Sprint(t0.Add(time.Minute).UnixNano())), r["time"])

	// Tags are tags (InfluxQL can group by them), fields are fields.
	keys, err := srv.Query(ctx, "events_t", `SHOW TAG KEYS FROM "kube_event"`)
	require.NoError(t, err)
	var tagKeys []string
	for _, v := range keys.Values {
		tagKeys = append(tagKeys, fmt.Sprint(v[0]))
	}
	assert.Subset(t, tagKeys, []string{"namespace", "kind", "reason", "type", "cluster", "object_name", "uid"})

	// A replay overwrites the same points; a count bump is a new point.
	require.NoError(t, s.Export(ctx, evs))
	require.NoError(t, s.Export(ctx, []*core.Event{event(3, 2, "again")}))
	res, err = srv.Query(ctx, "events_t", `SELECT count("message") FROM "kube_event"`)
	require.NoError(t, err)
	require.Len(t, res.Values, 1)
	assert.Equal(t, json.Number("21"), res.Values[0][1])
	res, err = srv.Query(ctx, "events_t", `SELECT "count", "message" FROM "kube_event" WHERE "uid" = 'ev-00003' ORDER BY time`)
	require.NoError(t, err)
	require.Len(t, res.Values, 2)
	assert.Equal(t, json.Number("2"), res.Values[1][1])
	assert.Equal(t, "again", res.Values[1][2])
}

func TestBucketFormAndHeraldLayoutWithValueField(t *testing.T) {
	srv := influxdb.ForTest(t)
	ctx := context.Background()
	require.NoError(t, srv.CreateDatabase(ctx, "k8s"))
	// bucket=DB/RP, the v2 client's own spelling of the v1-compatibility target, and a token.
	s := build(t, "influxdb:"+srv.URL+"?bucket=k8s/autogen&user=u&pw=p&layout=herald&withfields=false&measurement=events")
	require.NoError(t, s.Export(ctx, batch(0, 2)))
	res, err := srv.Query(ctx, "k8s", `SELECT "value", "message" FROM "autogen"."events"`)
	require.NoError(t, err)
	require.Len(t, res.Values, 2)
	var ev corev1.Event
	require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(res.Values[0][1])), &ev))
	assert.Equal(t, "BackOff", ev.Reason)
	assert.Equal(t, "web-0", ev.InvolvedObject.Name)
}

// A database dropped under herald: the write's 404 is retried, and the next attempt creates the
// database again (kube-eventer reconnected and created it too).
func TestDroppedDatabaseIsCreatedAgain(t *testing.T) {
	srv := influxdb.ForTest(t)
	ctx := context.Background()
	s := build(t, "influxdb:"+srv.URL+"?db=gone")
	require.NoError(t, s.Export(ctx, batch(0, 1)))
	_, err := srv.Query(ctx, "", `DROP DATABASE "gone"`)
	require.NoError(t, err)
	err = s.Export(ctx, batch(1, 1))
	require.Error(t, err)
	assert.False(t, core.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "database not found")
	assert.Contains(t, err.Error(), "CREATE DATABASE")
	require.NoError(t, s.Export(ctx, batch(1, 1)))
	res, err := srv.Query(ctx, "gone", `SELECT count("value") FROM "log/events"`)
	require.NoError(t, err)
	require.Len(t, res.Values, 1)
	assert.Equal(t, json.Number("1"), res.Values[0][1])
}

func TestRestartPoint(t *testing.T) {
	s := build(t, "influxdb:http://127.0.0.1:8086?org=o&bucket=k8s&token=tok&layout=herald")
	e := event(1, 1, "restarted")
	e.Restart = &core.PodRestart{Container: "app", RestartCount: 4,
		LastState: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}
	out, err := s.Preview(e)
	require.NoError(t, err)
	assert.Contains(t, out, "POST http://127.0.0.1:8086/api/v2/write?bucket=k8s&org=o&precision=ns\n")
	assert.Contains(t, out, "container=app")
	assert.Contains(t, out, "restart_count=4i")
	assert.Contains(t, out, "exit_code=137i")
	assert.Contains(t, out, `termination_state="OOMKilled"`)
	assert.Contains(t, out, fmt.Sprintf(" %d", t0.Add(time.Minute).UnixNano()))
}

// recorder is an httptest InfluxDB that checks the write request as the server documents it
// (InfluxDB 2: POST /api/v2/write?org=&bucket=&precision=ns, Authorization: Token ...; InfluxDB
// 1.x: POST /write?db=&precision=ns with basic authentication; a line protocol body) and answers
// with the status the test sets.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	status  int
	paths   []string
	query   []string
	auth    []string
	bodies  []string
	created []string
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{status: 204}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if r.URL.Path == "/query" && r.Method == http.MethodPost {
			// The v1 form's CREATE DATABASE, with the user and password as basic auth.
			u, p, _ := r.BasicAuth()
			rec.created = append(rec.created, r.FormValue("q")+" as "+u+":"+p)
			_, _ = w.Write([]byte(`{"results":[{"statement_id":0}]}`))
			return
		}
		if (r.URL.Path != "/api/v2/write" && r.URL.Path != "/write") || r.Method != http.MethodPost {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		rec.paths = append(rec.paths, r.URL.Path)
		rec.query = append(rec.query, r.URL.RawQuery)
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.bodies = append(rec.bodies, string(b))
		if rec.status == 429 {
			w.Header().Set("Retry-After", "9")
		}
		if rec.status >= 300 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.status)
			if r.URL.Path == "/write" {
				fmt.Fprintf(w, `{"error":"refused, got %s"}`, r.Header.Get("Authorization"))
			} else {
				fmt.Fprintf(w, `{"code":"invalid","message":"refused, got %s"}`, r.Header.Get("Authorization"))
			}
			return
		}
		w.WriteHeader(rec.status)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func TestInfluxDB2FormRequest(t *testing.T) {
	rec := newRecorder(t)
	s := build(t, "influxdb:"+rec.URL+"?org=platform&bucket=k8s-events&token=tok-123")
	require.NoError(t, s.Export(context.Background(), batch(0, 3)))
	require.Len(t, rec.bodies, 1, "one request per batch")
	assert.Equal(t, "Token tok-123", rec.auth[0])
	assert.Contains(t, rec.query[0], "org=platform")
	assert.Contains(t, rec.query[0], "bucket=k8s-events")
	assert.Contains(t, rec.query[0], "precision=ns")
	lines := strings.Split(strings.TrimSpace(rec.bodies[0]), "\n")
	assert.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], `log/events,cluster_name=prod-eu,hostname=node-7,pod_id=pod-00000,pod_name=web-0,uid=ev-00000 value="{\n \"metadata\": {`), lines[0])
}

func TestKubeEventerURLWithTrailingSlash(t *testing.T) {
	rec := newRecorder(t)
	// kube-eventer's docs write influxdb:http://monitoring-influxdb:80/
	s := build(t, "influxdb:"+rec.URL+"/?db=k8s")
	require.NoError(t, s.Export(context.Background(), batch(0, 1)))
	assert.Equal(t, []string{`CREATE DATABASE "k8s" WITH NAME "default" as root:root`}, rec.created, "kube-eventer's statement and default user")
	require.Len(t, rec.bodies, 1)
	assert.Equal(t, "/write", rec.paths[0])
	assert.Equal(t, "db=k8s&precision=ns", rec.query[0])
}

func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		wait      time.Duration
	}{{400, true, 0}, {401, false, 0}, {403, false, 0}, {404, true, 0}, {413, true, 0}, {429, false, 9 * time.Second}, {500, false, 0}, {503, false, 0}} {
		for _, form := range []string{"?org=o&bucket=b&token=secret-tok-9", "?user=u&pw=secret-tok-9"} {
			t.Run(fmt.Sprint(tc.status, form), func(t *testing.T) {
				rec := newRecorder(t)
				rec.status = tc.status
				s := build(t, "influxdb:"+rec.URL+form)
				err := s.Export(context.Background(), batch(0, 1))
				require.Error(t, err)
				assert.Equal(t, tc.permanent, core.IsPermanent(err), "%v", err)
				// 401 and 403 refuse the credential: retried until it is fixed, never dropped.
				assert.Equal(t, tc.status == 401 || tc.status == 403, core.IsCredential(err), "%v", err)
				assert.Contains(t, err.Error(), "influxdb#1")
				assert.NotContains(t, err.Error(), "secret-tok-9")
				if tc.wait > 0 {
					var ra interface{ RetryAfter() time.Duration }
					require.ErrorAs(t, err, &ra)
					assert.Equal(t, tc.wait, ra.RetryAfter())
				}
			})
		}
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	rec := newRecorder(t)
	url := rec.URL
	rec.Close()
	s := build(t, "influxdb:"+url+"?org=o&bucket=b&token=t")
	err := s.Export(context.Background(), batch(0, 1))
	require.Error(t, err)
	assert.False(t, core.IsPermanent(err), "%v", err)
}

func TestNoSecretLeaks(t *testing.T) {
	rec := newRecorder(t)
	rec.status = 401
	const pw = "pw-Yx71-secret"
	for _, raw := range []string{
		"influxdb:" + rec.URL + "?user=herald&pw=" + pw,
		"influxdb:" + rec.URL + "?org=o&bucket=b&token=" + pw,
	} {
		b, err := sinks.Build(1, raw, sinks.Env{})
		require.NoError(t, err)
		defer b.Sink.Close()
		assert.NotContains(t, b.Redacted, pw)
		err = b.Sink.Export(context.Background(), batch(0, 1))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), pw)
		preview, err := b.Sink.(sinks.Previewer).Preview(event(1, 1, "x"))
		require.NoError(t, err)
		assert.NotContains(t, preview, pw)
	}
	assert.Contains(t, rec.auth, "Basic "+base64.StdEncoding.EncodeToString([]byte("herald:"+pw)), "the v1 form sends user and pw as basic authentication")
	assert.Equal(t, []string{`CREATE DATABASE "k8s" WITH NAME "default" as herald:` + pw}, rec.created)
}

func TestConfigErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"influxdb:http://i:8086?org=o&token=t":           "org/token given without bucket",
		"influxdb:http://i:8086?org=o&bucket=b&db=k8s":   "both forms given",
		"influxdb:http://i:8086?bucket=k8s/x&db=k8s":     "not both",
		"influxdb:ftp://i:8086":                          "not an http(s) URL",
		"influxdb:http://i:8086?cacert=/nonexistent.pem": `parameter "ca_file" (or "cacert")`,
		"influxdb:http://i:8086?measurement=":            "measurement",
		"influxdb:http://i:8086?concurrency=0":           `parameter "concurrency"`,
		"influxdb:http://i:8086?withfields=maybe":        `parameter "withfields"`,
		"influxdb:http://i:8086?layout=flat":             `parameter "layout"`,
	} {
		_, err := sinks.Build(1, raw, sinks.Env{})
		if assert.Error(t, err, raw) {
			assert.Contains(t, err.Error(), want, raw)
			assert.Contains(t, err.Error(), "--sink #1 (influxdb)", raw)
		}
	}
}

func TestInfluxDB18BucketWithoutTokenCreatesThatDatabase(t *testing.T) {
	srv := influxdb.ForTest(t)
	ctx := context.Background()
	s := build(t, "influxdb:"+srv.URL+"?bucket=other/autogen&layout=herald")
	require.NoError(t, s.Export(ctx, batch(0, 3)))
	res, err := srv.Query(ctx, "other", `SELECT count("message") FROM "autogen"."kube_event"`)
	require.NoError(t, err)
	require.Len(t, res.Values, 1)
	assert.Equal(t, json.Number("3"), res.Values[0][1])
}

// The InfluxDB 2 form (a token) also reaches InfluxDB 1.8 through its /api/v2/write, with
// bucket=DB/RP and the token user:password.
func TestInfluxDB18ThroughTheV2Path(t *testing.T) {
	srv := influxdb.ForTest(t)
	ctx := context.Background()
	require.NoError(t, srv.CreateDatabase(ctx, "k8s"))
	s := build(t, "influxdb:"+srv.URL+"?bucket=k8s/autogen&token=u:p&withfields=true")
	require.NoError(t, s.Export(ctx, batch(0, 2)))
	res, err := srv.Query(ctx, "k8s", `SELECT count("message") FROM "autogen"."events"`)
	require.NoError(t, err)
	require.Len(t, res.Values, 1)
	assert.Equal(t, json.Number("2"), res.Values[0][1])
}
