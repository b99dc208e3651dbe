// Package filter decides which events a sink receives. Every sink accepts the same filter
// parameters, parsed and applied here, so a filter means the same thing on every sink.
package filter

import (
	"regexp"
	"strings"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
)

// Params are the filter parameters every sink accepts.
var Params = []uri.Param{
	{Name: "level", Default: "Warning", Example: "Normal",
		Help: `lowest event type delivered: "Warning" delivers Warning events only, "Normal" delivers Normal and Warning (a floor, as in kube-eventer). ` +
			`The default depends on the sink, as in kube-eventer's code: every type for webhook and the store sinks (log, kafka, elasticsearch, mysql, influxdb, sls, honeycomb), Warning for the others`},
	{Name: "namespaces", Repeatable: true, Example: "prod,payments,/^team-.*/",
		Help: `deliver only events about objects in these namespaces: exact names, or /regexp/ between slashes, comma-separated. Cluster-scoped objects (Nodes) have no namespace and pass only with "" in the list (namespaces=prod,"") or cluster_scoped=true`},
	{Name: "exclude_namespaces", Repeatable: true, Example: "kube-system,/-sandbox$/",
		Help: "drop events about objects in these namespaces (exact names or /regexp/)"},
	{Name: "cluster_scoped", Example: "true",
		Help: "with namespaces=, also deliver events about cluster-scoped objects (Nodes, PersistentVolumes)"},
	{Name: "kinds", Repeatable: true, Example: "Pod,Node",
		Help: "deliver only events whose involved object is of these kinds (exact, case-sensitive, comma-separated)"},
	{Name: "exclude_kinds", Repeatable: true, Example: "Lease",
		Help: "drop events whose involved object is of these kinds"},
	{Name: "reason", Repeatable: true, Example: "BackOff|OOMKilling",
		Help: `deliver only events whose reason matches one of these regexps (unanchored, as in kube-eventer; several reason= are OR-ed). Note: reason=[^Unhealthy] is a character class ("contains a character other than U,n,h,e,a,l,t,y"), not "not Unhealthy": write exclude_reason=^Unhealthy$ instead`},
	{Name: "exclude_reason", Repeatable: true, Example: "^Unhealthy$",
		Help: "drop events whose reason matches one of these regexps"},
}

// Filter is a compiled set of filter parameters. The zero value delivers Warning events only.
type Filter struct {
	normal bool // level=Normal: Normal and Warning
	// eventNamespace: namespaces and exclude_namespaces compare the Event's own namespace (where
	// a cluster-scoped object's events are recorded, usually "default"), not the involved
	// object's; kube-eventer's dingtalk and wechat sinks did.
	eventNamespace bool
	namespaces     *Namespaces
	excludeNS      *Namespaces
	clusterScoped  bool
	kinds          map[string]bool
	excludeKinds   map[string]bool
	reasons        []*regexp.Regexp
	excludeReason  []*regexp.Regexp
}

// FromParams reads the filter parameters the way dialect d reads them; errors and warnings are
// recorded in p.
func FromParams(p *uri.Params, d Dialect) *Filter {
	if d != Herald {
		return fromKubeEventer(p, d)
	}
	f := &Filter{}
	if p.Has("level") {
		switch lvl := p.OneOf("level", "Warning", "Normal"); lvl {
		case "Normal":
			f.normal = true
		}
	}
	f.namespaces = newMatcher(p, "namespaces", namespaceItems(p.Values("namespaces")))
	f.readCommon(p)
	f.kinds = set(p.List("kinds"))
	f.reasons = regexps(p, "reason", p.Values("reason"))
	return f
}

// readCommon reads herald's own filter parameters, which mean the same in every dialect.
func (f *Filter) readCommon(p *uri.Params) {
	f.excludeNS = newMatcher(p, "exclude_namespaces", namespaceItems(p.Values("exclude_namespaces")))
	f.clusterScoped = p.Bool("cluster_scoped")
	f.excludeKinds = set(p.List("exclude_kinds"))
	f.excludeReason = regexps(p, "exclude_reason", p.Values("exclude_reason"))
}

// regexps compiles the values of a regexp parameter. A "+" written in the query decodes to a
// space; that is almost never what a regexp means, so it is a warning.
func regexps(p *uri.Params, name string, values []string) []*regexp.Regexp {
	plusWarning(p, name)
	var out []*regexp.Regexp
	for _, s := range values {
		re, err := regexp.Compile(s)
		if err != nil {
			p.Errorf(name, "fix the regular expression (Go RE2 syntax)", "%q does not compile: %v", s, err)
			continue
		}
		out = append(out, re)
	}
	return out
}

