package slack

import (
	"strings"

	"github.com/heraldproject/herald/sinks/chat"
)

// Slack's limits count characters without saying which; herald counts UTF-16 code units
// (chat.Width), never fewer than code points, so a text within a limit by this count is
// within it by either reading.

// escaper escapes the three characters Slack's text fields give meaning to (links, mentions,
// entities), as its "Formatting text" guide asks.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes text from the cluster for a Slack text field.
func esc(s string) string { return escaper.Replace(s) }

// clipEscaped clips escaped text without leaving half an entity ("&am…") at the cut.
func clipEscaped(s string, max int) string {
	c := chat.Clip(s, max)
	if c == s {
		return c
	}
	body := strings.TrimSuffix(c, chat.Marker)
	if amp := strings.LastIndexByte(body, '&'); amp >= 0 && !strings.Contains(body[amp:], ";") {
		return body[:amp] + chat.Marker
	}
	return c
}
