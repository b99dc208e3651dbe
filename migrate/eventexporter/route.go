package eventexporter

import (
	"regexp"
	"strings"
)

// The exporter's routing (pkg/exporter/route.go): a route first applies its drop rules (any
// match drops the event for this route and all below it); then every match rule that matches
// sends the event to the rule's receiver; only when all of the route's match rules match does
// the event go down to the sub-routes. Every rule field is an unanchored regexp, and all of a
// rule's fields must match. herald has no tree: each --sink has one filter. So each (match rule
// with a receiver) becomes one sink whose filter is the AND of that rule, every match rule of
// every route above it, and the OR of every drop rule on the way.

// rule is one match or drop rule as written.
type rule struct {
	node ynode
	// regexp fields herald can express, by exporter name: namespace, kind, reason, type.
	re map[string]ynode
	// fields herald cannot express: labels, annotations, message, apiVersion, component, host,
	// minCount > 1.
	unmappable []ynode
	receiver   string
	empty      bool // no condition at all: matches every event
}

var ruleRegexpFields = []string{"namespace", "kind", "reason", "type", "message", "apiVersion", "component", "host"}

func (m *Migration) readRule(y ynode) *rule {
	r := &rule{node: y, re: map[string]ynode{}}
	conds := 0
	for _, f := range y.fields() {
		switch f.key {
		case "namespace", "kind", "reason", "type":
			if f.val.str() != "" {
				r.re[f.key] = f.val
				conds++
			}
		case "message", "apiVersion", "component", "host":
			if f.val.str() != "" {
				m.warn(f.val, "herald filters on namespace, kind, reason and type only; it cannot match the event's %s. Without it this sink receives more events than the exporter sent; narrow it with reason=/kinds= or drop the rule", f.key)
				r.unmappable = append(r.unmappable, f.val)
				conds++
			}
		case "labels", "annotations":
			if len(f.val.stringMap()) > 0 {
				m.warn(f.val, "herald does not look up the involved object's %s, so it cannot route on them. Without it this sink receives more events than the exporter sent; route by namespaces= or kinds= instead (for example one namespace per team)", f.key)
				r.unmappable = append(r.unmappable, f.val)
				conds++
			}
		case "minCount":
			if f.val.integer() > 1 {
				m.warn(f.val, "herald has no count threshold: it delivers an event from its first occurrence (and again when its count rises, throttled per sink). Without it this sink receives more events than the exporter sent")
				r.unmappable = append(r.unmappable, f.val)
				conds++
			}
		case "receiver":
			r.receiver = f.val.str()
		default:
			m.note(f.val, "not a rule field the exporter knows (it ignored it); ignored")
		}
	}
	r.empty = conds == 0
	return r
}

// routeTarget is one (route path, match rule with a receiver): a future --sink.
type routeTarget struct {
	receiver string
	rule     *rule
	matches  []*rule // match rules of the routes above, all of which must match
	drops    []*rule // drop rules of this route and the routes above, any of which drops
}

// walkRoute collects every routeTarget under y.
func (m *Migration) walkRoute(y ynode, matches, drops []*rule) []routeTarget {
	var own []*rule
	var out []routeTarget
	var subroutes ynode
	hasSub := false
	for _, f := range y.fields() {
		switch f.key {
		case "drop":
			for _, it := range f.val.items() {
				r := m.readRule(it)
				if r.receiver != "" {
					m.note(it, "a drop rule's receiver is ignored by the exporter; ignored")
				}
				drops = append(drops[:len(drops):len(drops)], r)
			}
		case "match":
			for _, it := range f.val.items() {
				own = append(own, m.readRule(it))
			}
		case "routes":
			subroutes, hasSub = f.val, true
		default:
			m.note(f.val, "not a route field the exporter knows (drop, match, routes); ignored")
		}
	}
	for _, r := range own {
		if r.receiver != "" {
			out = append(out, routeTarget{receiver: r.receiver, rule: r, matches: matches, drops: drops})
		}
	}
	if hasSub {
		below := append(matches[:len(matches):len(matches)], own...)
		for _, it := range subroutes.items() {
			out = append(out, m.walkRoute(it, below, drops)...)
		}
	}
	return out
}

// filterSpec is a herald filter, as URI parameters.
type filterSpec struct {
	types         map[string]bool // Normal, Warning
	namespaces    []string
	clusterScoped bool
	kinds         []string
	kindsSet      bool
	reason        string
	excludeNS     []string
	excludeKinds  []string
	excludeReason []string
	never         bool // no event can reach the receiver
}

