// Package redact keeps secrets (passwords, tokens, robot keys) out of logs, errors and --help.
package redact

import (
	"regexp"
	"strings"
)

// Placeholder replaces every secret.
const Placeholder = "<redacted>"

// Secret is a string that prints as <redacted>, so it can sit in a config struct that gets logged.
type Secret string

func (Secret) String() string                 { return Placeholder }
func (Secret) GoString() string               { return Placeholder }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Placeholder), nil }

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// secretNames are query parameter names whose values are always secrets, whatever the sink's
// spec says. Matching is case-insensitive.
var secretNames = []string{
	"key", "access_token", "accesstoken", "token", "sign", "secret", "password", "passwd", "pw", "pass",
	"api_key", "apikey", "corp_secret", "accesskeysecret", "esusersecret", "sasl_password", "client_secret",
}

var (
	userinfoRe = regexp.MustCompile(`(//[^/@:\s"']*):([^/@\s"']*)@`)
	queryRe    = regexp.MustCompile(`(?i)([?&;,\s"']|^)(` + strings.Join(secretNames, "|") + `)=([^&\s"',]*)`)
	// DSNs as go-sql-driver/mysql writes them: user:password@tcp(host)/db
	dsnRe = regexp.MustCompile(`([A-Za-z0-9_.\-]+):([^@\s/"']+)@(tcp|unix)\(`)
)

// Text replaces secrets found anywhere in s: URL userinfo passwords, MySQL DSN passwords, the
// values of secret-looking query parameters (key=, access_token=, sign=, secret=, password=, ...)
// and the token paths of well-known chat webhooks (Slack, Discord, Feishu, Office 365).
// Use it on every string that may carry a URL before it reaches a log line or an error.
func Text(s string, extraNames ...string) string {
	s = webhookPaths(s)
	s = userinfoRe.ReplaceAllString(s, "$1:"+Placeholder+"@")
	s = dsnRe.ReplaceAllString(s, "$1:"+Placeholder+"@$3(")
	s = queryRe.ReplaceAllString(s, "$1$2="+Placeholder)
	for _, n := range extraNames {
		s = replaceParam(s, n)
	}
	return s
}

// replaceParam replaces the value of every name=value in s that starts s or follows one of
// ?&;," ' or a space, up to the next & , " ' or space. name is matched as written: it may come
// from user input, so no regular expression is compiled from it (an invalid UTF-8 name would
// not compile).
func replaceParam(s, name string) string {
	if name == "" {
		return s
	}
	key := name + "="
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], key)
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		at := i + j
		if at > 0 && !strings.ContainsRune("?&;,\"' \t\n\f\r", rune(s[at-1])) {
			b.WriteString(s[i : at+1])
			i = at + 1
			continue
		}
		end := at + len(key)
		for end < len(s) && !strings.ContainsRune("& \t\n\f\r\"',", rune(s[end])) {
			end++
		}
		b.WriteString(s[i:at+len(key)] + Placeholder)
		i = end
	}
	return b.String()
}
