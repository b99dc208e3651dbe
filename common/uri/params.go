package uri

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldproject/herald/common/redact"
)

// Param describes one parameter a sink or source accepts. The same definitions drive parsing,
// "did you mean" suggestions, redaction and the generated reference (herald --help, docs/sinks).
type Param struct {
	Name    string
	Default string // shown in help; also returned by String when the parameter is absent
	Help    string
	Example string
	// Repeatable parameters may be given several times (header=A=1&header=B=2).
	Repeatable bool
	// Secret parameters are redacted in every log line and in --help.
	Secret bool
	// Aliases are other names read as this parameter: legacy spellings, and the names
	// kube-eventer's sinks used (cacert for ca_file). Giving two of them is an error.
	Aliases []string
	// passthrough marks a parameter the sink did not declare but passes on (Passthrough).
	passthrough bool
}

// Params reads the parameters of one sink or source. Every accessor records the name it was
// asked for; Err reports bad values and every parameter nobody asked for, with a suggestion.
// Errors name the owner ("--sink #2 (webhook)"), the parameter and the fix.
type Params struct {
	owner string
	v     url.Values
	spec  map[string]Param
	// alias maps each declared alias to its parameter's name; written maps a parameter's name
	// to the alias it was given under, so messages name what the user wrote.
	alias, written map[string]string
	used           map[string]bool
	errs           []error
	warns          []string
	// lenient: unknown parameters are warnings, not errors (a scheme kube-eventer has, whose
	// code ignored what it did not know).
	lenient bool
	// raw is the query as written, before percent-decoding ("" when not given).
	raw string
}

// NewParams wraps query values. owner names the sink or source in error messages; spec lists
// every parameter it accepts.
func NewParams(owner string, v url.Values, spec []Param) *Params {
	p := &Params{owner: owner, v: v, spec: map[string]Param{}, alias: map[string]string{}, written: map[string]string{}, used: map[string]bool{}}
	for _, s := range spec {
		p.spec[s.Name] = s
		for _, a := range s.Aliases {
			p.alias[a] = s.Name
		}
	}
	for _, s := range spec {
		for _, a := range s.Aliases {
			vals, ok := v[a]
			if !ok {
				continue
			}
			if _, both := v[s.Name]; both {
				p.Errorf(s.Name, "give it once", "given as both %q and %q, which mean the same", s.Name, a)
			} else {
				v[s.Name] = vals
				p.written[s.Name] = a
			}
			delete(v, a)
		}
	}
	return p
}

// SetRawQuery gives the query as written, before percent-decoding, so that RawValues can tell a
// "+" (which decodes to a space) from a space.
func (p *Params) SetRawQuery(raw string) { p.raw = raw }

// RawValues returns the values given for name as written in the query, not decoded; nil when
// SetRawQuery was not called.
func (p *Params) RawValues(name string) []string {
	p.mark(name)
	var out []string
	for part := range strings.SplitSeq(p.raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == name {
			out = append(out, v)
		}
	}
	return out
}

// IsLenient reports whether Lenient was called: the parameters belong to a scheme kube-eventer
// has, read as kube-eventer's code read them.
func (p *Params) IsLenient() bool { return p.lenient }

// Lenient makes unknown parameters warnings instead of errors: for the sink types kube-eventer
// has, whose code ignored parameters it did not know, so what kube-eventer ran with still runs.
// Bad values of known parameters stay errors unless the reader calls Warnf instead of Errorf.
func (p *Params) Lenient() { p.lenient = true }

// Warnf records a compatibility warning about parameter name: herald runs, but reads the value
// differently from what the user may expect. The message should say what kube-eventer did and
// what herald does. The daemon logs each one; herald check fails on any.
func (p *Params) Warnf(name, format string, args ...any) {
	p.warns = append(p.warns, fmt.Sprintf("%s: parameter %q: %s", p.owner, p.asWritten(name), fmt.Sprintf(format, args...)))
}

// Warnings returns the warnings recorded so far, unknown parameters included when lenient.
func (p *Params) Warnings() []string {
	out := append([]string(nil), p.warns...)
	if p.lenient {
		for _, k := range p.Unknown() {
			out = append(out, fmt.Sprintf("%s: unknown parameter %s ignored, as kube-eventer ignored it; %s", p.owner, p.UnknownName(k), p.unknownFix(k)))
		}
	}
	return out
}

// Owner is the name used in error messages.
func (p *Params) Owner() string { return p.owner }

// Has reports whether the parameter was given at all.
func (p *Params) Has(name string) bool {
	p.mark(name)
	_, ok := p.v[name]
	return ok
}

