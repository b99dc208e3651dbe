package httpx

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/heraldproject/herald/common/redact"
)

// Lengths from which a part of the request is treated as a secret wherever it shows up in an
// error (a receiver that echoes the request back, a proxy's error page). Shorter values are
// ordinary words ("json", "v2") whose removal would only garble the message; secret-looking
// parameter names (key=, token=, sign=) are redacted whatever their length by package redact.
const (
	minSecretQueryValue  = 6
	minSecretPathSegment = 16
	minSecretHeaderValue = 6
)

// sensitiveHeaderWords mark a request header whose value is a credential.
var sensitiveHeaderWords = []string{"auth", "token", "key", "secret", "sign", "password", "cookie", "session"}

// lazyScrubber is a scrubber of req built when it is first needed.
type lazyScrubber struct {
	req   *http.Request
	extra []string
	s     *scrubber
}

func (l *lazyScrubber) scrub(text string) string {
	if l.s == nil {
		l.s = newScrubber(l.req, l.extra)
	}
	return l.s.scrub(text)
}

// scrubber removes from error text every secret a request carries.
type scrubber struct {
	secrets []string
}

func newScrubber(req *http.Request, extra []string) *scrubber {
	s := &scrubber{}
	for _, e := range extra {
		s.add(e, 1)
	}
	u := req.URL
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			s.add(pw, 1)
			// net/http sends userinfo as Basic authorization, which a receiver may echo.
			s.add(base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)), 1)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			s.add(v, minSecretQueryValue)
		}
	}
	for _, part := range strings.Split(u.RawQuery, "&") {
		if _, v, ok := strings.Cut(part, "="); ok {
			s.add(v, minSecretQueryValue)
		}
	}
	// A chat webhook's token path (Slack's services/T/B/TOKEN, Discord's webhooks/ID/TOKEN,
	// Feishu's hook/TOKEN): everything after the marker, whole, whatever its length.
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if slices.Contains(redact.ChatPathMarkers, seg) && i+1 < len(segs) {
			rest := strings.Join(segs[i+1:], "/")
			s.add(rest, 4)
			if dec, err := url.PathUnescape(rest); err == nil {
				s.add(dec, 4)
			}
			break
		}
	}
	for _, seg := range segs {
		s.add(seg, minSecretPathSegment)
		if dec, err := url.PathUnescape(seg); err == nil {
			s.add(dec, minSecretPathSegment)
		}
	}
	for name, vs := range req.Header {
		if !sensitiveHeader(name) {
			continue
		}
		for _, v := range vs {
			s.add(v, minSecretHeaderValue)
			for _, f := range strings.Fields(v) { // "Bearer TOKEN": the token alone
				s.add(f, minSecretHeaderValue)
			}
		}
	}
	// Longest first, so a secret that contains another is removed whole.
	sort.Slice(s.secrets, func(i, j int) bool { return len(s.secrets[i]) > len(s.secrets[j]) })
	return s
}

func (s *scrubber) add(v string, minLen int) {
	// A header value reaches the wire, and an echo, without its surrounding spaces.
	for _, f := range []string{v, strings.TrimSpace(v), strings.ToValidUTF8(v, "?"), strings.ToValidUTF8(v, "\uFFFD")} {
		if len(f) >= minLen && f != "" {
			s.secrets = append(s.secrets, f)
		}
	}
}

// scrub returns text without the request's secrets and without secret-looking parameters.
func (s *scrubber) scrub(text string) string {
	for _, sec := range s.secrets {
		text = strings.ReplaceAll(text, sec, redact.Placeholder)
	}
	return redact.Text(text)
}

func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
