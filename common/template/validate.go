package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonFix is what to do about a JSON template whose sample render is not JSON.
const jsonFix = `fix: keep every {{ ... }} that prints text inside a JSON string ("msg": "{{ .Message }}"): ` +
	`herald escapes it for you, so quotes, newlines and non-ASCII text are safe there; outside a string ` +
	`print only numbers ("count": {{ .Count }}) or a whole JSON value ({{ toJson .InvolvedObject }}, ` +
	`{{ quote .Message }}), and never put toJson or quote inside "..."`

// checkJSON reports whether a sample render is one valid JSON document; if not, the error quotes
// the line of the render where parsing failed, with a caret under the column, and says what to
// fix.
func checkJSON(out []byte) error {
	var v any
	err := json.Unmarshal(out, &v)
	if err == nil {
		return nil
	}
	offset := int64(len(out))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = se.Offset
		// Offset counts the bytes read, including the offending one.
		if offset > 0 && offset <= int64(len(out)) && !strings.HasPrefix(se.Error(), "unexpected end") {
			offset--
		}
	}
	if offset > int64(len(out)) {
		offset = int64(len(out))
	}
	line, col, text := lineAt(out, int(offset))
	return fmt.Errorf("invalid JSON: %v, at line %d, column %d of the render:\n%s\n%s",
		err, line, col, showLine(line, col, text), jsonFix)
}

// lineAt returns the 1-based line and column (in runes) of byte offset off, and that line.
func lineAt(b []byte, off int) (line, col int, text string) {
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	end := bytes.IndexByte(b[off:], '\n')
	if end < 0 {
		end = len(b)
	} else {
		end += off
	}
	return bytes.Count(b[:off], []byte{'\n'}) + 1, utf8.RuneCount(b[start:off]) + 1, string(b[start:end])
}

// showLine prints a numbered line with a caret under column col. Long lines are cut around
// the column so the caret stays visible.
func showLine(line, col int, text string) string {
	const width = 100
	r := []rune(strings.ReplaceAll(text, "\t", " "))
	from := 0
	if col > width {
		from = col - width/2
	}
	to := min(len(r), from+width)
	prefix := fmt.Sprintf("  %4d | ", line)
	caret := strings.Repeat(" ", len(prefix)+col-1-from) + "^"
	shown := string(r[from:to])
	if from > 0 {
		shown = "…" + shown
		caret = " " + caret
	}
	return prefix + shown + "\n" + caret
}

// execHint suggests a fix for an error executing a template on the sample event.
func execHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "*core.PodRestart"):
		return `fix: .Restart is set only for ContainerRestarted events; wrap restart fields in {{ with .Restart }}...{{ end }}`
	case strings.Contains(msg, "can't evaluate field"):
		return `fix: use a field of the event: .Reason, .Message, .Type, .Count, .LastTimestamp, .FirstTimestamp, .InvolvedObject.Kind/.Name/.Namespace, .Source.Component, .Cluster, .Restart (see docs/templates.md)`
	case strings.Contains(msg, "date:"):
		return `fix: give date a time, as in {{ .LastTimestamp | date "2006-01-02 15:04:05" }}`
	}
	return "fix: the template must render every event; see docs/templates.md"
}
