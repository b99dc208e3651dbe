package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// templatePattern is the index pattern the template covers: the index name up to its first %.
func (s *Sink) templatePattern() string {
	if s.cfg.DataStream {
		return s.cfg.Index
	}
	prefix, _, _ := strings.Cut(s.cfg.Index, "%")
	return prefix + "*"
}

// TemplateBody is the composable index template template=true installs: keyword for the fields
// people filter on, text for messages and logs, dates for timestamps.
func (s *Sink) TemplateBody() map[string]any {
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
	tmpl := map[string]any{
		"mappings": map[string]any{"properties": props},
	}
	body := map[string]any{
		"index_patterns": []string{s.templatePattern()},
		"priority":       200,
		"template":       tmpl,
	}
	if s.cfg.DataStream {
		body["data_stream"] = map[string]any{}
	} else {
		// kube-eventer put every daily index under the alias INDEX-events; the template keeps it.
		prefix := strings.TrimRight(strings.SplitN(s.cfg.Index, "%", 2)[0], "-_.")
		tmpl["aliases"] = map[string]any{prefix + "-events": map[string]any{}}
	}
	return body
}

// ensureTemplate installs the index template once (template=true); a failure is retried with
// the batch.
func (s *Sink) ensureTemplate(ctx context.Context) error {
	if !s.cfg.Template {
		return nil
	}
	s.mu.Lock()
	done := s.templated
	s.mu.Unlock()
	if done {
		return nil
	}
	body, err := json.Marshal(s.TemplateBody())
	if err != nil {
		return err
	}
	req := esapi.IndicesPutIndexTemplateRequest{Name: s.cfg.TemplateName, Body: bytes.NewReader(body)}
	if _, err := s.do(ctx, req); err != nil {
		return err
	}
	s.mu.Lock()
	s.templated = true
	s.mu.Unlock()
	return nil
}
