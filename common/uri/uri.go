// Package uri parses kube-eventer style --sink and --source values ("scheme:target?params") into
// a scheme, a target URL and typed, validated parameters.
package uri

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// URI is one parsed --sink or --source value.
type URI struct {
	// Scheme is the part before the first colon: "webhook", "kafka", ...
	Scheme string
	// Target is the rest, after ${ENV} expansion, parsed as a URL. Its query holds the parameters.
	Target *url.URL
	// Raw is the value as given on the command line, before expansion (safe to log only after
	// redact.URI).
	Raw string
	// Warnings are what herald reads as kube-eventer did but the user should hear about: a
	// reference to an unset environment variable, expanded to nothing. They never hold a value
	// and do not name the flag; the caller puts the sink or source in front.
	Warnings []string
}

// Parse splits "scheme:target?params", expands $NAME and ${NAME} from the environment and parses
// the target.
//
// Expansion is kube-eventer's (common/flags: os.ExpandEnv over everything after the scheme), so
// a value means what it meant there: $NAME and ${NAME} expand, a reference to an unset variable
// expands to nothing, and a "$" not followed by a name stays. An unset variable is a warning, not
// an error, because kube-eventer started with it.
func Parse(flagName, value string) (*URI, error) {
	scheme, rest, _ := strings.Cut(value, ":")
	if scheme == "" {
		return nil, fmt.Errorf("--%s=%q: missing the scheme before ':'; write it as SCHEME:TARGET?PARAMS, e.g. --%s=webhook:http://receiver:8080/events?level=Warning", flagName, value, flagName)
	}
	if strings.ContainsAny(scheme, "/?&=") {
		return nil, fmt.Errorf("--%s=%q: %q is not a scheme; write it as SCHEME:TARGET?PARAMS, e.g. --%s=webhook:http://receiver:8080/events", flagName, value, scheme, flagName)
	}
	var missing, whole []string
	lookup := func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	}
	// A reference that is a parameter's value (key=${ROBOT_KEY}) is taken whole: '&', '#' and
	// '+' in the variable are escaped, so a secret holding them is read as it is. kube-eventer
	// cut such a value at '&' or '#' and read '+' as a space, sending another key than the one
	// in the Secret. A reference elsewhere (the whole URL, or several parameters) expands as is.
	var userinfo, dsn []string
	expanded := expandValues(rest, lookup, func(name string) {
		if !slices.Contains(whole, name) {
			whole = append(whole, name)
		}
	}, func(name string) {
		if !slices.Contains(userinfo, name) {
			userinfo = append(userinfo, name)
		}
	}, func(name string) {
		if !slices.Contains(dsn, name) {
			dsn = append(dsn, name)
		}
	})
	var warnings []string
	for _, name := range missing {
		if envName(name) || strings.Contains(rest, "${"+name+"}") {
			warnings = append(warnings, fmt.Sprintf("environment variable %s is not set, so $%s expands to nothing (as kube-eventer expanded it); "+
				"set it (for example from a Secret with env.valueFrom.secretKeyRef), or write %%24 for a literal $", name, braced(name)))
		} else {
			// Not named: a literal $ in a password reads as a reference, and the name is part of it.
			warnings = append(warnings, "a $ followed by a name reads as an environment variable that is not set, and expands to nothing (as kube-eventer expanded it); "+
				"if the value holds a literal $ (a password), write it as %24")
		}
	}
	for _, name := range dsn {
		warnings = append(warnings, fmt.Sprintf("the value of environment variable %s holds '#' or '&', which end a MySQL DSN in the --sink's query (kube-eventer cut it there too), so the DSN herald reads is not the one in the Secret; "+
			"choose a password without them", name))
	}
	for _, name := range userinfo {
		warnings = append(warnings, fmt.Sprintf("the value of environment variable %s, in the URL's user:password@, holds characters a URL reserves (such as @ / : # %% or a space): kube-eventer pasted it as is, which broke the URL (another host, a cut path); "+
			"herald percent-encodes it, so the password is sent as the Secret holds it", name))
	}
	for _, name := range whole {
		warnings = append(warnings, fmt.Sprintf("the value of environment variable %s holds '&', '#' or '+': kube-eventer cut a parameter's value there (or read + as a space); "+
			"herald reads the variable whole, as the Secret holds it", name))
	}
	// A % that does not start a %XX escape is a literal (index=kube-events-%Y.%m.%d, a password
	// holding %): keep it instead of refusing the whole value.
	expanded = escapeStrayPercent(expanded)
	target, err := url.Parse(expanded)
	if err != nil {
		// url errors quote the whole input, which may hold an expanded secret.
		return nil, fmt.Errorf("--%s=%s:...: the target is not a valid URL (%s); percent-encode reserved characters such as %% # & in values", flagName, scheme, describeURLError(err))
	}
	if _, err := url.ParseQuery(target.RawQuery); err != nil {
		// Query() would silently drop the bad pair; the error text holds the value, maybe a secret.
		return nil, fmt.Errorf("--%s=%s:...: a parameter is not validly percent-encoded; write %%25 for %%, %%26 for & and %%23 for # inside values (after ${ENV} expansion too)", flagName, scheme)
	}
	return &URI{Scheme: scheme, Target: target, Raw: value, Warnings: warnings}, nil
}

