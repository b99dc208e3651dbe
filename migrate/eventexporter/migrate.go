// Package eventexporter reads a kubernetes-event-exporter config (resmoio/kubernetes-event-exporter,
// the config.yaml of its ConfigMap) and converts it to the herald flags, or Helm values, that
// deliver the same events to the same places: `herald migrate event-exporter`. Reading never
// panics on any input: a config that cannot be read is an error naming its path and line.
package eventexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/heraldproject/herald/sinks"
	// The sink Definitions every parameter herald migrate writes is checked against, and Verify
	// builds each --sink with.
	_ "github.com/heraldproject/herald/sinks/all"
)

// finding is one line of the report: something herald cannot express (a warning, exit code 1)
// or a difference worth knowing that loses nothing the config asked for (a note).
type finding struct {
	path    string
	line    int
	msg     string
	warning bool
}

// envVar is a variable the --sink values refer to.
type envVar struct {
	name string
	from string
	// existing: the exporter's config already referred to it (${NAME}); otherwise herald migrate
	// made it up to keep a secret out of the output.
	existing bool
}

// Migration is one config converted: the flags and --sink values herald needs, and the findings
// (what could not be carried over, and notes). Read makes one; Verify, WriteArgs, WriteHelm and
// Report print it.
type Migration struct {
	file     string
	findings []finding
	seen     map[string]bool
	env      []envVar
	flags    []string
	sinks    []*sinkSpec
}

func (m *Migration) add(y ynode, warning bool, format string, args ...any) {
	f := finding{path: y.path, msg: fmt.Sprintf(format, args...), warning: warning}
	if y.n != nil {
		f.line = y.n.Line
	}
	key := fmt.Sprintf("%v|%s|%s", warning, f.path, f.msg)
	if m.seen[key] {
		return
	}
	m.seen[key] = true
	m.findings = append(m.findings, f)
}

// warn records a construct herald cannot express.
func (m *Migration) warn(y ynode, format string, args ...any) { m.add(y, true, format, args...) }

// note records a difference that needs no action to keep what the config asked for.
func (m *Migration) note(y ynode, format string, args ...any) { m.add(y, false, format, args...) }

func (m *Migration) addEnv(name, from string, existing bool) {
	for _, e := range m.env {
		if e.name == name {
			return
		}
	}
	m.env = append(m.env, envVar{name: name, from: from, existing: existing})
}

func (m *Migration) envTaken(name string) bool {
	for _, e := range m.env {
		if e.name == name {
			return true
		}
	}
	return false
}