func (p *Params) mark(name string) {
	if _, ok := p.spec[name]; !ok {
		// A programming error: every parameter must be declared so help and suggestions know it.
		panic(fmt.Sprintf("uri: %s reads parameter %q that its spec does not declare", p.owner, name))
	}
	p.used[name] = true
}

// Errorf records an error about parameter name; fix says what to write instead.
func (p *Params) Errorf(name, fix, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.errs = append(p.errs, fmt.Errorf("%s: parameter %q: %s; %s", p.owner, p.asWritten(name), msg, fix))
}

// asWritten is the name the user gave parameter name under: its alias, if that is what was
// written.
func (p *Params) asWritten(name string) string {
	if a, ok := p.written[name]; ok {
		return a
	}
	return name
}

// String returns the last value given for name, or its declared default.
func (p *Params) String(name string) string {
	p.mark(name)
	vs := p.v[name]
	if len(vs) == 0 {
		return p.spec[name].Default
	}
	if len(vs) > 1 && !p.spec[name].Repeatable {
		if p.lenient {
			// kube-eventer's sinks read opts[name][0].
			p.Warnf(name, "given %d times; kube-eventer used the first value and ignored the others, and so does herald; give it once", len(vs))
			return vs[0]
		}
		p.Errorf(name, "give it once", "given %d times", len(vs))
	}
	return vs[len(vs)-1]
}

// List returns every value of a repeatable parameter, each also split on commas, empty items
// kept only when keepEmpty (namespaces=a,"" means "a and cluster-scoped").
func (p *Params) List(name string) []string {
	p.mark(name)
	var out []string
	for _, v := range p.v[name] {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == `""` {
				item = ""
			} else if item == "" {
				continue
			}
			out = append(out, item)
		}
	}
	if len(p.v[name]) == 0 && p.spec[name].Default != "" {
		return strings.Split(p.spec[name].Default, ",")
	}
	return out
}

// Values returns every value of a repeatable parameter as given (no comma splitting).
func (p *Params) Values(name string) []string {
	p.mark(name)
	return p.v[name]
}

// Bool parses true/false/1/0/yes/no; absent means the declared default (or false).
func (p *Params) Bool(name string) bool {
	s := p.String(name)
	if s == "" {
		return false
	}
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	p.Errorf(name, "write true or false", "%q is not a boolean", s)
	return false
}

// Int parses a whole number within [min, max].
func (p *Params) Int(name string, min, max int) int {
	s := p.String(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		p.Errorf(name, fmt.Sprintf("write a whole number from %d to %d", min, max), "%q is out of range or not a number", s)
		return 0
	}
	return n
}

// Duration parses a Go duration ("500ms", "30s", "10m"); a bare number is taken as seconds.
func (p *Params) Duration(name string) time.Duration {
	s := p.String(name)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.Errorf(name, `write a duration such as "30s" or "5m"`, "%q is not a duration", s)
		return 0
	}
	return d
}

// Regexps compiles every value of a repeatable regexp parameter.
func (p *Params) Regexps(name string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, s := range p.Values(name) {
		re, err := regexp.Compile(s)
		if err != nil {
			p.Errorf(name, "fix the regular expression (Go RE2 syntax)", "%q does not compile: %v", s, err)
			continue
		}
		out = append(out, re)
	}
	return out
}

// OneOf returns the value if it is one of allowed (case-insensitive), else records an error.
func (p *Params) OneOf(name string, allowed ...string) string {
	s := p.String(name)
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	if s == "" {
		return ""
	}
	p.Errorf(name, "write one of "+strings.Join(allowed, ", ")+suggest(s, allowed), "%q is not allowed", s)
	return ""
}

