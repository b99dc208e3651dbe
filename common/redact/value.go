package redact

import (
	"encoding/base64"
	"net/textproto"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Shape says where a scheme's --sink value holds secrets, beyond what every value treats as
// secret (the userinfo password, the parameters named in secretNames, a fragment).
type Shape struct {
	// Secret reports whether the parameter (its name decoded) holds a secret: the sink's
	// declared secret parameters, and parameters it passes on to the receiver unread.
	Secret func(name string) bool
	// Known reports whether the sink declares the parameter; nil: every name. An undeclared
	// name right after a secret parameter is taken as the rest of that secret, cut at a literal
	// '&', and redacted whole.
	Known func(name string) bool
	// Header is the parameter that holds NAME=VALUE request headers: every value is a secret
	// except those of PublicHeaders.
	Header string
	// DSN: the query is a MySQL DSN, USER:PASSWORD@NET(ADDRESS)/DB?PARAMS.
	DSN bool
	// PathAfter lists path segments after which the rest of the URL path is a token (Slack's
	// "services", Discord's "webhooks", Feishu's "hook"); empty when the path holds no secret.
	// When the path has none of them, the whole path is redacted.
	PathAfter []string
}

// PublicHeaders are request headers whose values say nothing secret.
var PublicHeaders = []string{"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Encoding", "User-Agent"}

// Value returns a --sink (or --source) value as written, before ${ENV} expansion, with every
// secret replaced by Placeholder. It works from the value's structure, not from patterns: the
// value is split into scheme, target and parameters the way herald reads it, and a secret part is
// replaced whole, whatever characters it holds (spaces, commas, quotes, '@', '/'). known are
// secret values herald read from it (after expansion and decoding): each is also replaced
// wherever it appears, in case the split went differently from the user's intent. Value never
// fails and never panics.
func Value(raw string, sh Shape, known ...string) string {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return Scrub(Text(raw), known...)
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteByte(':')
	rest, fragment, hasFragment := strings.Cut(rest, "#")
	target, query, hasQuery := strings.Cut(rest, "?")
	if sh.DSN && hasQuery && target == "" {
		b.WriteByte('?')
		b.WriteString(dsn(query, sh))
	} else {
		b.WriteString(targetPart(target, sh))
		if hasQuery {
			b.WriteByte('?')
			b.WriteString(queryPart(query, sh))
		}
	}
	if hasFragment && fragment != "" {
		// herald ignores a fragment; a '#' inside a secret puts the rest of it there.
		b.WriteString("#" + Placeholder)
	}
	return Scrub(b.String(), known...)
}

// Scrub replaces each of secrets (of three characters or more) in s, also in its trimmed,
// percent-encoded and base64 (basic authentication) forms.
func Scrub(s string, secrets ...string) string {
	return scrubForms(s, formsOf(secrets, 3))
}

// formsOf lists the forms of secrets (of minLen bytes or more) Scrub replaces, longest first, so
// a secret that contains another is replaced whole.
func formsOf(secrets []string, minLen int) []string {
	forms := map[string]bool{}
	for _, secret := range secrets {
		for _, v := range []string{secret, strings.TrimSpace(secret)} {
			for _, f := range []string{v, url.QueryEscape(v), url.PathEscape(v), base64.StdEncoding.EncodeToString([]byte(v)),
				strings.ToValidUTF8(v, "?"), strings.ToValidUTF8(v, "\uFFFD")} {
				if len(f) >= minLen && f != Placeholder {
					forms[f] = true
				}
			}
		}
	}
	list := make([]string, 0, len(forms))
	for f := range forms {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	return list
}

func scrubForms(s string, list []string) string {
	for _, f := range list {
		s = strings.ReplaceAll(s, f, Placeholder)
	}
	// A reply cut at a byte limit may end inside a long secret: replace any run of 8 or more
	// of its leading characters.
	for _, f := range list {
		if len(f) >= 16 {
			s = replacePrefixRuns(s, f)
		}
	}
	return s
}

// The registry holds every secret value herald has read (every sink's, from sinks.Build), so the
// last writer of its log output can scrub them all from every line, whichever sink or library
// wrote it: a receiver that echoes another sink's credential, a client library's debug dump.
var (
	registryMu sync.RWMutex
	registered []string
	regForms   []string
)

// RegistryMinLen is the shortest secret the registry scrubs from the whole log: shorter ones
// would replace ordinary words; the sink's own errors still scrub them (Scrub, 3 bytes).
const RegistryMinLen = 6

// Register adds secrets to the registry ScrubRegistered uses.
func Register(secrets ...string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registered = append(registered, secrets...)
	regForms = formsOf(registered, RegistryMinLen)
}

// ScrubRegistered replaces every registered secret in s, as Scrub does.
func ScrubRegistered(s string) string {
	registryMu.RLock()
	list := regForms
	registryMu.RUnlock()
	if len(list) == 0 {
		return s
	}
	return scrubForms(s, list)
}

// replacePrefixRuns replaces every run of s that matches the first 8 or more bytes of f.
func replacePrefixRuns(s, f string) string {
	head := f[:8]
	var b strings.Builder
	for {
		i := strings.Index(s, head)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		n := 8
		for n < len(f) && i+n < len(s) && s[i+n] == f[n] {
			n++
		}
		b.WriteString(s[:i] + Placeholder)
		s = s[i+n:]
	}
}

// targetPart redacts the part before '?': a URL's userinfo password (up to the last '@', as a
// password may hold '@' and '/'), a token path, and the well-known webhook paths.
func targetPart(t string, sh Shape) string {
	i := strings.Index(t, "//")
	if i < 0 {
		return Text(t)
	}
	head, authority := t[:i+2], t[i+2:]
	var user string
	if at := userinfoEnd(authority, len(sh.PathAfter) > 0); at >= 0 {
		user, authority = authority[:at], authority[at+1:]
		if name, _, hasPassword := strings.Cut(user, ":"); hasPassword {
			user = name + ":" + Placeholder
		}
		user += "@"
	}
	host, path, hasPath := strings.Cut(authority, "/")
	out := head + user + host
	if hasPath {
		after := sh.PathAfter
		if len(after) == 0 && chatHost(host) {
			after = ChatPathMarkers
		}
		out += "/" + redactPath(path, after)
	}
	return webhookPaths(out)
}

// userinfoEnd returns the index of the '@' that ends the userinfo of authority+path, -1 when
// there is none. A password may hold '@' and '/', and a token path may hold '@': for a sink
// whose path is a token, the userinfo ends at the last '@' before the first '/'; for the others
// at the last '@' of all, when there is userinfo at all ('@' or NAME:WORD, WORD not a port,
// before the first '/'). When in doubt it takes more, so a secret is over-redacted, not shown.
func userinfoEnd(s string, pathSecret bool) int {
	first, _, _ := strings.Cut(s, "/")
	a, b := strings.LastIndex(first, "@"), strings.LastIndex(s, "@")
	_, after, hasColon := strings.Cut(first, ":")
	named := hasColon && !isPort(after)
	switch {
	case pathSecret && a >= 0:
		return a
	case b >= 0 && (a >= 0 || named):
		return b
	}
	return -1
}

func isPort(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ChatPathMarkers are the path segments after which a chat webhook URL's path is its token.
var ChatPathMarkers = []string{"services", "workflows", "triggers", "webhooks", "hook", "webhookb2"}

// chatHost reports whether host serves chat webhooks whose path is the token (Slack, Discord,
// Feishu, Lark, Office 365), whatever the sink type.
func chatHost(host string) bool {
	h := strings.ToLower(host)
	for _, d := range []string{"hooks.slack.com", "hooks.slack-gov.com", "discord.com", "discordapp.com", "open.feishu.cn", "open.larksuite.com", "webhook.office.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// redactPath replaces what follows the first of after in path ("services/T/B/TOKEN" after
// "services"); the whole path when none is there; nothing when after is empty.
func redactPath(path string, after []string) string {
	if len(after) == 0 || path == "" {
		return path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if slices.Contains(after, s) && i+1 < len(segs) {
			return strings.Join(segs[:i+1], "/") + "/" + Placeholder
		}
	}
	return Placeholder
}

// queryPart redacts parameters item by item: a secret parameter's value whole, a header's value
// unless the header is public, and the userinfo password or token path of a URL given as a
// value (nodes=, endpoint=).
func queryPart(q string, sh Shape) string {
	items := strings.Split(q, "&")
	for i, item := range items {
		k, v, hasValue := strings.Cut(item, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		declared := sh.Known == nil || sh.Known(name)
		switch {
		case i > 0 && secretParam(items[i-1], sh) && (!hasValue || !declared && !LowerWord(name)) && item != "":
			// The piece of the secret before it, cut at a literal '&'.
			items[i] = Placeholder
		case !hasValue:
		case !PlainWord(name):
			items[i] = Placeholder // no parameter is named so: a piece of a secret
		case secret(name, sh):
			items[i] = k + "=" + Placeholder
		case sh.Header != "" && strings.EqualFold(name, sh.Header):
			items[i] = k + "=" + header(v)
		default:
			items[i] = k + "=" + embedded(v)
		}
	}
	return strings.Join(items, "&")
}

// secretParam reports whether item is name=value with a secret name or a header.
func secretParam(item string, sh Shape) bool {
	k, _, _ := strings.Cut(item, "=")
	name, err := url.QueryUnescape(k)
	if err != nil {
		name = k
	}
	return secret(name, sh) || (sh.Header != "" && strings.EqualFold(name, sh.Header))
}

// LowerWord reports whether name is a word of lower-case letters, _ - and ., as a receiver's
// own parameters are (code, token, api-version), rather than the mixed piece of a secret.
func LowerWord(name string) bool {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return name != ""
}

// PlainWord reports whether name is written as parameter names are: ASCII letters, digits,
// _ - and .
func PlainWord(name string) bool {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func secret(name string, sh Shape) bool {
	if sh.Secret != nil && sh.Secret(name) {
		return true
	}
	return slices.ContainsFunc(secretNames, func(n string) bool { return strings.EqualFold(n, name) })
}

// header redacts the value of a NAME=VALUE (or NAME:VALUE) header unless NAME is public.
func header(v string) string {
	sep := strings.IndexAny(v, "=:")
	if sep < 0 {
		return Placeholder
	}
	name, err := url.QueryUnescape(v[:sep])
	if err != nil {
		name = v[:sep]
	}
	if slices.Contains(PublicHeaders, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))) {
		return v
	}
	return v[:sep+1] + Placeholder
}

// embedded redacts a URL given as a parameter value: its userinfo password up to the last '@',
// and well-known webhook token paths.
func embedded(v string) string {
	if i := strings.Index(v, "//"); i >= 0 {
		rest := v[i+2:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if name, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
				v = v[:i+2] + name + ":" + Placeholder + rest[at:]
			}
		}
	}
	return webhookPaths(v)
}

// dsn redacts a MySQL DSN the way go-sql-driver/mysql splits it: the password runs from the
// first ':' to the '@' before the network ("@tcp(", "@unix("), else to the last '@'.
func dsn(q string, sh Shape) string {
	at := dsnAt(q)
	if at < 0 {
		return queryPart(q, sh)
	}
	user, rest := q[:at], q[at:]
	if name, _, hasPassword := strings.Cut(user, ":"); hasPassword {
		user = name + ":" + Placeholder
	}
	if addr, params, ok := strings.Cut(rest, "?"); ok {
		return user + addr + "?" + queryPart(params, sh)
	}
	return user + rest
}

// DSNPassword returns the password of a MySQL DSN as go-sql-driver/mysql would read it, "" when
// it has none.
func DSNPassword(q string) string {
	at := dsnAt(q)
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(q[:at], ":")
	return pw
}

// dsnAt is the index of the '@' that ends a MySQL DSN's user and password: the one before the
// network ("@tcp(", "@unix("), else the last; -1 when there is none.
func dsnAt(q string) int {
	at := -1
	for _, n := range []string{"@tcp(", "@tcp4(", "@tcp6(", "@unix("} {
		if i := strings.LastIndex(q, n); i > at {
			at = i
		}
	}
	if at < 0 {
		at = strings.LastIndex(q, "@")
	}
	return at
}
