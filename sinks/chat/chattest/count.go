package chattest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	digestTitle = regexp.MustCompile(`(\d+) events?(?: \(\d+ Warning\))?(?: · |$)`)
	andMore     = regexp.MustCompile(`… and (\d+) more`)
)

// CountEvents reads a message written by chat.TextLayout (any style) and returns how many
// events it accounts for: 1 for a single-event message; for a digest, the number its title
// announces, after checking that its named events ("- " lines) and its "… and N more" counts
// add up to it.
func CountEvents(t testing.TB, text string) int {
	t.Helper()
	lines := strings.Split(text, "\n")
	title := -1
	total := 0
	for i, l := range lines {
		if m := digestTitle.FindStringSubmatch(l); m != nil {
			title, total = i, atoi(m[1])
			break
		}
	}
	if title < 0 {
		return 1
	}
	n := 0
	for _, l := range lines[title+1:] {
		if strings.HasPrefix(l, "- ") {
			n++
		}
		if m := andMore.FindStringSubmatch(l); m != nil {
			n += atoi(m[1])
		}
	}
	if n != total {
		t.Errorf("a digest announces %d events but names or counts %d:\n%s", total, n, text)
	}
	return total
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
