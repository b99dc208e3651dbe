package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// bulkLine is one action of a _bulk request as Elasticsearch reads it.
type bulkLine struct {
	Op    string
	Index string
	ID    string
	Doc   map[string]any
}

// fakeES is an httptest server that speaks the part of Elasticsearch's REST API the sink uses:
// it decodes each _bulk body as NDJSON (action line, document line), checks the content type,
// and answers per item with the status reply() chooses; it records index template bodies.
type fakeES struct {
	*httptest.Server
	mu        sync.Mutex
	bulks     [][]bulkLine
	queries   []string
	templates map[string]map[string]any
	auth      []string
	reply     func(i int, l bulkLine) (int, string) // status and error type per item
}

func newFakeES(t *testing.T) *fakeES {
	f := &fakeES{templates: map[string]map[string]any{}}
	f.reply = func(int, bulkLine) (int, string) { return 201, "" }
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		f.mu.Lock()
		defer f.mu.Unlock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_index_template/"):
			var tmpl map[string]any
			if err := json.Unmarshal(body, &tmpl); err != nil {
				http.Error(w, `{"error":{"type":"parse_exception","reason":"bad json"}}`, 400)
				return
			}
			f.templates[strings.TrimPrefix(r.URL.Path, "/_index_template/")] = tmpl
			_, _ = w.Write([]byte(`{"acknowledged":true}`))
		case r.Method == http.MethodPost && r.URL.Path == "/_bulk":
			if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
				t.Errorf("_bulk content type %q", ct)
			}
			lines, err := parseBulk(body)
			if err != nil {
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":%q}}`, err.Error())
				return
			}
			f.bulks = append(f.bulks, lines)
			f.queries = append(f.queries, r.URL.RawQuery)
			var items []map[string]any
			errs := false
			for i, l := range lines {
				status, etype := f.reply(i, l)
				item := map[string]any{"_index": l.Index, "_id": l.ID, "status": status}
				if etype != "" {
					errs = true
					item["error"] = map[string]any{"type": etype, "reason": "reason for " + l.ID}
				}
				items = append(items, map[string]any{l.Op: item})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": errs, "items": items})
		default:
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"error":{"type":"no_handler","reason":"%s %s"}}`, r.Method, r.URL.Path)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// parseBulk reads NDJSON pairs; every action needs _index, and the body must end with a newline.
func parseBulk(body []byte) ([]bulkLine, error) {
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, errors.New("the bulk request must be terminated by a newline")
	}
	var out []bulkLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			return nil, fmt.Errorf("malformed action line %q", sc.Text())
		}
		var l bulkLine
		for op, meta := range action {
			l = bulkLine{Op: op, Index: meta.Index, ID: meta.ID}
		}
		if l.Index == "" {
			return nil, errors.New("index is missing")
		}
		if !sc.Scan() {
			return nil, errors.New("action without document")
		}
		if err := json.Unmarshal(sc.Bytes(), &l.Doc); err != nil {
			return nil, fmt.Errorf("malformed document: %v", err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

func (f *fakeES) lastBulk() []bulkLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bulks) == 0 {
		return nil
	}
	return f.bulks[len(f.bulks)-1]
}

func TestDataStreamUsesCreateAndTreatsConflictAsWritten(t *testing.T) {
	f := newFakeES(t)
	s := build(t, "elasticsearch:"+f.URL+"?index=logs-k8s-events&data_stream=true&pipeline=k8s-enrich")
	f.reply = func(i int, l bulkLine) (int, string) {
		if i == 1 {
			return 409, "version_conflict_engine_exception" // written by an earlier attempt
		}
		return 201, ""
	}
	require.NoError(t, s.Export(context.Background(), batch(0, 3)))
	lines := f.lastBulk()
	require.Len(t, lines, 3)
	for i, l := range lines {
		assert.Equal(t, "create", l.Op)
		assert.Equal(t, "logs-k8s-events", l.Index)
		assert.Equal(t, fmt.Sprintf("ev-%05d-1", i), l.ID)
		assert.NotEmpty(t, l.Doc["@timestamp"], "a data stream needs @timestamp")
	}
	assert.Equal(t, "pipeline=k8s-enrich", f.queries[0])
}

func TestPerItemErrors(t *testing.T) {
	f := newFakeES(t)
	s := build(t, "elasticsearch:"+f.URL+"?index=ev-%25Y")
	evs := batch(0, 6)
	f.reply = func(i int, l bulkLine) (int, string) {
		switch i {
		case 1:
			return 400, "mapper_parsing_exception"
		case 2:
			return 429, "es_rejected_execution_exception"
		case 4:
			return 503, "unavailable_shards_exception"
		}
		return 201, ""
	}
	err := s.Export(context.Background(), evs)
	var partial *core.PartialError
	require.ErrorAs(t, err, &partial)
	retry, retryErr, rejected, rejectErr := core.Fates(err, evs)
	assert.Equal(t, []*core.Event{evs[2], evs[4]}, retry)
	assert.Equal(t, []*core.Event{evs[1]}, rejected, "a mapping error is refused for good, at once")
	assert.False(t, core.IsPermanent(retryErr), "429 and 503 are retried: %v", err)
	assert.Contains(t, retryErr.Error(), "es_rejected_execution_exception")
	assert.Contains(t, rejectErr.Error(), "mapper_parsing_exception")

	// The retry sends only what may succeed.
	f.reply = func(int, bulkLine) (int, string) { return 200, "" }
	require.NoError(t, s.Export(context.Background(), retry))
	assert.Len(t, f.lastBulk(), 2, "only the retried documents are sent again")

	// Everything refused: the error itself, permanent, not a partial one.
	f.reply = func(int, bulkLine) (int, string) { return 400, "mapper_parsing_exception" }
	err = s.Export(context.Background(), evs[:2])
	assert.True(t, core.IsPermanent(err))
	assert.False(t, errors.As(err, &partial))
}

func TestRequestLevelStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{400, true}, {401, false}, {403, false}, {404, true}, {413, true}, {408, false}, {429, false}, {500, false}, {502, false}, {503, false}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"error":{"type":"some_exception","reason":"because"},"status":` + fmt.Sprint(tc.status) + `}`))
			}))
			defer srv.Close()
			s := build(t, "elasticsearch:"+srv.URL)
			err := s.Export(context.Background(), batch(0, 2))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, core.IsPermanent(err), "%v", err)
			// 401 and 403 refuse the credential: retried until it is fixed, never dropped.
			assert.Equal(t, tc.status == 401 || tc.status == 403, core.IsCredential(err), "%v", err)
			assert.Contains(t, err.Error(), "elasticsearch#1")
			assert.Contains(t, err.Error(), "some_exception: because")
		})
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := build(t, "elasticsearch:"+url)
	err := s.Export(context.Background(), batch(0, 1))
	require.Error(t, err)
	assert.False(t, core.IsPermanent(err), "%v", err)
}