// addTo adds the filter's parameters to s, in a fixed order.
func (f *filterSpec) addTo(s *sinkSpec) {
	if f.types["Normal"] {
		s.add("level", "Normal")
	} else {
		s.add("level", "Warning")
	}
	if len(f.namespaces) > 0 {
		s.add("namespaces", strings.Join(f.namespaces, ","))
		if f.clusterScoped {
			s.add("cluster_scoped", "true")
		}
	}
	if len(f.kinds) > 0 {
		s.add("kinds", strings.Join(f.kinds, ","))
	}
	if f.reason != "" {
		s.add("reason", f.reason)
	}
	if len(f.excludeNS) > 0 {
		s.add("exclude_namespaces", strings.Join(f.excludeNS, ","))
	}
	if len(f.excludeKinds) > 0 {
		s.add("exclude_kinds", strings.Join(f.excludeKinds, ","))
	}
	for _, r := range f.excludeReason {
		s.add("exclude_reason", r)
	}
}

// filterFor turns one routeTarget into a herald filter, reporting what it cannot express.
func (m *Migration) filterFor(t routeTarget) *filterSpec {
	f := &filterSpec{types: map[string]bool{"Normal": true, "Warning": true}}
	conds := append(t.matches[:len(t.matches):len(t.matches)], t.rule)
	var nsFrom, reasonFrom ynode
	for _, r := range conds {
		for _, name := range []string{"type", "namespace", "kind", "reason"} {
			y, ok := r.re[name]
			if !ok {
				continue
			}
			re, err := regexp.Compile(y.str())
			if err != nil {
				m.warn(y, "%q is not a valid regular expression (%v), so the exporter never matched this rule and never sent to %q through it; no sink is made for it. Fix the expression and run herald migrate again", y.str(), err, t.receiver)
				f.never = true
				continue
			}
			switch name {
			case "type":
				for _, typ := range []string{"Normal", "Warning"} {
					if !re.MatchString(typ) {
						delete(f.types, typ)
					}
				}
			case "namespace":
				if nsFrom.n != nil && nsFrom.str() != y.str() {
					m.warn(nsFrom, "this rule and %s both restrict the namespace; a herald sink has one namespace list, so only the inner one (%q) is kept and this sink receives more than the exporter sent", y.path, y.str())
				}
				nsFrom = y
			case "kind":
				kinds, anchored := literalAlternatives(y.str())
				if kinds == nil {
					m.warn(y, "%q is not a list of kind names; herald's kinds= matches exact names only, so this restriction is left out and this sink receives every kind. Write the kinds out (Pod|Node)", y.str())
					continue
				}
				if !anchored {
					m.note(y, "the exporter matched %q anywhere in the kind (Pod also matched PodDisruptionBudget); herald's kinds= are exact names: kinds=%s", y.str(), strings.Join(kinds, ","))
				}
				if f.kindsSet {
					kinds = intersect(f.kinds, kinds)
				}
				f.kinds, f.kindsSet = kinds, true
				if len(kinds) == 0 {
					m.warn(y, "no kind satisfies every rule on the way to %q, so the exporter never sent to it through this rule; no sink is made for it", t.receiver)
					f.never = true
				}
			case "reason":
				if reasonFrom.n != nil && reasonFrom.str() != y.str() {
					m.warn(reasonFrom, "this rule and %s both restrict the reason; herald ORs its reason= regexps, so only the inner one (%q) is kept and this sink receives more than the exporter sent", y.path, y.str())
				}
				reasonFrom = y
			}
		}
	}
	if nsFrom.n != nil {
		m.namespaceFilter(nsFrom, f)
	}
	if reasonFrom.n != nil {
		f.reason = reasonFrom.str()
	}
	for _, d := range t.drops {
		m.applyDrop(d, f, t.receiver)
	}
	if !f.never && len(f.types) == 0 {
		m.warn(t.rule.node, "no event type (Normal, Warning) passes the type rules on the way to %q, so the exporter never sent to it through this rule; no sink is made for it", t.receiver)
		f.never = true
	}
	if !f.never && f.types["Normal"] && !f.types["Warning"] {
		m.warn(t.rule.node, "only Normal events reach %q through this rule; herald's level= is a floor (Normal means Normal and Warning), so this sink also receives Warning events", t.receiver)
	}
	return f
}

