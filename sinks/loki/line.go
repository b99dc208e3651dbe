package loki

import (
	"bytes"
	"unicode/utf8"

	"github.com/heraldproject/herald/common/eventrecord"
	"github.com/heraldproject/herald/core"
)

// line is the entry's line for e: the template's render, or the event as JSON (eventrecord.Line,
// the object log:?format=json writes). Bytes that are not UTF-8 are replaced: Loki's lines are
// UTF-8 strings.
func (s *Sink) line(e *core.Event) (string, error) {
	var b []byte
	var err error
	if s.body != nil {
		b, err = s.body.Render(e)
	} else {
		b, err = eventrecord.Line(e)
	}
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return string(b), nil
}
