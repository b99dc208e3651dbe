package discord

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/heraldproject/herald/common/chat"
)

// Discord's limits count characters; herald counts UTF-16 code units, never fewer than code
// points, so a text within a limit by this count is within it by either reading.

// width is the length of s in UTF-16 code units.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clip cuts s to at most max UTF-16 code units at a character boundary, ending in chat.Marker
// when cut, without leaving a lone backslash (an escape) at the cut. Invalid UTF-8 is replaced.
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
			cut := s[:i]
			if strings.HasSuffix(cut, `\`) && (len(cut)-len(strings.TrimRight(cut, `\`)))%2 == 1 {
				cut = cut[:len(cut)-1]
			}
			return cut + chat.Marker
		}
	}
	return s
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