// Unknown returns the parameters that were given but are not in the spec, sorted.
func (p *Params) Unknown() []string {
	var out []string
	for k := range p.v {
		if _, ok := p.spec[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Suggest returns the declared parameter nearest to name, or "" when none is close.
func (p *Params) Suggest(name string) string {
	var names []string
	for k, spec := range p.spec {
		if k != name && !spec.passthrough {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return nearest(name, names)
}

// Err returns every recorded error plus one per unknown parameter (unless Lenient). Call it once
// all parameters have been read.
func (p *Params) Err() error {
	errs := append([]error(nil), p.errs...)
	if !p.lenient {
		for _, k := range p.Unknown() {
			errs = append(errs, fmt.Errorf("%s: unknown parameter %s; %s", p.owner, p.UnknownName(k), p.unknownFix(k)))
		}
	}
	return errors.Join(errs...)
}

// UnknownName is how messages name the unknown parameter k: quoted, unless it may be the piece
// of a secret cut at a literal '&' (it follows a secret parameter, or is no plain word); then
// by its position only.
func (p *Params) UnknownName(k string) string {
	if p.Suggest(k) != "" {
		return strconv.Quote(k) // a misspelt parameter
	}
	if prev := p.before(k); prev != "" && !lowerWord(k) {
		return fmt.Sprintf("(not named: it follows %s=, whose value may hold a literal '&'; write '&' in a value as %%26)", prev)
	}
	if !PlainName(k) {
		return "(not named: its name holds characters no parameter has, maybe part of a secret; write '&' in a value as %26)"
	}
	return strconv.Quote(k)
}

// before returns the secret parameter written right before k in the query, "" when there is
// none.
func (p *Params) before(k string) string {
	prev := ""
	for part := range strings.SplitSeq(p.raw, "&") {
		key, _, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if name == k {
			return prev
		}
		prev = ""
		if s, ok := p.spec[name]; ok && s.Secret {
			prev = name
		}
	}
	return ""
}

// lowerWord and PlainName are redact's checks: the same words are named or not in messages
// as in the printed --sink value.
func lowerWord(k string) bool { return redact.LowerWord(k) }

// PlainName reports whether k is written as parameter names are: letters, digits, _ - and .
func PlainName(k string) bool { return k != "" && redact.PlainWord(k) }

func (p *Params) unknownFix(k string) string {
	if p.Suggest(k) == "" && (!PlainName(k) || p.before(k) != "" && !lowerWord(k)) {
		return "remove it, or percent-encode the value before it"
	}
	fix := "remove it"
	if s := p.Suggest(k); s != "" {
		fix = fmt.Sprintf("did you mean %q?", s)
	}
	return fix + " (herald sinks lists every parameter)"
}

func suggest(s string, allowed []string) string {
	if n := nearest(s, allowed); n != "" {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}

// Nearest returns the candidate within edit distance 2 (or a third of the length) of s, or "".
func Nearest(s string, candidates []string) string { return nearest(s, candidates) }

// Distance is the Levenshtein edit distance between a and b.
func Distance(a, b string) int { return distance(a, b) }

// nearest returns the candidate within edit distance 2 (or a third of the length) of s.
func nearest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := distance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if l := len(s) / 3; l > limit {
		limit = l
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Passthrough accepts the unknown parameters that are not near-misses of a declared one and
// returns them: a sink that sends to the target URL (webhook) keeps them in that URL, as
// kube-eventer did. Near-misses ("levl") stay errors with a suggestion.
func (p *Params) Passthrough() []string {
	var out []string
	for _, k := range p.Unknown() {
		if p.Suggest(k) == "" {
			out = append(out, k)
		}
	}
	// Marked first, all of them, so that the check below sees a passed-through secret
	// parameter before the one that follows it, whatever their order here.
	for _, k := range out {
		// A receiver's own parameter may be its key (Azure Functions' code=): redact it.
		p.spec[k] = Param{Name: k, Secret: true, passthrough: true}
		p.used[k] = true
	}
	for _, k := range out {
		if prev := p.before(k); prev != "" && !lowerWord(k) {
			p.Warnf(prev, "the parameter after it is passed to the receiver; if the value of %s holds a literal '&', it was cut there: write '&' in a value as %%26", prev)
		}
	}
	return out
}

// IsDeclared reports whether the sink declares name, or declares it as an alias (Passthrough's
// parameters are not declared).
func (p *Params) IsDeclared(name string) bool {
	s, ok := p.lookup(name)
	return ok && !s.passthrough
}

// lookup finds the declared parameter name is, or is an alias of.
func (p *Params) lookup(name string) (Param, bool) {
	if n, ok := p.alias[name]; ok {
		name = n
	}
	s, ok := p.spec[name]
	return s, ok
}

// IsSecret reports whether name's values must not be shown: a parameter declared Secret, one
// accepted by Passthrough, or one not declared at all (a misspelt secret parameter, or the piece
// of a secret cut at a literal '&').
func (p *Params) IsSecret(name string) bool {
	s, declared := p.lookup(name)
	return !declared || s.Secret
}

// SecretValues returns the values given for every parameter IsSecret reports, as decoded.
func (p *Params) SecretValues() []string {
	var out []string
	for name, vs := range p.v {
		if p.IsSecret(name) {
			out = append(out, vs...)
		}
	}
	return out
}

// SecretNames lists the parameters whose values must not be logged: those declared Secret and
// those accepted by Passthrough.
func (p *Params) SecretNames() []string {
	var out []string
	for name, s := range p.spec {
		if s.Secret {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