func TestTemplateInstalledOnceWithMappings(t *testing.T) {
	f := newFakeES(t)
	s := build(t, "elasticsearch:"+f.URL+"?index=kube-events-%25Y.%25m.%25d&template=true")
	require.NoError(t, s.Export(context.Background(), batch(0, 2)))
	require.NoError(t, s.Export(context.Background(), batch(2, 2)))
	require.Len(t, f.templates, 1)
	tmpl := f.templates["kube-events"]
	require.NotNil(t, tmpl, "template named after the index prefix: %v", f.templates)
	assert.Equal(t, []any{"kube-events-*"}, tmpl["index_patterns"])
	props := tmpl["template"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
	typeOf := func(path ...string) any {
		m := props
		for _, p := range path[:len(path)-1] {
			m = m[p].(map[string]any)["properties"].(map[string]any)
		}
		return m[path[len(path)-1]].(map[string]any)["type"]
	}
	assert.Equal(t, "keyword", typeOf("InvolvedObject", "namespace"))
	assert.Equal(t, "keyword", typeOf("InvolvedObject", "kind"))
	assert.Equal(t, "keyword", typeOf("Reason"))
	assert.Equal(t, "keyword", typeOf("Type"))
	assert.Equal(t, "text", typeOf("Message"))
	assert.Equal(t, "date", typeOf("@timestamp"))
	assert.Equal(t, "date", typeOf("LastOccurrenceTimestamp"))
	assert.Equal(t, "date", typeOf("created_at"))
	assert.Contains(t, tmpl["template"].(map[string]any)["aliases"], "kube-events-events")
	assert.Nil(t, tmpl["data_stream"])

	f2 := newFakeES(t)
	ds := build(t, "elasticsearch:"+f2.URL+"?index=logs-k8s&data_stream=true&template=true&template_name=herald")
	require.NoError(t, ds.Export(context.Background(), batch(0, 1)))
	require.Contains(t, f2.templates, "herald")
	assert.Equal(t, map[string]any{}, f2.templates["herald"]["data_stream"])
	assert.Equal(t, []any{"logs-k8s"}, f2.templates["herald"]["index_patterns"])
}

func TestUseNamespaceAndNodes(t *testing.T) {
	f := newFakeES(t)
	s := build(t, "elasticsearch:?nodes="+f.URL+"&use_namespace=true")
	node := event(1, 1, "node event")
	node.Namespace = ""
	require.NoError(t, s.Export(context.Background(), []*core.Event{event(0, 1, "x"), node}))
	lines := f.lastBulk()
	require.Len(t, lines, 2)
	assert.Equal(t, "heapster-prod-2026.11.23", lines[0].Index)
	assert.Equal(t, "heapster-2026.11.23", lines[1].Index)
}

func TestAuthHeaders(t *testing.T) {
	f := newFakeES(t)
	s := build(t, "elasticsearch:"+f.URL+"?esUserName=herald&esUserSecret=s3cret")
	require.NoError(t, s.Export(context.Background(), batch(0, 1)))
	f2 := newFakeES(t)
	s2 := build(t, "elasticsearch:"+f2.URL+"?api_key=a2V5aWQ6c2VjcmV0")
	require.NoError(t, s2.Export(context.Background(), batch(0, 1)))
	assert.Equal(t, "Basic aGVyYWxkOnMzY3JldA==", f.auth[0])
	// Elasticsearch reads the scheme name case-insensitively; the client writes "APIKey".
	scheme, key, _ := strings.Cut(f2.auth[0], " ")
	assert.True(t, strings.EqualFold("ApiKey", scheme), f2.auth[0])
	assert.Equal(t, "a2V5aWQ6c2VjcmV0", key)
}

func TestNoSecretLeaks(t *testing.T) {
	const password, apiKey = "pw-Zq81-secret", "QVBJS0VZLXNlY3JldC0xMjM="
	// A server that echoes the credentials it got back in its error (some proxies do).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"bad credentials %s for %s"}}`, r.Header.Get("Authorization"), r.URL.String())
	}))
	defer srv.Close()
	for _, raw := range []string{
		"elasticsearch:" + srv.URL + "?esUserName=herald&esUserSecret=" + password,
		"elasticsearch:" + srv.URL + "?api_key=" + apiKey,
	} {
		b, err := sinks.Build(1, raw, sinks.Env{})
		require.NoError(t, err)
		defer b.Sink.Close()
		assert.NotContains(t, b.Redacted, password)
		assert.NotContains(t, b.Redacted, apiKey)
		err = b.Sink.Export(context.Background(), batch(0, 1))
		require.Error(t, err)
		assert.True(t, core.IsCredential(err))
		for _, secret := range []string{password, apiKey, "aGVyYWxkOnB3LVpxODEtc2VjcmV0"} {
			assert.NotContains(t, err.Error(), secret)
		}
		preview, err := b.Sink.(sinks.Previewer).Preview(event(1, 1, "x"))
		require.NoError(t, err)
		assert.NotContains(t, preview, password)
		assert.NotContains(t, preview, apiKey)
	}
	// A bad parameter's error does not print the secret either.
	_, err := sinks.Build(1, "elasticsearch:http://127.0.0.1:9?ver=x&esUserSecret="+password, sinks.Env{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), password)
}

func TestConfigErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"elasticsearch:":                                             "no Elasticsearch node given",
		"elasticsearch:http://es:9200?ver=3":                         `"3" is not an Elasticsearch major version`,
		"elasticsearch:http://es:9200?aws_region=eu-west-1":          "given without sigv4",
		"elasticsearch:http://es:9200?index=Kube-%25Y":               "upper case",
		"elasticsearch:http://es:9200?index=k-%25Y-%25j":             "pattern other than",
		"elasticsearch:http://es:9200?index=k-%25Y&data_stream=true": "date pattern",
		"elasticsearch:http://es:9200?cacert=/nonexistent/ca.pem":    `parameter "ca_file" (or "cacert")`,
		"elasticsearch:ftp://es:9200":                                "not an http(s) URL",
	} {
		_, err := sinks.Build(1, raw, sinks.Env{})
		if assert.Error(t, err, raw) {
			assert.Contains(t, err.Error(), want, raw)
			assert.Contains(t, err.Error(), "--sink #1 (elasticsearch)", raw)
		}
	}
}

// kube-eventer's readings that herald follows, with a warning each.
func TestKubeEventerReadingsWarn(t *testing.T) {
	for raw, want := range map[string]string{
		"elasticsearch:http://es:9200?esUserName=u":                     "given without esUserSecret",
		"elasticsearch:http://es:9200?use_namespace=false":              `"false" too`,
		"elasticsearch:https://https://es:9200/":                        "repeats its scheme",
		"elasticsearch:http://es:9200/?nodes=http://es-1:9200":          "overrides the URL",
		"elasticsearch:http://es:9200?sigv4=false&aws_region=eu-west-1": `"false" too`,
	} {
		b, err := sinks.Build(1, raw, sinks.Env{})
		require.NoError(t, err, raw)
		_ = b.Sink.Close()
		assert.Contains(t, strings.Join(b.Warnings, "\n"), want, raw)
	}
	// ver= is kept for a cluster that does not say its version.
	s := build(t, "elasticsearch:http://es:9200?ver=6&sniff=false")
	assert.Equal(t, 6, s.cfg.Ver)
	// https://https://host/ is repaired to the host kube-eventer meant.
	s = build(t, "elasticsearch:https://https://es.example:9200/")
	assert.Equal(t, []string{"https://es.example:9200/"}, s.cfg.Addresses)
}

func TestPreviewShowsBulkLines(t *testing.T) {
	s := build(t, "elasticsearch:http://es.logging:9200?index=kube-%25Y.%25m&pipeline=p1")
	out, err := s.Preview(event(1, 2, "hello"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "POST http://es.logging:9200/_bulk?pipeline=p1", lines[0])
	parsed, err := parseBulk([]byte(lines[1] + "\n" + lines[2] + "\n"))
	require.NoError(t, err)
	assert.Equal(t, "kube-2026.11", parsed[0].Index)
	assert.Equal(t, "ev-00001-2", parsed[0].ID)
	assert.Equal(t, "hello", parsed[0].Doc["Message"])
}

func TestExpandIndex(t *testing.T) {
	tm := t0.Add(5 * 24 * 3600e9)
	assert.Equal(t, "a-2026.11.28", expandIndex("a-%Y.%m.%d", "", tm))
	assert.Equal(t, "a-kube-system-2026.11.28", expandIndex("a-%Y.%m.%d", "kube-system", tm))
	assert.Equal(t, "x2026-11-28T18%", expandIndex("x%Y-%m-%dT%H%%", "", tm))
}
