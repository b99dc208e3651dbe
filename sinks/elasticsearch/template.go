package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/golang/glog"
)

// templatePattern is the index pattern the template covers: the index name up to its first %.
func (s *Sink) templatePattern() string {
	if s.cfg.DataStream {
		return s.cfg.Index
	}
	prefix, _, _ := strings.Cut(s.cfg.Index, "%")
	return prefix + "*"
}

// TemplateBody is the index template template=true installs for a cluster of version v:
// keyword for the fields people filter on, text for messages and logs, dates for timestamps. A
// composable template (_index_template) where the cluster has them (Elasticsearch 7.8 and later,
// OpenSearch), a legacy one (_template) before, with the mapping under kube-eventer's type
// "events" for 6 and older, and the pattern in "template" for 5 and older.
func (s *Sink) TemplateBody(v server) map[string]any {
	keyword := map[string]any{"type": "keyword"}
	date := map[string]any{"type": "date"}
	text := map[string]any{"type": "text"}
	props := map[string]any{
		"@timestamp":               date,
		"FirstOccurrenceTimestamp": date,
		"LastOccurrenceTimestamp":  date,
		"Count":                    map[string]any{"type": "long"},
		"Message":                  text,
		"Reason":                   keyword,
		"Type":                     keyword,
		"InvolvedObject": map[string]any{"properties": map[string]any{
			"namespace": keyword, "kind": keyword, "name": keyword, "uid": keyword, "fieldPath": keyword,
		}},
		"Source": map[string]any{"properties": map[string]any{"component": keyword, "host": keyword}},
		"EventTags": map[string]any{"properties": map[string]any{
			"eventID": keyword, "cluster_name": keyword, "hostname": keyword, "pod_id": keyword, "pod_name": keyword,
		}},
		// Pod restarts (the crash-monitor's fields).
		"namespace":         keyword,
		"pod_name":          keyword,
		"container_name":    keyword,
		"cluster_name":      keyword,
		"termination_state": keyword,
		"node":              keyword,
		"owner_kind":        keyword,
		"owner_name":        keyword,
		"reason":            keyword,
		"created_at":        map[string]any{"type": "date", "format": "epoch_millis"},
		"restart_count":     map[string]any{"type": "integer"},
		"exit_code":         map[string]any{"type": "integer"},
		"logs":              text,
		"message":           text,
	}
	mappings := map[string]any{"properties": props}
	if v.typed() {
		mappings = map[string]any{TypeName: mappings}
	}
	tmpl := map[string]any{"mappings": mappings}
	if !s.cfg.DataStream {
		// kube-eventer put every daily index under the alias INDEX-events; the template keeps it.
		prefix := strings.TrimRight(strings.SplitN(s.cfg.Index, "%", 2)[0], "-_.")
		tmpl["aliases"] = map[string]any{prefix + "-events": map[string]any{}}
	}
	if !v.composable() {
		// The legacy form: mappings and aliases at the top, order instead of priority.
		tmpl["order"] = 200
		if v.major >= 2 && v.major <= 5 {
			tmpl["template"] = s.templatePattern()
		} else {
			tmpl["index_patterns"] = []string{s.templatePattern()}
		}
		return tmpl
	}
	body := map[string]any{
		"index_patterns": []string{s.templatePattern()},
		"priority":       200,
		"template":       tmpl,
	}
	if s.cfg.DataStream {
		body["data_stream"] = map[string]any{}
	}
	return body
}

// ensureTemplate installs the index template once (template=true); a failure is retried with
// the batch.
func (s *Sink) ensureTemplate(ctx context.Context, v server) error {
	if !s.cfg.Template {
		return nil
	}
	s.mu.Lock()
	done := s.templated
	s.mu.Unlock()
	if done {
		return nil
	}
	body, err := json.Marshal(s.TemplateBody(v))
	if err != nil {
		return err
	}
	var req esapi.Request = esapi.IndicesPutIndexTemplateRequest{Name: s.cfg.TemplateName, Body: bytes.NewReader(body)}
	if !v.composable() {
		req = esapi.IndicesPutTemplateRequest{Name: s.cfg.TemplateName, Body: bytes.NewReader(body)}
	}
	if _, err := s.do(ctx, req); err != nil {
		return err
	}
	s.mu.Lock()
	s.templated = true
	s.mu.Unlock()
	return nil
}

// ensureAliases gives each daily index the bulk reply names kube-eventer's alias (INDEX-events),
// once per index and run, so that searches and dashboards on the alias keep finding events. A
// cluster that refuses it (a user without the manage privilege) costs the alias, not the events:
// it is logged once.
func (s *Sink) ensureAliases(ctx context.Context, res *bulkResponse) {
	if s.cfg.Alias == "" || s.cfg.DataStream {
		return
	}
	var actions []map[string]any
	s.mu.Lock()
	for _, item := range res.Items {
		for _, r := range item {
			if r.Index != "" && r.Status >= 200 && r.Status < 300 && !s.aliased[r.Index] {
				s.aliased[r.Index] = true
				actions = append(actions, map[string]any{"add": map[string]string{"index": r.Index, "alias": s.cfg.Alias}})
			}
		}
	}
	s.mu.Unlock()
	if len(actions) == 0 {
		return
	}
	body, _ := json.Marshal(map[string]any{"actions": actions})
	if _, err := s.do(ctx, esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(body)}); err != nil {
		s.mu.Lock()
		first := !s.aliasFailed
		s.aliasFailed = true
		s.mu.Unlock()
		if first {
			glog.Warningf("%s: could not add kube-eventer's alias %s to the daily index (%s); events are written, searches on the alias miss them; grant the user the manage privilege on %s*, or search the indices", s.id, s.cfg.Alias, firstLine(err), s.cfg.Alias[:len(s.cfg.Alias)-len("-events")])
		}
	}
}
