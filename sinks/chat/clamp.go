package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ClampJSONString cuts the string at path in the JSON object body (a template's output) to
// at most limit bytes, with Marker, and returns the body re-encoded; a body whose string is
// within the limit comes back unchanged. A missing path is not an error: the template chose
// another layout, and the service judges it.
func ClampJSONString(body []byte, limit int, path ...string) ([]byte, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	cur := obj
	for i, key := range path {
		v, ok := cur[key]
		if !ok {
			return body, nil
		}
		if i == len(path)-1 {
			s, ok := v.(string)
			if !ok || len(s) <= limit {
				return body, nil
			}
			cur[key] = Truncate(s, limit)
			break
		}
		next, ok := v.(map[string]any)
		if !ok {
			return body, nil
		}
		cur = next
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("re-encoding the body after cutting %s: %v", strings.Join(path, "."), err)
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// Services that count "characters" (Slack, Discord) are measured in UTF-16 code units, which
// are never fewer than code points, so a text within a limit by this count is within it by
// either reading.

// Width is the length of s in UTF-16 code units.
func Width(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Clip cuts s to at most max UTF-16 code units at a character boundary, ending in Marker when
// cut. Invalid UTF-8 is replaced first, so the result is valid UTF-8.
func Clip(s string, max int) string {
	s, keep := clipRoom(s, max)
	if keep < 0 {
		return s
	}
	if keep == 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > keep {
			return s[:i] + Marker
		}
	}
	return s
}

// ClipTail keeps the end of s, at most max UTF-16 code units with the Marker it starts with
// when cut, from the start of a line when one begins in what is kept. A log's last lines (those
// before a crash) are what a reader needs. Invalid UTF-8 is replaced first.
func ClipTail(s string, max int) string {
	s, room := clipRoom(s, max)
	if room < 0 {
		return s
	}
	if room == 0 {
		return ""
	}
	n, i := 0, len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if n+utf16.RuneLen(r) > room {
			break
		}
		n += utf16.RuneLen(r)
		i -= size
	}
	t := s[i:]
	if nl := strings.IndexByte(t, '\n'); nl >= 0 && nl < len(t)-1 {
		t = t[nl+1:]
	}
	return Marker + t
}

// clipRoom makes s valid UTF-8 and says how many UTF-16 code units of it a cut to max keeps
// beside Marker: -1 when s is within max and needs no cut, 0 when nothing can be kept.
func clipRoom(s string, limit int) (string, int) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if Width(s) <= limit {
		return s, -1
	}
	return s, max(limit-Width(Marker), 0)
}