// Read maps a kubernetes-event-exporter config (the YAML of its ConfigMap's config.yaml) to
// herald sinks and flags; file names it in the findings. An error means the config cannot be
// read at all.
func Read(data []byte, file string) (m *Migration, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err // yaml.v3 errors name the line: "yaml: line 7: ..."
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the file is empty; give the exporter's config.yaml (the ConfigMap's data, not the ConfigMap)")
	}
	if err := checkAliases(&doc); err != nil {
		return nil, err
	}
	m = &Migration{file: file, seen: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*configError)
			if !ok {
				panic(r)
			}
			m, err = nil, ce
		}
	}()
	root := ynode{n: doc.Content[0]}
	if isConfigMap(root) {
		return nil, errors.New("this is a Kubernetes ConfigMap; give the exporter's config.yaml inside it (kubectl get configmap NAME -o jsonpath='{.data.config\\.yaml}' > config.yaml)")
	}
	var route, receivers ynode
	for _, f := range root.fields() {
		switch f.key {
		case "route":
			route = f.val
		case "receivers":
			receivers = f.val
		case "clusterName":
			if v := f.val.str(); v != "" {
				m.flags = append(m.flags, "--cluster-name="+v)
			}
		case "namespace":
			if v := f.val.str(); v != "" {
				m.flags = append(m.flags, "--source=kubernetes:https://kubernetes.default?namespaces="+queryEscape(v))
			}
		case "leaderElection":
			m.leaderElection(f.val)
		case "maxEventAgeSeconds", "throttlePeriod":
			if f.val.integer() != 0 {
				m.warn(f.val, "herald has no event age cut-off: on start it resumes from its checkpoint (--checkpoint) and delivers what it has not delivered yet, and ignores older events only when it has no checkpoint. Remove this setting")
			}
		case "kubeQPS", "kubeBurst":
			if f.val.str() != "" && f.val.str() != "0" {
				m.warn(f.val, "herald watches events with one long-lived watch and looks up no objects, so it needs no client rate limit setting; remove it (the exporter needed it for its object lookups)")
			}
		case "logLevel":
			// The exporter's zerolog levels; herald logs with glog: info and above, more with --v.
			switch v := strings.ToLower(f.val.str()); v {
			case "", "info":
			case "debug", "trace":
				m.flags = append(m.flags, "--v=2")
				m.note(f.val, "herald's --v=2 adds its detail lines (each sink's requests, the watch), as the exporter's %s level did", v)
			default:
				m.warn(f.val, "herald has no level above info to set: it prints a few info lines per sink at start and at each outage, with warnings and errors. Remove this setting")
			}
		case "logFormat":
			switch v := strings.ToLower(f.val.str()); v {
			case "json":
				m.flags = append(m.flags, "--log-format=json")
			case "", "pretty":
				// herald's default text lines are what "pretty" was for: a person reading them.
			default:
				m.note(f.val, "not a log format the exporter knows (json, pretty); herald writes its text lines")
			}
		case "metricsNamePrefix":
			if f.val.str() != "" {
				m.warn(f.val, "herald's metrics are named herald_* (docs/operations.md); dashboards and alerts on the exporter's metrics need the new names")
			}
		case "omitLookup", "cacheSize":
			m.note(f.val, "herald does not look up involved objects, so it has no lookup or its cache; ignored")
		default:
			m.note(f.val, "not a setting the exporter knows; ignored")
		}
	}
	if route.n == nil || route.isNull() {
		m.warn(root, "no route: the exporter sent nothing anywhere; nothing to migrate")
		return m, nil
	}
	m.route(ynode{n: route.n, path: "route"}, receivers)
	return m, nil
}

func isConfigMap(root ynode) bool {
	if root.resolved().Kind != yaml.MappingNode {
		return false
	}
	for _, f := range root.fields() {
		if f.key == "kind" && f.val.resolved().Kind == yaml.ScalarNode && f.val.str() == "ConfigMap" {
			return true
		}
	}
	return false
}

func (m *Migration) leaderElection(y ynode) {
	for _, f := range y.fields() {
		switch f.key {
		case "enabled":
			if f.val.boolean() {
				m.flags = append(m.flags, "--leader-elect")
			}
		case "leaderElectionID":
			if v := f.val.str(); v != "" {
				m.note(f.val, "herald's Lease is named \"herald\" (in $POD_NAMESPACE or --leader-elect-namespace); %q is not used", v)
			}
		default:
			m.note(f.val, "not a leaderElection field the exporter knows; ignored")
		}
	}
}

