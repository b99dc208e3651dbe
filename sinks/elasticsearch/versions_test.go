package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/test/zincsearch"
)

// persona is how one product answers the parts of the API herald touches, as documented by
// that product: GET / (version, distribution, the X-Elastic-Product header only from 7.14),
// _type in bulk actions (required by 6, refused by OpenSearch 2 and Elasticsearch 8), which
// template API exists (_index_template from 7.8).
type persona struct {
	name         string
	number       string
	distribution string
	productHdr   bool // X-Elastic-Product: Elasticsearch (7.14 and later)
	needType     bool // every bulk action must carry _type (6.x)
	refuseType   bool // a bulk action with _type is refused (OpenSearch 2, Elasticsearch 8)
	composable   bool // has _index_template
	forbidRoot   bool // GET / answers 403 (a user without the monitor privilege)
}

var (
	es68  = persona{name: "Elasticsearch 6.8", number: "6.8.23", needType: true}
	es710 = persona{name: "Elasticsearch 7.10", number: "7.10.2", composable: true}
	os2   = persona{name: "OpenSearch 2", number: "2.11.1", distribution: "opensearch", refuseType: true, composable: true}
	es8   = persona{name: "Elasticsearch 8", number: "8.15.3", productHdr: true, refuseType: true, composable: true}
)

// versionProxy stands in front of ZincSearch and answers as p does; what it accepts it forwards,
// so the documents land in ZincSearch and are read back from there.
type versionProxy struct {
	*httptest.Server
	mu        sync.Mutex
	types     []string // the _type of every bulk action received ("" when none)
	templates []string // "PUT /_template/NAME" or "PUT /_index_template/NAME"
	template  map[string]any
	aliases   []string // the "add" actions of _aliases requests: "INDEX>ALIAS"
}

func newVersionProxy(t *testing.T, zinc *zincsearch.Server, p persona) *versionProxy {
	target, err := url.Parse(zinc.ESURL())
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(r *http.Response) error {
		if !p.productHdr {
			r.Header.Del("X-Elastic-Product") // ZincSearch sends it; these products do not
		}
		return nil
	}
	vp := &versionProxy{}
	fail := func(w http.ResponseWriter, status int, typ, reason string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"type":%q,"reason":%q},"status":%d}`, typ, reason, status)
	}
	vp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		path := strings.TrimSuffix(r.URL.Path, "/")
		switch {
		case r.Method == http.MethodGet && path == "":
			if p.forbidRoot {
				fail(w, 403, "security_exception", "action [cluster:monitor/main] is unauthorized for user [herald]")
				return
			}
			v := map[string]any{"number": p.number, "build_flavor": "default"}
			if p.distribution != "" {
				v = map[string]any{"number": p.number, "distribution": p.distribution}
			}
			if p.productHdr {
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"name": "node-0", "cluster_name": "logs", "version": v, "tagline": "The OpenSearch Project: https://opensearch.org/"})
			return
		case r.Method == http.MethodPost && path == "/_bulk":
			sc := bufio.NewScanner(bytes.NewReader(body))
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			for i := 0; sc.Scan(); i++ {
				if i%2 == 1 {
					continue // the document
				}
				var action map[string]map[string]any
				if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
					fail(w, 400, "illegal_argument_exception", "Malformed action/metadata line")
					return
				}
				for _, meta := range action {
					typ, _ := meta["_type"].(string)
					vp.mu.Lock()
					vp.types = append(vp.types, typ)
					vp.mu.Unlock()
					switch {
					case p.needType && typ == "":
						fail(w, 400, "action_request_validation_exception", "Validation Failed: 1: type is missing;")
						return
					case p.refuseType && typ != "":
						fail(w, 400, "illegal_argument_exception", "Action/metadata line [1] contains an unknown parameter [_type]")
						return
					}
				}
			}
		case r.Method == http.MethodPut && strings.HasPrefix(path, "/_index_template/"):
			if !p.composable {
				fail(w, 400, "illegal_argument_exception", "no handler found for uri ["+path+"] and method [PUT]")
				return
			}
			vp.recordTemplate("PUT /_index_template/", path, body)
		case r.Method == http.MethodPut && strings.HasPrefix(path, "/_template/"):
			// The legacy API: ZincSearch lacks it, so the proxy answers for it.
			vp.recordTemplate("PUT /_template/", path, body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"acknowledged":true}`))
			return
		case r.Method == http.MethodPost && path == "/_aliases":
			var req struct {
				Actions []map[string]map[string]string `json:"actions"`
			}
			_ = json.Unmarshal(body, &req)
			vp.mu.Lock()
			for _, a := range req.Actions {
				if add, ok := a["add"]; ok {
					vp.aliases = append(vp.aliases, add["index"]+">"+add["alias"])
				}
			}
			vp.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(vp.Close)
	return vp
}

func (vp *versionProxy) recordTemplate(api, path string, body []byte) {
	vp.mu.Lock()
	defer vp.mu.Unlock()
	vp.templates = append(vp.templates, api+strings.TrimPrefix(path, api[4:]))
	vp.template = nil
	_ = json.Unmarshal(body, &vp.template)
}

func (vp *versionProxy) snapshot() (types, templates, aliases []string, template map[string]any) {
	vp.mu.Lock()
	defer vp.mu.Unlock()
	return append([]string(nil), vp.types...), append([]string(nil), vp.templates...), append([]string(nil), vp.aliases...), vp.template
}

