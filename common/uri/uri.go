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
	var missing []string
	expanded := os.Expand(rest, func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	})
	var warnings []string
	for _, name := range missing {
		warnings = append(warnings, fmt.Sprintf("environment variable %s is not set, so $%s expands to nothing (as kube-eventer expanded it); "+
			"set it (for example from a Secret with env.valueFrom.secretKeyRef), or write %%24 for a literal $", name, braced(name)))
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

func describeURLError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "parse error"
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