// expandValues expands $NAME and ${NAME} in rest (everything after "scheme:") as os.Expand
// does, except that the expansion of a reference inside a query parameter's value has its '&',
// '#' and '+' escaped (escaped is told the name of each such variable that held one), and the
// expansion of a reference inside the URL's userinfo (user:${PASSWORD}@host) is percent-encoded
// whole (inUserinfo is told the name of each variable that needed it). inDSN is told each
// variable holding '&' or '#' in a query item without '=' (a MySQL DSN), where they cut it.
func expandValues(rest string, lookup func(string) string, escaped, inUserinfo, inDSN func(string)) string {
	target, query, hasQuery := strings.Cut(rest, "?")
	out := expandTarget(target, lookup, inUserinfo)
	if !hasQuery {
		return out
	}
	items := strings.Split(query, "&")
	for i, item := range items {
		k, v, hasValue := strings.Cut(item, "=")
		if !hasValue {
			// A MySQL DSN (mysql:?USER:${PASSWORD}@tcp(...)/DB) is read raw, not decoded, so
			// nothing can be escaped here: a '#' or '&' in the variable ends the DSN.
			items[i] = os.Expand(item, func(name string) string {
				val := lookup(name)
				if strings.ContainsAny(val, "&#") {
					inDSN(name)
				}
				return val
			})
			continue
		}
		items[i] = os.Expand(k, lookup) + "=" + os.Expand(v, func(name string) string {
			val := lookup(name)
			if strings.ContainsAny(val, "&#+") {
				escaped(name)
				val = strings.NewReplacer("&", "%26", "#", "%23", "+", "%2B").Replace(val)
			}
			return val
		})
	}
	return out + "?" + strings.Join(items, "&")
}

// expandTarget expands the part before the query. References in the userinfo, between "//" and
// the last '@' of the authority as written (before expansion), are percent-encoded, since a
// password there may hold '@', '/', ':', '#' or '%'; the rest expands as is (a variable may hold
// a whole URL, or several path segments).
func expandTarget(target string, lookup func(string) string, inUserinfo func(string)) string {
	start := strings.Index(target, "//")
	if start < 0 {
		return os.Expand(target, lookup)
	}
	start += 2
	end := len(target)
	if i := strings.IndexAny(target[start:], "/#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(target[start:end], "@")
	if at < 0 {
		return os.Expand(target, lookup)
	}
	at += start
	info := os.Expand(target[start:at], func(name string) string {
		val := lookup(name)
		if enc := escapeUserinfo(val); enc != val {
			inUserinfo(name)
			return enc
		}
		return val
	})
	return os.Expand(target[:start], lookup) + info + os.Expand(target[at:], lookup)
}

// escapeUserinfo percent-encodes every byte of s but the unreserved ones (RFC 3986: letters,
// digits, - . _ ~), which is always a valid user or password in a URL.
func escapeUserinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// envName reports whether name is written as environment variables usually are (upper case,
// digits, _), so a warning may name it: a mixed-case name after a $ is more likely part of a
// password.
func envName(name string) bool {
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return name != ""
}

// braced writes a variable name as the reference that names it: {NAME}.
func braced(name string) string { return "{" + name + "}" }

// escapeStrayPercent writes every % that does not start a %XX escape as %25.
func escapeStrayPercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			b.WriteString("%25")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// describeURLError says what is wrong with a URL without the part net/url quotes ("invalid port
// \":p4ss\" after host"): that part is often a password with a '/' or '#' in it.
func describeURLError(err error) string {
	ue, ok := err.(*url.Error)
	if !ok {
		return "parse error"
	}
	msg := ue.Err.Error()
	if i := strings.IndexAny(msg, "\"`"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
		if j := strings.LastIndexAny(ue.Err.Error(), "\"`"); j > i {
			msg += " " + strings.TrimSpace(ue.Err.Error()[j+1:])
		}
	}
	msg = strings.TrimSuffix(strings.TrimPrefix(msg, "net/url: "), " ")
	if strings.Contains(msg, "userinfo") || strings.Contains(msg, "port") || strings.Contains(msg, "host") {
		msg += "; a password holding / # ? @ or a space must be percent-encoded (%2F %23 %3F %40 %20), in the environment variable too when it comes from ${ENV}"
	}
	return msg
}

// EnvRefs are the names of the $NAME and ${NAME} references in a raw --sink or --source value,
// in order, each once: the references Parse expands.
func EnvRefs(raw string) []string {
	var out []string
	_, rest, _ := strings.Cut(raw, ":")
	os.Expand(rest, func(name string) string {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
		return ""
	})
	return out
}
