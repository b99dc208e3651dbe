package elasticsearch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/test/zincsearch"
)

// These tests write to ZincSearch, an Elasticsearch-compatible server (no Elasticsearch can be
// fetched here): _bulk with index actions and _id, _search. Elasticsearch-only features (data
// streams, ingest pipelines, composable templates) are covered at the request level in
// elasticsearch_test.go.

func zincURI(srv *zincsearch.Server, params string) string {
	return "elasticsearch:" + srv.ESURL() + "?esUserName=" + zincsearch.User + "&esUserSecret=" + url.QueryEscape(zincsearch.Password) + params
}

// searchAll returns every document in the indices matching pattern, sorted by _id, waiting
// for at least want of them and then for two reads in a row to agree (the server makes writes
// searchable asynchronously, so a duplicate could otherwise arrive after the count was read).
func searchAll(t *testing.T, srv *zincsearch.Server, pattern string, want int) []zincsearch.Hit {
	t.Helper()
	ctx := context.Background()
	var hits []zincsearch.Hit
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for {
		prev := len(hits)
		hits, err = srv.Search(ctx, pattern, map[string]any{"match_all": map[string]any{}}, 1000)
		if err == nil && len(hits) >= want && len(hits) == prev || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err)
	sort.Slice(hits, func(i, j int) bool { return hits[i].ID < hits[j].ID })
	return hits
}

func TestZincWritesSearchesAndReplaysWithoutDuplicates(t *testing.T) {
	srv := zincsearch.ForTest(t)
	s := build(t, zincURI(srv, "&index=kube-events-%25Y.%25m.%25d&cluster_name=prod-eu"))

	evs := batch(0, 20)
	// Half of the events happened the next day: they go to the next daily index.
	for i := 10; i < 20; i++ {
		evs[i] = event(i, 2, fmt.Sprintf("Back-off restarting failed container %d", i))
		evs[i].LastTimestamp.Time = t0.Add(24 * time.Hour)
	}
	require.NoError(t, s.Export(context.Background(), evs))

	hits := searchAll(t, srv, "kube-events-*", 20)
	require.Len(t, hits, 20)
	byIndex := map[string]int{}
	for _, h := range hits {
		byIndex[h.Index]++
	}
	assert.Equal(t, map[string]int{"kube-events-2026.11.23": 10, "kube-events-2026.11.24": 10}, byIndex)

	h := hits[0]
	assert.Equal(t, "ev-00000-1", h.ID)
	src := h.Source
	assert.Equal(t, "BackOff", src["Reason"])
	assert.Equal(t, "Warning", src["Type"])
	assert.Equal(t, "Back-off restarting failed container 0", src["Message"])
	assert.EqualValues(t, 1, src["Count"])
	io, ok := src["InvolvedObject"].(map[string]any)
	require.True(t, ok, "InvolvedObject is an object: %v", src)
	assert.Equal(t, "prod", io["namespace"])
	assert.Equal(t, "Pod", io["kind"])
	assert.Equal(t, "web-0", io["name"])
	tags, ok := src["EventTags"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "prod-eu", tags["cluster_name"])
	assert.Equal(t, "ev-00000", tags["eventID"])
	assert.Equal(t, "web-0", tags["pod_name"])
	assert.Equal(t, "node-7", tags["hostname"])
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(src["@timestamp"]))
	require.NoError(t, err)
	assert.True(t, ts.Equal(t0.Add(time.Minute)), "@timestamp %v", ts)

	// A replay (the pipeline retrying after a lost reply) overwrites the same documents.
	require.NoError(t, s.Export(context.Background(), evs))
	// A count bump of one event is a new document.
	require.NoError(t, s.Export(context.Background(), []*core.Event{event(3, 5, "again")}))
	hits = searchAll(t, srv, "kube-events-*", 21)
	assert.Len(t, hits, 21)
	ids := map[string]int{}
	for _, h := range hits {
		ids[h.ID]++
	}
	for id, n := range ids {
		assert.Equal(t, 1, n, "document %s stored %d times", id, n)
	}
	assert.Equal(t, 1, ids["ev-00003-5"])
}

func TestZincKubeEventerDefaultIndexAndRestartDocuments(t *testing.T) {
	srv := zincsearch.ForTest(t)
	s := build(t, zincURI(srv, ""))
	r := restartEvent()
	require.NoError(t, s.Export(context.Background(), []*core.Event{event(1, 1, "plain"), r}))

	hits := searchAll(t, srv, "heapster-*", 2)
	require.Len(t, hits, 2)
	for _, h := range hits {
		assert.Equal(t, "heapster-2026.11.23", h.Index)
	}
	var doc map[string]any
	for _, h := range hits {
		if h.ID == "restart-uid-r4" {
			doc = h.Source
		}
	}
	require.NotNil(t, doc, "restart document by id restart-uid-r4 in %v", hits)
	assert.Equal(t, "prod", doc["namespace"])
	assert.Equal(t, "api-7d9f", doc["pod_name"])
	assert.Equal(t, "app", doc["container_name"])
	assert.Equal(t, "prod-eu", doc["cluster_name"])
	assert.EqualValues(t, t0.Add(3*time.Minute).UnixMilli(), doc["created_at"])
	assert.EqualValues(t, 4, doc["restart_count"])
	assert.Equal(t, "OOMKilled", doc["termination_state"])
	assert.Equal(t, "panic: out of memory\n", doc["logs"])
}

func TestZincInstallsIndexTemplate(t *testing.T) {
	srv := zincsearch.ForTest(t)
	s := build(t, zincURI(srv, "&index=tp-%25Y.%25m&template=true"))
	require.NoError(t, s.Export(context.Background(), batch(0, 2)))
	assert.Len(t, searchAll(t, srv, "tp-*", 2), 2)

	req, err := http.NewRequest(http.MethodGet, srv.ESURL()+"/_index_template/tp", nil)
	require.NoError(t, err)
	req.SetBasicAuth(zincsearch.User, zincsearch.Password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), "tp-*")
}
