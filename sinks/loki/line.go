package loki

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
)

// record is the default line: the Kubernetes Event as the API server serves it (less
// metadata.managedFields), plus "cluster" and, for a container restart, "restart". It is the
// object log:?format=json writes, so a Loki query reads the same fields as a log collector
// picking up herald's JSON log would.
type record struct {
	*corev1.Event
	Cluster string           `json:"cluster,omitempty"`
	Restart *core.PodRestart `json:"restart,omitempty"`
}

// eventJSON is the default line for e. The event is copied, never changed.
func eventJSON(e *core.Event) ([]byte, error) {
	ev := *e.Event
	ev.ManagedFields = nil
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(record{Event: &ev, Cluster: e.Cluster, Restart: e.Restart}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// line is the entry's line for e: the template's render, or the event as JSON. Bytes that are
// not UTF-8 are replaced: Loki's lines are UTF-8 strings.
func (s *Sink) line(e *core.Event) (string, error) {
	var b []byte
	var err error
	if s.body != nil {
		b, err = s.body.Render(e)
	} else {
		b, err = eventJSON(e)
	}
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return string(b), nil
}