// route maps the route tree and the receivers it reaches to sinks.
func (m *Migration) route(route, receivers ynode) {
	targets := m.walkRoute(route, nil, nil)
	defined := map[string]ynode{}
	var order []string
	recv := ynode{n: receivers.n, path: "receivers"}
	for _, it := range recv.items() {
		name := fieldOf(it, "name").str()
		if _, dup := defined[name]; dup {
			m.warn(it, "a second receiver named %q; the exporter used the last one, and so does herald migrate", name)
		} else {
			order = append(order, name)
		}
		defined[name] = it
	}
	used := map[string]bool{}
	for _, t := range targets {
		if _, ok := defined[t.receiver]; !ok {
			m.warn(fieldOf(t.rule.node, "receiver"), "no receiver is named %q; the exporter could not deliver to it either. Fix the name", t.receiver)
			continue
		}
		used[t.receiver] = true
	}
	built := map[string]*sinkSpec{}
	for _, name := range order {
		if !used[name] {
			m.note(defined[name], "receiver %q is not reached by any route, so the exporter sent nothing to it; not migrated", name)
			continue
		}
		if s, ok := m.receiverSink(name, defined[name]); ok {
			built[name] = s
		}
	}
	count := map[string]int{}
	for _, t := range targets {
		base, ok := built[t.receiver]
		if !ok {
			continue
		}
		f := m.filterFor(t)
		if f.never {
			continue
		}
		count[t.receiver]++
		s := *base
		s.params = append([]param{}, base.params...)
		name := t.receiver
		if n := count[t.receiver]; n > 1 {
			name = fmt.Sprintf("%s-%d", t.receiver, n)
			m.note(t.rule.node, "receiver %q is reached by %d rules; the exporter sent an event once per matching rule, and so do these %d sinks (named %s, %s-2, ...)", t.receiver, n, n, t.receiver, t.receiver)
		}
		s.add("name", name)
		f.addTo(&s)
		m.sinks = append(m.sinks, &s)
	}
}

var refRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// value renders the --sink value; with placeholders, every ${NAME} is replaced by its stand-in.
func (s *sinkSpec) value(placeholders bool) string {
	var b strings.Builder
	b.WriteString(s.scheme + ":" + s.target)
	sep := "?"
	if strings.Contains(s.target, "?") {
		sep = "&"
	}
	for _, p := range s.params {
		if placeholders && p.file {
			continue
		}
		b.WriteString(sep + p.name + "=" + queryEscape(p.value))
		sep = "&"
	}
	out := b.String()
	if placeholders {
		out = refRE.ReplaceAllStringFunc(out, func(ref string) string {
			if v, ok := s.placeholders[refRE.FindStringSubmatch(ref)[1]]; ok {
				return v
			}
			return "placeholder"
		})
	}
	return out
}

// Verify runs every --sink value through herald's own parser (as herald check does, connecting
// to nothing), so a mapping mistake shows here and not in a failed rollout. A layout herald cannot
// render falls back to the whole event as JSON; a sink herald refuses is reported and left out.
func (m *Migration) Verify() {
	env := sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true}
	var ok []*sinkSpec
	for i, s := range m.sinks {
		err := buildCheck(i+1, s, env)
		if err != nil && s.layout != "" {
			m.warn(ynode{path: s.layout}, "herald cannot use this layout as its body template (%v); the sink posts the whole event as JSON instead ({{ toJson .Event }}). Rewrite the layout with herald's template functions (docs/templates.md) and set body_template", err)
			for j := range s.params {
				if s.params[j].name == "body_template" {
					s.params[j].value = "{{ toJson .Event }}"
				}
			}
			s.layout = ""
			err = buildCheck(i+1, s, env)
		}
		if err != nil {
			m.warn(ynode{path: s.from}, "herald refuses the --sink made from receiver %q, so it is left out: %v", s.receiver, err)
			continue
		}
		ok = append(ok, s)
	}
	m.sinks = ok
}

func buildCheck(index int, s *sinkSpec, env sinks.Env) error {
	b, err := sinks.Build(index, s.value(true), env)
	if err != nil {
		return err
	}
	return b.Sink.Close()
}

// WriteArgs prints the flags, one per line, shell-quoted, joined with backslashes.
func (m *Migration) WriteArgs(w io.Writer) {
	var lines []string
	for _, f := range m.flags {
		lines = append(lines, shellQuote(f))
	}
	for _, s := range m.sinks {
		lines = append(lines, shellQuote("--sink="+s.value(false)))
	}
	fmt.Fprintln(w, strings.Join(lines, " \\\n"))
}

