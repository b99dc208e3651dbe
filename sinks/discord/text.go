package discord

import (
	"strings"

	"github.com/heraldproject/herald/sinks/chat"
)

// Discord's limits count characters; herald counts UTF-16 code units (chat.Width), never fewer
// than code points, so a text within a limit by this count is within it by either reading.

// clip cuts s to at most max UTF-16 code units (chat.Clip) without leaving a lone backslash (an
// escape) at the cut.
func clip(s string, max int) string {
	c := chat.Clip(s, max)
	if c == s {
		return c
	}
	cut := strings.TrimSuffix(c, chat.Marker)
	if strings.HasSuffix(cut, `\`) && (len(cut)-len(strings.TrimRight(cut, `\`)))%2 == 1 {
		return cut[:len(cut)-1] + chat.Marker
	}
	return c
}

// inline escapes the markdown Discord applies anywhere in a line, so an event's text shows as
// written: emphasis, code, spoilers, masked links.
var inline = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `[`, `\[`, `]`, `\]`)

// md escapes text from the cluster for a Discord embed or message: inline markdown everywhere,
// and headings, lists and quotes at the start of a line.
func md(s string) string {
	lines := strings.Split(inline.Replace(s), "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		if t != "" && strings.ContainsRune("#->", rune(t[0])) {
			lines[i] = l[:len(l)-len(t)] + `\` + t
		}
	}
	return strings.Join(lines, "\n")
}
