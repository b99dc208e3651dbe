// Package routes turns team routes (Receivers and Routes, from CRDs or a --config file) into
// sinks in the running pipeline: each Receiver is one sink with its own queue, retries, metrics
// and checkpoint position; its Routes decide, together, which events it receives.
package routes

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks/filter"
)

// LabelsFunc returns the labels of the object an event is about (for objectSelector).
type LabelsFunc func(ref corev1.ObjectReference) (map[string]string, error)

// selector is one Route's compiled event selection.
type selector struct {
	route     string // namespace/name, for logs
	namespace string
	// admin: the Route lives in herald's own namespace and may see every namespace.
	admin      bool
	namespaces *filter.Namespaces // admin only; nil: every namespace
	normal     bool
	kinds      map[string]bool
	reasons    []*regexp.Regexp
	excludes   []*regexp.Regexp
	message    *regexp.Regexp
	sources    []api.EventSource
	objects    labels.Selector
	labelsOf   LabelsFunc
}

// compileRoute checks r and compiles its selection; errors name the field and the fix.
func compileRoute(r *api.Route, heraldNS string, labelsOf LabelsFunc) (*selector, error) {
	s := &selector{route: r.Namespace + "/" + r.Name, namespace: r.Namespace, admin: heraldNS != "" && r.Namespace == heraldNS, labelsOf: labelsOf}
	sp := &r.Spec
	if len(sp.Receivers) == 0 {
		return nil, fmt.Errorf("spec.receivers is empty: name at least one Receiver of namespace %s", r.Namespace)
	}
	switch sp.Level {
	case "", "Warning":
	case "Normal":
		s.normal = true
	default:
		return nil, fmt.Errorf("spec.level %q: write Warning (Warning events only, the default) or Normal (Normal and Warning)", sp.Level)
	}
	if len(sp.Kinds) > 0 {
		s.kinds = map[string]bool{}
		for _, k := range sp.Kinds {
			s.kinds[k] = true
		}
	}
	var err error
	if s.reasons, err = regexps("spec.reasons", sp.Reasons); err != nil {
		return nil, err
	}
	if s.excludes, err = regexps("spec.excludeReasons", sp.ExcludeReasons); err != nil {
		return nil, err
	}
	if sp.Message != "" {
		if s.message, err = regexp.Compile(sp.Message); err != nil {
			return nil, fmt.Errorf("spec.message: %v", err)
		}
	}
	for i, src := range sp.EventSources {
		if src.Kind == "" {
			return nil, fmt.Errorf("spec.eventSources[%d].kind is empty: name the involved object's kind (Deployment, Pod, ...)", i)
		}
	}
	s.sources = sp.EventSources
	if sp.ObjectSelector != nil {
		if labelsOf == nil {
			return nil, fmt.Errorf("spec.objectSelector: this herald cannot read objects' labels (no API access)")
		}
		if s.objects, err = metav1.LabelSelectorAsSelector(sp.ObjectSelector); err != nil {
			return nil, fmt.Errorf("spec.objectSelector: %v", err)
		}
	}
	if len(sp.Namespaces) > 0 {
		if !s.admin {
			return nil, fmt.Errorf("spec.namespaces is honoured only for Routes in herald's own namespace (%s); a Route in %s sees events about objects in %s only: remove spec.namespaces", heraldNS, r.Namespace, r.Namespace)
		}
		s.namespaces = &filter.Namespaces{}
		for i, item := range sp.Namespaces {
			if err := s.namespaces.Add(item); err != nil {
				return nil, fmt.Errorf("spec.namespaces[%d]: %v", i, err)
			}
		}
	}
	for i, f := range sp.GroupBy {
		if !slices.Contains(core.GroupFields, f) {
			return nil, fmt.Errorf("spec.groupBy[%d] %q: group by %s", i, f, strings.Join(core.GroupFields, ", "))
		}
	}
	for name, d := range map[string]*metav1.Duration{"groupWait": sp.GroupWait, "groupInterval": sp.GroupInterval, "repeatInterval": sp.RepeatInterval} {
		if d != nil && d.Duration < 0 {
			return nil, fmt.Errorf("spec.%s %s is negative: write a duration such as 30s or 5m", name, d.Duration)
		}
	}
	if sp.MinCount < 0 {
		return nil, fmt.Errorf("spec.minCount %d is negative", sp.MinCount)
	}
	return s, nil
}

func regexps(field string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for i, x := range exprs {
		re, err := regexp.Compile(x)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", field, i, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// Match reports whether the Route selects e. Tenancy first: a Route outside herald's
// namespace sees only events about objects in its own namespace.
func (s *selector) Match(e *core.Event) bool {
	ns := e.InvolvedObject.Namespace
	if !s.admin {
		if ns != s.namespace {
			return false
		}
	} else if s.namespaces != nil && !s.namespaces.Match(ns) {
		return false
	}
	if e.Type == "Normal" || e.Type == "" {
		if !s.normal {
			return false
		}
	}
	kind := e.InvolvedObject.Kind
	if s.kinds != nil && !s.kinds[kind] {
		return false
	}
	if len(s.reasons) > 0 && !filter.AnyMatch(s.reasons, e.Reason) {
		return false
	}
	if filter.AnyMatch(s.excludes, e.Reason) {
		return false
	}
	if s.message != nil && !s.message.MatchString(e.Message) {
		return false
	}
	if len(s.sources) > 0 && !s.fromSource(kind, e.InvolvedObject.Name) {
		return false
	}
	if s.objects != nil {
		l, err := s.labelsOf(e.InvolvedObject)
		if err != nil {
			// Counted and logged by the lookup; without labels the selector cannot match.
			return false
		}
		if !s.objects.Matches(labels.Set(l)) {
			return false
		}
	}
	return true
}

func (s *selector) fromSource(kind, name string) bool {
	for _, src := range s.sources {
		if src.Kind == kind && (src.Name == "" || src.Name == "*" || src.Name == name) {
			return true
		}
	}
	return false
}

// anyOf is a Receiver's matcher: an event goes to the Receiver when one of its Routes selects
// it. Nil routes select nothing.
type anyOf []*selector

func (a anyOf) Match(e *core.Event) bool {
	for _, s := range a {
		if s.Match(e) {
			return true
		}
	}
	return false
}
