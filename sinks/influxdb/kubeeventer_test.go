package influxdb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/test/influxdb"
)

// influx17 stands in front of the real InfluxDB 1.8.10 and answers as a release before 1.8
// does: /api/v2/* does not exist (404), every reply says X-Influxdb-Version 1.7.10, and every
// other request goes through. It records the paths herald asked for.
type influx17 struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newInflux17(t *testing.T, target string) *influx17 {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("X-Influxdb-Version", "1.7.10")
		return nil
	}
	p := &influx17{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			w.Header().Set("X-Influxdb-Version", "1.7.10")
			http.NotFound(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *influx17) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}

func tagKeys(t *testing.T, srv *influxdb.Server, db, measurement string) []string {
	t.Helper()
	res, err := srv.Query(context.Background(), db, fmt.Sprintf("SHOW TAG KEYS FROM %q", measurement))
	require.NoError(t, err)
	var out []string
	for _, v := range res.Values {
		out = append(out, fmt.Sprint(v[0]))
	}
	sort.Strings(out)
	return out
}

func fieldKeys(t *testing.T, srv *influxdb.Server, db, measurement string) []string {
	t.Helper()
	res, err := srv.Query(context.Background(), db, fmt.Sprintf("SHOW FIELD KEYS FROM %q", measurement))
	require.NoError(t, err)
	var out []string
	for _, v := range res.Values {
		out = append(out, fmt.Sprint(v[0]))
	}
	sort.Strings(out)
	return out
}

// kube-eventer's --sink=influxdb:http://HOST:8086 (no parameters) against an InfluxDB before 1.8:
// herald writes through /write, creates the database as kube-eventer did, and the points are
// kube-eventer's: measurement log/events, its tags, the event as indented JSON in field value.
func TestKubeEventerLayoutOnInfluxDBBefore18(t *testing.T) {
	srv := influxdb.ForTest(t)
	old := newInflux17(t, srv.URL)
	ctx := context.Background()
	b, err := sinks.Build(1, "influxdb:"+old.URL+"/", sinks.Env{})
	require.NoError(t, err)
	defer b.Sink.Close()
	assert.Empty(t, b.Warnings)
	s := b.Sink.(*Sink)

	pod := event(1, 3, "Back-off \"app\" 容器")
	node := event(2, 1, "NodeNotReady")
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-7", UID: "node-uid"}
	node.Namespace = "default"
	require.NoError(t, s.Export(ctx, []*core.Event{pod, node}))

	for _, r := range old.requests() {
		assert.False(t, strings.HasPrefix(r, "POST /api/v2/"), "asked a pre-1.8 server for %s", r)
	}
	assert.Contains(t, old.requests(), "POST /write")
	assert.Contains(t, old.requests(), "POST /query")

	// The database as kube-eventer created it: default retention policy "default".
	rps, err := srv.Query(ctx, "k8s", `SHOW RETENTION POLICIES ON "k8s"`)
	require.NoError(t, err)
	var defaultRP string
	for _, row := range rps.Rows() {
		if row["default"] == true {
			defaultRP = fmt.Sprint(row["name"])
		}
	}
	assert.Equal(t, "default", defaultRP)

	assert.Equal(t, []string{"cluster_name", "hostname", "pod_id", "pod_name", "uid"}, tagKeys(t, srv, "k8s", "log/events"))
	assert.Equal(t, []string{"value"}, fieldKeys(t, srv, "k8s", "log/events"))
	res, err := srv.Query(ctx, "k8s", `SELECT * FROM "log/events" ORDER BY time`)
	require.NoError(t, err)
	rows := res.Rows()
	require.Len(t, rows, 2)
	byUID := map[string]map[string]any{}
	for _, r := range rows {
		byUID[fmt.Sprint(r["uid"])] = r
	}
	p := byUID["ev-00001"]
	require.NotNil(t, p)
	assert.Equal(t, "pod-00001", p["pod_id"])
	assert.Equal(t, "web-1", p["pod_name"])
	assert.Equal(t, "node-7", p["hostname"])
	assert.Equal(t, "default", p["cluster_name"], "kube-eventer's default cluster_name")
	assert.Equal(t, json.Number(fmt.Sprint(pod.LastTimestamp.UnixNano())), p["time"])
	want, err := json.MarshalIndent(pod.Event, "", " ")
	require.NoError(t, err)
	assert.Equal(t, string(want), p["value"], "the event as kube-eventer's MarshalIndent(event, \"\", \" \")")
	n := byUID["ev-00002"]
	require.NotNil(t, n)
	assert.Nil(t, n["pod_id"], "pod tags only for pods")
	assert.Nil(t, n["pod_name"])
}

