package slack

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/heraldproject/herald/common/chat"
)

// Slack's limits count characters without saying which; herald counts UTF-16 code units, which
// is never less than the number of code points, so a text within the limit by this count is
// within it by either.

// width is the length of s in UTF-16 code units.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clip cuts s to at most max UTF-16 code units at a character boundary, ending in chat.Marker
// when cut. Invalid UTF-8 is replaced first.
func clip(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if width(s) <= max {
		return s
	}
	keep := max - width(chat.Marker)
	if keep <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > keep {
			return s[:i] + chat.Marker
		}
	}
	return s
}

// escaper escapes the three characters Slack's text fields give meaning to (links, mentions,
// entities), as its "Formatting text" guide asks.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes text from the cluster for a Slack text field.
func esc(s string) string { return escaper.Replace(s) }

// clipEscaped clips escaped text without leaving half an entity ("&am…") at the cut.
func clipEscaped(s string, max int) string {
	c := clip(s, max)
	if c == s {
		return c
	}
	body := strings.TrimSuffix(c, chat.Marker)
	if amp := strings.LastIndexByte(body, '&'); amp >= 0 && !strings.Contains(body[amp:], ";") {
		return body[:amp] + chat.Marker
	}
	return c
}