// namespaceFilter maps a namespace regexp to namespaces=. The exporter matched the Event's own
// namespace, which for a cluster-scoped object (a Node) is "default"; herald matches the
// involved object's namespace, empty for those, and lets them through with cluster_scoped=true.
func (m *Migration) namespaceFilter(y ynode, f *filterSpec) {
	expr := y.str()
	if names, anchored := literalAlternatives(expr); names != nil && anchored {
		f.namespaces = names
	} else if strings.Contains(expr, ",") {
		m.warn(y, "herald's namespaces= is a comma-separated list, so a regexp with a comma cannot be written there; this restriction is left out and this sink receives every namespace. Rewrite the regexp without a comma")
		return
	} else {
		f.namespaces = []string{"/" + expr + "/"}
	}
	// The exporter's regexp may not compile in Go (user input): then it cannot match "default".
	if re, err := regexp.Compile(expr); err == nil && re.MatchString("default") {
		f.clusterScoped = true
	}
}

// applyDrop adds one drop rule to the filter's exclusions.
func (m *Migration) applyDrop(d *rule, f *filterSpec, receiver string) {
	if len(d.unmappable) > 0 {
		m.warn(d.node, "herald cannot express this drop rule (see the fields above), so the events it dropped are delivered to %q", receiver)
		return
	}
	if d.empty {
		m.warn(d.node, "this drop rule has no condition, so the exporter dropped every event here and never sent to %q below it; no sink is made for it", receiver)
		f.never = true
		return
	}
	if len(d.re) > 1 {
		m.warn(d.node, "this drop rule needs %d fields to match at once; herald's exclude_* parameters each drop on one field, so the rule is left out and the events it dropped are delivered to %q. Split it if dropping on each field alone is what you want", len(d.re), receiver)
		return
	}
	for name, y := range d.re {
		re, err := regexp.Compile(y.str())
		if err != nil {
			m.warn(y, "%q is not a valid regular expression (%v), so the exporter never dropped anything with this rule; it is left out. Fix the expression if you meant it", y.str(), err)
			return
		}
		switch name {
		case "type":
			for _, typ := range []string{"Normal", "Warning"} {
				if re.MatchString(typ) {
					delete(f.types, typ)
				}
			}
		case "namespace":
			if names, anchored := literalAlternatives(y.str()); names != nil && anchored {
				f.excludeNS = appendNew(f.excludeNS, names...)
			} else if strings.Contains(y.str(), ",") {
				m.warn(y, "herald's exclude_namespaces= is a comma-separated list, so a regexp with a comma cannot be written there; the rule is left out. Rewrite the regexp without a comma")
				return
			} else {
				f.excludeNS = appendNew(f.excludeNS, "/"+y.str()+"/")
			}
			if re.MatchString("default") {
				m.warn(y, "this also matches \"default\", the namespace Kubernetes records events about cluster-scoped objects (Nodes) in, so the exporter dropped those; herald's exclude_namespaces= never drops them. Add exclude_kinds=Node (and other cluster-scoped kinds) if you do not want them")
			}
		case "kind":
			kinds, anchored := literalAlternatives(y.str())
			if kinds == nil {
				m.warn(y, "%q is not a list of kind names; herald's exclude_kinds= takes exact names, so the rule is left out. Write the kinds out (Lease|Endpoints)", y.str())
				return
			}
			if !anchored {
				m.note(y, "the exporter dropped every kind containing %q; herald's exclude_kinds= drops exact names: exclude_kinds=%s", y.str(), strings.Join(kinds, ","))
			}
			f.excludeKinds = appendNew(f.excludeKinds, kinds...)
		case "reason":
			f.excludeReason = appendNew(f.excludeReason, y.str())
		}
	}
}

// literalAlternatives returns the names in "Pod", "^Pod$", "Pod|Node", "^(Pod|Node)$" or
// "^(?:Pod|Node)$", and whether the expression is anchored at both ends; nil when the expression
// is anything else.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

func literalAlternatives(expr string) ([]string, bool) {
	anchored := false
	body := expr
	if strings.HasPrefix(body, "^") && strings.HasSuffix(body, "$") && len(body) >= 2 {
		inner := body[1 : len(body)-1]
		switch {
		case strings.HasPrefix(inner, "(?:") && strings.HasSuffix(inner, ")"):
			inner = inner[3 : len(inner)-1]
		case strings.HasPrefix(inner, "(") && strings.HasSuffix(inner, ")"):
			inner = inner[1 : len(inner)-1]
		case strings.Contains(inner, "|"):
			return nil, false // ^a|b$ is (^a)|(b$)
		}
		anchored, body = true, inner
	}
	var out []string
	for _, alt := range strings.Split(body, "|") {
		if !nameRE.MatchString(alt) {
			return nil, false
		}
		out = appendNew(out, alt)
	}
	return out, anchored
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			if x == it {
				found = true
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}