// Each product gets what it needs, with nothing set but the address and kube-eventer's defaults:
// the documents reach the store behind the proxy, the daily index gets kube-eventer's alias, and
// the index template goes through the API the version has.
func TestEachVersionIsWrittenAsItNeeds(t *testing.T) {
	zinc := zincsearch.ForTest(t)
	for i, p := range []persona{es68, es710, os2, es8} {
		t.Run(p.name, func(t *testing.T) {
			vp := newVersionProxy(t, zinc, p)
			index := fmt.Sprintf("v%d", i)
			s := build(t, "elasticsearch:"+vp.URL+"?sniff=false&index="+index+"&template=true&esUserName="+zincsearch.User+"&esUserSecret="+url.QueryEscape(zincsearch.Password))
			require.NoError(t, s.Export(context.Background(), batch(0, 5)))
			// A second batch reuses what was learnt: one GET /, one template, one alias.
			require.NoError(t, s.Export(context.Background(), batch(5, 3)))

			hits := searchAll(t, zinc, index+"-*", 8)
			require.Len(t, hits, 8)
			assert.Equal(t, index+"-2026.11.23", hits[0].Index)

			types, templates, aliases, tmpl := vp.snapshot()
			require.Len(t, types, 8)
			for _, typ := range types {
				if p.needType {
					assert.Equal(t, TypeName, typ)
				} else {
					assert.Empty(t, typ)
				}
			}
			assert.Equal(t, []string{index + "-2026.11.23>" + index + "-events"}, aliases)
			if p.composable {
				assert.Equal(t, []string{"PUT /_index_template/" + index}, templates)
				assert.Contains(t, tmpl, "template")
			} else {
				assert.Equal(t, []string{"PUT /_template/" + index}, templates)
				assert.Equal(t, []any{index + "-*"}, tmpl["index_patterns"])
				mappings, _ := tmpl["mappings"].(map[string]any)
				assert.Contains(t, mappings, TypeName, "6.x mappings are under the type: %v", tmpl)
			}
		})
	}
}

// A user without the monitor privilege cannot read GET /: ver= is the answer, as in kube-eventer.
func TestVerIsUsedWhenTheClusterDoesNotSay(t *testing.T) {
	zinc := zincsearch.ForTest(t)
	quiet := es68
	quiet.forbidRoot = true
	vp := newVersionProxy(t, zinc, quiet)
	auth := "&esUserName=" + zincsearch.User + "&esUserSecret=" + url.QueryEscape(zincsearch.Password)

	s := build(t, "elasticsearch:"+vp.URL+"?sniff=false&index=quiet&ver=6"+auth)
	require.NoError(t, s.Export(context.Background(), batch(0, 2)))
	assert.Len(t, searchAll(t, zinc, "quiet-*", 2), 2)

	// Without ver=, herald writes as 7 and later; a 6.x cluster refuses that for good, saying why.
	s = build(t, "elasticsearch:"+vp.URL+"?sniff=false&index=quiet2"+auth)
	err := s.Export(context.Background(), batch(0, 1))
	require.Error(t, err)
	assert.True(t, core.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "type is missing")
}

// Data streams need 7.9; on 6.8 the batch is refused for good with the fix.
func TestDataStreamOnAnOldClusterIsRefused(t *testing.T) {
	zinc := zincsearch.ForTest(t)
	vp := newVersionProxy(t, zinc, es68)
	s := build(t, "elasticsearch:"+vp.URL+"?sniff=false&index=logs-k8s&data_stream=true")
	err := s.Export(context.Background(), batch(0, 1))
	require.Error(t, err)
	assert.True(t, core.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "Elasticsearch 6.8.23, which has no data streams")
	assert.Contains(t, err.Error(), "remove data_stream=true")
}

func TestParseServer(t *testing.T) {
	for body, want := range map[string]server{
		`{"version":{"number":"6.8.23"}}`:                             {major: 6, minor: 8, number: "6.8.23"},
		`{"version":{"number":"7.10.2","build_flavor":"oss"}}`:        {major: 7, minor: 10, number: "7.10.2"},
		`{"version":{"number":"2.11.1","distribution":"opensearch"}}`: {major: 2, minor: 11, number: "2.11.1", distribution: "opensearch"},
		`{"version":{"number":"0.4.10"}}`:                             {major: 0, minor: 4, number: "0.4.10"},
	} {
		got, err := parseServer([]byte(body))
		require.NoError(t, err, body)
		assert.Equal(t, want, got, body)
	}
	for _, body := range []string{`<html>`, `{}`, `{"version":{"number":"x"}}`} {
		_, err := parseServer([]byte(body))
		assert.Error(t, err, body)
	}
	assert.True(t, server{major: 6}.typed())
	assert.True(t, server{major: 5}.typed())
	assert.False(t, server{major: 7}.typed())
	assert.False(t, server{major: 2, distribution: "opensearch"}.typed())
	assert.False(t, server{major: 0}.typed(), "ZincSearch's 0.4 is not Elasticsearch 0")
	assert.False(t, server{major: 7, minor: 7}.composable())
	assert.True(t, server{major: 7, minor: 8}.composable())
	assert.True(t, server{major: 1, distribution: "opensearch"}.composable())
}
