package loki

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

// Field is an event field a stream label or a structured metadata pair can hold.
type Field string

// The fields, named as the labels they become.
const (
	FieldNamespace Field = "namespace" // the involved object's namespace ("" for a Node)
	FieldKind      Field = "kind"      // the involved object's kind
	FieldName      Field = "name"      // the involved object's name
	FieldUID       Field = "uid"       // the involved object's uid
	FieldReason    Field = "reason"
	FieldType      Field = "type"      // Normal or Warning
	FieldComponent Field = "component" // who reported it: source.component, else reportingController
	FieldHost      Field = "host"      // where: source.host, else reportingInstance
	FieldCluster   Field = "cluster"   // --cluster-name
)

var allFields = []Field{FieldNamespace, FieldKind, FieldName, FieldUID, FieldReason, FieldType, FieldComponent, FieldHost, FieldCluster}

// FieldNames lists the fields labels= and metadata= accept.
func FieldNames() []string {
	out := make([]string, len(allFields))
	for i, f := range allFields {
		out[i] = string(f)
	}
	return out
}

func fieldByName(name string) (Field, bool) {
	for _, f := range allFields {
		if strings.EqualFold(string(f), strings.TrimSpace(name)) {
			return f, true
		}
	}
	return "", false
}

// value is the field's value for e; cluster is the sink's --cluster-name, for an event that
// carries none. A value that is not valid UTF-8 has the bad bytes replaced: Loki's labels are
// UTF-8.
func (f Field) value(e *core.Event, cluster string) string {
	var v string
	o := e.InvolvedObject
	switch f {
	case FieldNamespace:
		v = o.Namespace
		if v == "" && o.Kind == "" {
			v = e.Namespace
		}
	case FieldKind:
		v = o.Kind
	case FieldName:
		v = o.Name
	case FieldUID:
		v = string(o.UID)
	case FieldReason:
		v = e.Reason
	case FieldType:
		v = e.Type
	case FieldComponent:
		v = e.Source.Component
		if v == "" {
			v = e.ReportingController
		}
	case FieldHost:
		v = e.Source.Host
		if v == "" {
			v = e.ReportingInstance
		}
	case FieldCluster:
		v = e.Cluster
		if v == "" {
			v = cluster
		}
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	return v
}

// pair is one label, or one structured metadata pair.
type pair struct{ name, value string }

// labelSet builds a stream's label set in Prometheus' text form, {a="b", c="d"}: names sorted,
// values quoted as Go quotes strings (a quote or backslash escaped, control characters as \n,
// \x00), which is how Loki's parser reads them. Empty values are left out: to Loki an empty
// label is an absent one.
func labelSet(pairs []pair) string {
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].name < pairs[j].name })
	n := 2
	for _, p := range pairs {
		n += len(p.name) + len(p.value) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	first := true
	for _, p := range pairs {
		if p.value == "" {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, p.name...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, p.value)
	}
	b = append(b, '}')
	return string(b)
}