// plusWarning warns once when a regexp parameter was written with a "+".
func plusWarning(p *uri.Params, name string) {
	for _, raw := range p.RawValues(name) {
		if strings.Contains(raw, "+") {
			p.Warnf(name, "`+` in a URI query is a space, so herald (like kube-eventer) reads this regexp with a space where you wrote +; write %%2B for a regexp +")
			return
		}
	}
}

// Match reports whether the sink should receive e.
func (f *Filter) Match(e *core.Event) bool {
	switch e.Type {
	case "Warning":
	case "Normal", "":
		if !f.normal {
			return false
		}
	default:
		// Unknown types are treated as Warning: better delivered than lost.
	}
	ns := e.InvolvedObject.Namespace
	if f.eventNamespace {
		ns = e.Namespace
	}
	if f.namespaces != nil {
		if ns == "" {
			if !f.clusterScoped && !f.namespaces.empty {
				return false
			}
		} else if !f.namespaces.Match(ns) {
			return false
		}
	}
	if f.excludeNS != nil && ns != "" && f.excludeNS.Match(ns) {
		return false
	}
	kind := e.InvolvedObject.Kind
	if f.kinds != nil && !f.kinds[kind] {
		return false
	}
	if f.excludeKinds[kind] {
		return false
	}
	if len(f.reasons) > 0 && !AnyMatch(f.reasons, e.Reason) {
		return false
	}
	if AnyMatch(f.excludeReason, e.Reason) {
		return false
	}
	return true
}

// AnyMatch reports whether one of res matches s.
func AnyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func set(items []string) map[string]bool {
	if len(items) == 0 {
		return nil
	}
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}

// Namespaces matches namespace names against items: exact names, /regexp/ items (the regexp
// between the slashes, unanchored), and "" for cluster-scoped objects, which have none. The
// zero value matches nothing.
type Namespaces struct {
	exact map[string]bool
	res   []*regexp.Regexp
	empty bool // "" was listed: cluster-scoped objects match
}

// NamespaceRegexp returns the regexp of a /regexp/ item; ok is false for an exact name.
func NamespaceRegexp(item string) (expr string, ok bool) {
	if len(item) >= 2 && strings.HasPrefix(item, "/") && strings.HasSuffix(item, "/") {
		return item[1 : len(item)-1], true
	}
	return "", false
}

// Add adds an item. A /regexp/ item that does not compile is not added: the error is
// regexp.Compile's.
func (m *Namespaces) Add(item string) error {
	if item == "" {
		m.empty = true
		return nil
	}
	if expr, ok := NamespaceRegexp(item); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return err
		}
		m.res = append(m.res, re)
		return nil
	}
	if m.exact == nil {
		m.exact = map[string]bool{}
	}
	m.exact[item] = true
	return nil
}

// Match reports whether namespace ns ("" for a cluster-scoped object) is one of the items.
func (m *Namespaces) Match(ns string) bool {
	return m.exact[ns] || ns == "" && m.empty || AnyMatch(m.res, ns)
}

// newMatcher reads a namespace parameter's items; nil when there are none. A bad regexp is
// recorded in p, and the item left out.
func newMatcher(p *uri.Params, name string, items []string) *Namespaces {
	if len(items) == 0 {
		return nil
	}
	m := &Namespaces{}
	for _, it := range items {
		if _, ok := NamespaceRegexp(it); ok {
			plusWarning(p, name)
		}
		if err := m.Add(it); err != nil {
			p.Errorf(name, "fix the regular expression between the slashes (Go RE2 syntax)", "%q does not compile: %v", it, err)
		}
	}
	return m
}

// namespaceItems splits namespace values on commas, except inside a /regexp/ item (so
// /^(a|b){1,2}$/ stays whole), trims spaces, and reads "" as the empty namespace.
func namespaceItems(values []string) []string {
	var out []string
	for _, v := range values {
		for v != "" {
			t := strings.TrimLeft(v, " ")
			n := strings.IndexByte(t, ',') // where this item ends: a comma, or -1 for the end
			if strings.HasPrefix(t, "/") {
				// A regexp item ends at a "/" followed (after spaces) by a comma or the end.
				for i := 1; i < len(t); i++ {
					if t[i] != '/' {
						continue
					}
					rest := strings.TrimLeft(t[i+1:], " ")
					if rest == "" {
						n = -1
						break
					}
					if rest[0] == ',' {
						n = len(t) - len(rest)
						break
					}
				}
			}
			if n < 0 {
				out = appendItem(out, t)
				break
			}
			out = appendItem(out, t[:n])
			v = t[n+1:]
		}
	}
	return out
}

func appendItem(out []string, item string) []string {
	item = strings.TrimSpace(item)
	switch item {
	case `""`:
		return append(out, "")
	case "":
		return out
	}
	return append(out, item)
}
