// Package uri parses kube-eventer style --sink and --source values ("scheme:target?params") into
// a scheme, a target URL and typed, validated parameters.
package uri

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
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
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Parse splits "scheme:target?params", expands ${NAME} from the environment and parses the target.
// A reference to an unset variable is an error: a sink that silently got an empty password would
// fail much later and much less clearly.
func Parse(flagName, value string) (*URI, error) {
	scheme, rest, _ := strings.Cut(value, ":")
	if scheme == "" {
		return nil, fmt.Errorf("--%s=%q: missing the scheme before ':'; write it as SCHEME:TARGET?PARAMS, e.g. --%s=webhook:http://receiver:8080/events?level=Warning", flagName, value, flagName)
	}
	if strings.ContainsAny(scheme, "/?&=") {
		return nil, fmt.Errorf("--%s=%q: %q is not a scheme; write it as SCHEME:TARGET?PARAMS, e.g. --%s=webhook:http://receiver:8080/events", flagName, value, scheme, flagName)
	}
	var missing []string
	expanded := envRef.ReplaceAllStringFunc(rest, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("--%s=%s:...: environment variable %s is not set; set it (for example from a Secret with env.valueFrom.secretKeyRef) or remove the ${%s} reference", flagName, scheme, strings.Join(missing, ", "), missing[0])
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
	return &URI{Scheme: scheme, Target: target, Raw: value}, nil
}

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

// EnvRefs are the names of the ${NAME} references in a raw --sink or --source value, in order,
// each once.
func EnvRefs(raw string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range envRef.FindAllStringSubmatch(raw, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}
