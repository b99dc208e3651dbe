package sinktest

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode"
)

// Window is the length, in characters, of the fragments Leak looks for; a fragment counts when
// at least MinAlnum of its characters are letters or digits (a run of punctuation is no secret).
const (
	Window   = 6
	MinAlnum = 4
)

// Fragments returns the significant substrings of secret: every Window characters with at least
// MinAlnum letters or digits, of the value as written and as herald decodes it (a
// percent-encoded shape is a secret in both forms).
func Fragments(secret string) []string {
	forms := []string{secret}
	if d, err := url.PathUnescape(secret); err == nil && d != secret {
		forms = append(forms, d)
	}
	if d, err := url.QueryUnescape(secret); err == nil && d != secret {
		forms = append(forms, d)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range forms {
		r := []rune(f)
		if len(r) < Window {
			if !seen[f] && alnum(r) >= min(len(r), MinAlnum) && len(r) > 0 {
				seen[f] = true
				out = append(out, f)
			}
			continue
		}
		for i := 0; i+Window <= len(r); i++ {
			w := r[i : i+Window]
			if alnum(w) < MinAlnum {
				continue
			}
			s := string(w)
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func alnum(r []rune) int {
	n := 0
	for _, c := range r {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			n++
		}
	}
	return n
}

// Leak returns the first fragment of secret found in text, or "" when text holds none. Base64
// in text (a Basic authorization header) is decoded and searched too.
func Leak(text, secret string) string {
	frags := Fragments(secret)
	for _, f := range frags {
		if strings.Contains(text, f) {
			return f
		}
	}
	for _, word := range strings.Fields(text) {
		if len(word) < 8 {
			continue
		}
		if dec, err := base64.StdEncoding.DecodeString(strings.Trim(word, `"',;`)); err == nil {
			for _, f := range frags {
				if strings.Contains(string(dec), f) {
					return f + " (base64)"
				}
			}
		}
	}
	return ""
}

// Excerpt returns the part of text around the first occurrence of fragment, for a failure message
// that shows where a secret leaked without printing whole logs.
func Excerpt(text, fragment string) string {
	i := strings.Index(text, strings.TrimSuffix(fragment, " (base64)"))
	if i < 0 {
		if len(text) > 200 {
			return text[:200] + "…"
		}
		return text
	}
	from, to := max(0, i-80), min(len(text), i+len(fragment)+80)
	return strings.ReplaceAll(text[from:to], "\n", "⏎")
}
