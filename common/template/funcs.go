package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TruncateMarker ends a string that truncate shortened.
const TruncateMarker = "…"

// funcMap returns the helpers every body template may call. loc is the zone date formats in.
func funcMap(loc *time.Location) template.FuncMap {
	if loc == nil {
		loc = time.UTC
	}
	return template.FuncMap{
		"toJson":   toJSON,
		"quote":    quote,
		"truncate": truncate,
		"date":     func(layout string, v any) (string, error) { return date(layout, v, loc) },
		"default":  defaultValue,
		"upper":    func(v any) (string, error) { return mapString(v, strings.ToUpper) },
		"lower":    func(v any) (string, error) { return mapString(v, strings.ToLower) },

		escaperName:     jsonStringFunc,
		kubeEscaperName: kubeJSONStringFunc,
	}
}

// toJSON returns v as a JSON document: {{ toJson .InvolvedObject }} writes an object,
// {{ toJson .Message }} a quoted, escaped string.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("toJson: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// quote returns v, printed as {{ v }} would print it, as a JSON string literal with its quotes:
// {{ quote .Count }} writes "3".
func quote(v any) (string, error) {
	s, err := printString(v)
	if err != nil {
		return "", fmt.Errorf("quote: %v", err)
	}
	return quoteString(s), nil
}

// quoteString returns s as a JSON string literal with its quotes.
func quoteString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = appendJSONString(b, s)
	b = append(b, '"')
	return string(b)
}

// truncate shortens v (as printed) to at most n characters (runes, not bytes), the last being
// TruncateMarker when anything was cut: {{ .Message | truncate 200 }}. n <= 0 gives "".
func truncate(n int, v any) (string, error) {
	s, err := printString(v)
	if err != nil {
		return "", fmt.Errorf("truncate: %v", err)
	}
	return truncateString(n, s), nil
}

// truncateString is truncate on printed text.
func truncateString(n int, s string) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	// Keep n-1 runes and the marker. Ranging over a string steps one rune, or one byte of
	// invalid UTF-8, at a time.
	kept := 0
	for i := range s {
		if kept == n-1 {
			return s[:i] + TruncateMarker
		}
		kept++
	}
	return s // not reached: s has more than n runes
}

// date formats a time in the --timezone location with a Go layout:
// {{ .LastTimestamp | date "2006-01-02 15:04:05" }}. It takes metav1.Time, metav1.MicroTime and
// time.Time, or pointers to them; a zero or nil time formats as "".
func date(layout string, v any, loc *time.Location) (string, error) {
	var t time.Time
	switch v := v.(type) {
	case metav1.Time:
		t = v.Time
	case *metav1.Time:
		if v != nil {
			t = v.Time
		}
	case metav1.MicroTime:
		t = v.Time
	case *metav1.MicroTime:
		if v != nil {
			t = v.Time
		}
	case time.Time:
		t = v
	case *time.Time:
		if v != nil {
			t = *v
		}
	default:
		return "", fmt.Errorf(`date: %T is not a time; give it a time such as .LastTimestamp, .FirstTimestamp or .EventTime`, v)
	}
	return formatDate(layout, t, loc), nil
}

// formatDate is date on a time: "" for a zero time, else t in loc formatted with layout.
func formatDate(layout string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(layout)
}

// defaultValue returns v unless it is empty (missing, nil, a zero number, time or struct, an
// empty string, list or map), in which case it returns def: {{ .Action | default "none" }}.
func defaultValue(def, v any) any {
	if isEmpty(v) {
		return def
	}
	return v
}

func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return true
	}
	switch rv.Kind() {
	case reflect.Array, reflect.Slice, reflect.Map, reflect.String:
		return rv.Len() == 0
	}
	return rv.IsZero()
}

// mapString prints v as {{ v }} would and applies f to the text.
func mapString(v any, f func(string) string) (string, error) {
	s, err := printString(v)
	if err != nil {
		return "", err
	}
	return f(s), nil
}