// withfields=true: kube-eventer's measurement events, its tags (namespace_name, object_name,
// ...) and the message as a field; on a server with authentication on, with kube-eventer's
// default user root/root.
func TestKubeEventerWithFieldsAndDefaultRootUser(t *testing.T) {
	srv := influxdb.ForTestWithAdmin(t, "root", "root")
	ctx := context.Background()
	s := build(t, "influxdb:"+srv.URL+"?withfields=true&db=kube&cluster_name=c1")
	require.NoError(t, s.Export(ctx, batch(0, 3)))
	assert.Equal(t, []string{"cluster_name", "component", "hostname", "kind", "namespace_name", "object_name", "pod_id", "reason", "type", "uid"},
		tagKeys(t, srv, "kube", "events"))
	assert.Equal(t, []string{"message"}, fieldKeys(t, srv, "kube", "events"))
	res, err := srv.Query(ctx, "kube", `SELECT * FROM "events" WHERE "uid" = 'ev-00001'`)
	require.NoError(t, err)
	rows := res.Rows()
	require.Len(t, rows, 1)
	r := rows[0]
	assert.Equal(t, "prod", r["namespace_name"])
	assert.Equal(t, "web-1", r["object_name"])
	assert.Equal(t, "Pod", r["kind"])
	assert.Equal(t, "BackOff", r["reason"])
	assert.Equal(t, "Warning", r["type"])
	assert.Equal(t, "kubelet", r["component"])
	assert.Equal(t, "c1", r["cluster_name"])
	assert.Equal(t, "Back-off restarting failed container 1, \"quoted\" \n line", r["message"], "quotes and newlines intact")

	// A wrong password: a credential outage (retried until fixed, never dropped), named, with
	// the fix, and never shown.
	wrong := build(t, "influxdb:"+srv.URL+"?withfields=true&db=kube&user=root&pw=Not-Root-9x")
	err = wrong.Export(ctx, batch(5, 1))
	require.Error(t, err)
	assert.True(t, core.IsCredential(err), "%v", err)
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.Contains(t, core.CredentialFix(err), "check user and pw")
	assert.NotContains(t, err.Error(), "Not-Root-9x")
}

// kube-eventer's parameters are read as its code reads them; what it ignored is ignored with a
// warning, never refused.
func TestKubeEventerParameters(t *testing.T) {
	cases := []struct {
		value string
		check func(t *testing.T, c *Config)
		warn  []string
	}{
		{"influxdb:http://i:8086", func(t *testing.T, c *Config) {
			assert.Equal(t, "root", c.User)
			assert.Equal(t, "root", c.Password)
			assert.Equal(t, "k8s", c.DB)
			assert.Equal(t, "", c.RP)
			assert.Equal(t, "log/events", c.Measurement)
			assert.Equal(t, LayoutKubeEventer, c.Layout)
			assert.Equal(t, "default", c.Cluster)
		}, nil},
		{"influxdb:http://i:8086?withfields=true&disable_counter_metrics=true&concurrency=4&insecuressl=false", func(t *testing.T, c *Config) {
			assert.Equal(t, "events", c.Measurement)
		}, nil},
		{"influxdb:http://i:8086?retention=7d", func(t *testing.T, c *Config) { assert.Equal(t, "", c.RP) },
			[]string{`parameter "retention": "7d" is a duration; kube-eventer read it and wrote to its policy "default"`}},
		{"influxdb:http://i:8086?retention=0", func(t *testing.T, c *Config) { assert.Equal(t, "", c.RP) },
			[]string{`parameter "retention": "0" is a duration`}},
		{"influxdb:http://i:8086?retention=week", func(t *testing.T, c *Config) { assert.Equal(t, "week", c.RP) },
			[]string{`parameter "retention": kube-eventer read it but always wrote to its retention policy "default"; herald writes to the policy named "week"`}},
		{"influxdb:http://i:8086?secure=true", func(t *testing.T, c *Config) { assert.Equal(t, "http://i:8086", c.ServerURL) },
			[]string{`parameter "secure": kube-eventer ignored it and used the URL's scheme (http)`}},
		{"influxdb:https://i:8086?secure=true", nil, nil},
		{"influxdb:http://i:8086?layout=herald", func(t *testing.T, c *Config) {
			assert.Equal(t, "kube_event", c.Measurement)
			assert.False(t, c.ValueField)
		}, nil},
	}
	for _, tc := range cases {
		b, err := sinks.Build(1, tc.value, sinks.Env{CheckOnly: true})
		require.NoError(t, err, tc.value)
		if tc.check != nil {
			tc.check(t, b.Sink.(*Sink).cfg)
		}
		require.Len(t, b.Warnings, len(tc.warn), "%s: %q", tc.value, b.Warnings)
		for i, w := range tc.warn {
			assert.Contains(t, b.Warnings[i], w)
		}
		_ = b.Sink.Close()
	}
}