// WriteHelm prints values for deploy/helm/herald.
func (m *Migration) WriteHelm(w io.Writer, secretName string) {
	type secretKeyRef struct {
		Name string `yaml:"name"`
		Key  string `yaml:"key"`
	}
	type valueFrom struct {
		SecretKeyRef secretKeyRef `yaml:"secretKeyRef"`
	}
	type envEntry struct {
		Name      string    `yaml:"name"`
		ValueFrom valueFrom `yaml:"valueFrom"`
	}
	type leader struct {
		Enabled bool `yaml:"enabled"`
	}
	var values struct {
		Source         string     `yaml:"source,omitempty"`
		ClusterName    string     `yaml:"clusterName,omitempty"`
		LeaderElection *leader    `yaml:"leaderElection,omitempty"`
		Sinks          []string   `yaml:"sinks"`
		Env            []envEntry `yaml:"env,omitempty"`
	}
	for _, f := range m.flags {
		switch {
		case strings.HasPrefix(f, "--source="):
			values.Source = strings.TrimPrefix(f, "--source=")
		case strings.HasPrefix(f, "--cluster-name="):
			values.ClusterName = strings.TrimPrefix(f, "--cluster-name=")
		case f == "--leader-elect":
			values.LeaderElection = &leader{Enabled: true}
		}
	}
	values.Sinks = []string{}
	for _, s := range m.sinks {
		values.Sinks = append(values.Sinks, s.value(false))
	}
	for _, e := range m.env {
		values.Env = append(values.Env, envEntry{Name: e.name, ValueFrom: valueFrom{secretKeyRef{Name: secretName, Key: e.name}}})
	}
	fmt.Fprintf(w, "# Values for deploy/helm/herald, from %s by `herald migrate event-exporter --format=helm`.\n", m.file)
	if len(m.env) > 0 {
		fmt.Fprintf(w, "# The env entries read Secret %q; create it with the values from the exporter's config:\n", secretName)
		fmt.Fprintf(w, "#   kubectl create secret generic %s", secretName)
		for _, e := range m.env {
			fmt.Fprintf(w, " \\\n#     --from-literal=%s=...", e.name)
		}
		fmt.Fprintln(w)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(values)
	_ = enc.Close()
	_, _ = w.Write(b.Bytes())
}

// Report prints the findings, the variables to set and a summary; it returns the exit code.
func (m *Migration) Report(w io.Writer) int {
	warnings := 0
	for _, f := range m.findings {
		kind := "note"
		if f.warning {
			kind = "warning"
			warnings++
		}
		where := f.path
		if where == "" {
			where = "(top level)"
		}
		if f.line > 0 {
			where += fmt.Sprintf(" (%s:%d)", m.file, f.line)
		}
		fmt.Fprintf(w, "%s: %s: %s\n", kind, where, f.msg)
	}
	for _, e := range m.env {
		if e.existing {
			fmt.Fprintf(w, "env: set %s for herald too (the exporter's config refers to it at %s)\n", e.name, e.from)
		} else {
			fmt.Fprintf(w, "secret: set %s from a Secret to the value of %s (not printed here)\n", e.name, e.from)
		}
	}
	switch {
	case warnings > 0:
		fmt.Fprintf(w, "herald migrate: %d sink(s); %d thing(s) could not be carried over exactly (warnings above)\n", len(m.sinks), warnings)
		return 1
	default:
		fmt.Fprintf(w, "herald migrate: %d sink(s); everything was carried over\n", len(m.sinks))
		return 0
	}
}

// queryEscape escapes what would break a query value in a --sink URI (& # + ; % space and
// non-printable bytes), and leaves the rest readable: regexps, commas, slashes, ${NAME}.
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && strftime(s[i+1:]) {
			b.WriteByte(c) // index=kube-events-%Y.%m.%d reads better unescaped; herald keeps it
			continue
		}
		if c <= ' ' || c >= 0x7f || strings.IndexByte("&#+;%", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// strftime reports whether rest (after a %) starts a %Y %m %d %H field that herald's URI parser
// keeps as a literal % (it is not a %XX escape).
func strftime(rest string) bool {
	if rest == "" || strings.IndexByte("YmdH", rest[0]) < 0 {
		return false
	}
	return len(rest) < 2 || !isHexDigit(rest[0]) || !isHexDigit(rest[1])
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// shellQuote quotes s for a POSIX shell; ${NAME} stays unexpanded, for herald to expand.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
