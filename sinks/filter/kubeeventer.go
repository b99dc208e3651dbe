package filter

import (
	"fmt"
	"strings"

	"github.com/heraldproject/herald/common/uri"
)

// Dialect says how a sink reads the filter parameters. herald's own sinks read them herald's
// way; the sinks kube-eventer has read them the way kube-eventer's code for that sink read them
// (its common/filters.GetValues, and getLevels or getLevel per sink), so a command line that
// worked with kube-eventer delivers the same events. Where herald reads a value differently, or
// applies a filter kube-eventer's sink did not have, it records a warning naming the parameter,
// what kube-eventer did and what herald does.
type Dialect int

const (
	// Herald is herald's own sinks: level is Warning (the default) or Normal, and a bad value is
	// an error.
	Herald Dialect = iota
	// KubeEventerWebhook is kube-eventer's webhook sink (sinks/webhook/webhook.go): without
	// level, every type; level=Normal: Normal and Warning; level=Warning or any other value
	// (Normal,Warning, [Warning], Info, normal): Warning only (getLevels). namespaces, kinds and
	// reason take their first value split on commas (GetValues); reason is a regexp.
	KubeEventerWebhook
	// KubeEventerRobot is kube-eventer's dingtalk and wechat sinks: without level, Warning;
	// level=Warning: Warning; level=Normal: Normal and Warning; any other value: every type
	// (getLevel scores it 0). namespaces compares the Event's own namespace (a Node's events
	// are recorded in "default"); there was no reason filter.
	KubeEventerRobot
	// KubeEventerStore is kube-eventer's log, kafka, elasticsearch, mysql, influxdb, sls and
	// honeycomb sinks, which had no filter at all: every type by default.
	KubeEventerStore
)

// String names the dialect in messages.
func (d Dialect) String() string {
	switch d {
	case KubeEventerWebhook:
		return "kube-eventer's webhook"
	case KubeEventerRobot:
		return "kube-eventer's dingtalk and wechat"
	case KubeEventerStore:
		return "kube-eventer's store sinks"
	}
	return "herald"
}

// DefaultLevel is the level a sink of this dialect delivers when level is not given: "Warning",
// or "" for every type.
func (d Dialect) DefaultLevel() string {
	switch d {
	case KubeEventerWebhook, KubeEventerStore:
		return ""
	}
	return "Warning"
}

// fromKubeEventer reads the filter parameters as kube-eventer's sink of dialect d did.
func fromKubeEventer(p *uri.Params, d Dialect) *Filter {
	f := &Filter{normal: d.DefaultLevel() == "", eventNamespace: d == KubeEventerRobot}
	f.readLevel(p, d)

	ns := getValues(p, "namespaces", d)
	trimmed(p, "namespaces", ns) // only for its warning; namespaceItems keeps /regexp/ items whole
	f.namespaces = newMatcher(p, "namespaces", namespaceItems(ns))
	f.kinds = set(trimmed(p, "kinds", getValues(p, "kinds", d)))
	reasons := getValues(p, "reason", d)
	if d == KubeEventerWebhook && len(reasons) > 0 {
		// GetValues split the first value on commas; each piece is a regexp of its own.
		var pieces []string
		for _, r := range reasons {
			pieces = append(pieces, strings.Split(r, ",")...)
		}
		reasons = pieces
	}
	f.reasons = regexps(p, "reason", reasons)
	f.readCommon(p)

	if d != KubeEventerWebhook {
		lacked := "namespaces or kinds filter"
		names := []string{"namespaces", "kinds", "reason"}
		if d == KubeEventerRobot {
			lacked, names = "reason filter", []string{"reason"}
		}
		for _, name := range names {
			if len(p.Values(name)) > 0 {
				p.Warnf(name, "kube-eventer's sink had no %s and delivered these events anyway; herald applies %s, so it delivers fewer events than kube-eventer did (remove it to keep kube-eventer's behaviour)", lacked, name)
			}
		}
	}
	return f
}

// readLevel reads level as kube-eventer's sink did: its first value, compared case-sensitively.
func (f *Filter) readLevel(p *uri.Params, d Dialect) {
	values := p.Values("level")
	if len(values) == 0 {
		return
	}
	if len(values) > 1 {
		p.Warnf("level", "given %d times; kube-eventer used the first (%q), and so does herald; give it once", len(values), values[0])
	}
	v := values[0]
	switch d {
	case KubeEventerWebhook:
		// getLevels: Normal -> [Normal Warning]; anything else -> [Warning].
		f.normal = v == "Normal"
		if v != "Normal" && v != "Warning" {
			p.Warnf("level", "%q is neither Normal nor Warning (case-sensitive); kube-eventer's webhook then delivered Warning events only, and so does herald; write level=Normal for Normal and Warning events, or level=Warning", v)
		}
	case KubeEventerRobot:
		// getLevel: Warning scores 2, Normal 1, anything else 0, and an event passes when its
		// type scores at least that: 0 lets every type through.
		f.normal = v != "Warning"
		if v != "Normal" && v != "Warning" {
			p.Warnf("level", "%q is neither Normal nor Warning (case-sensitive); kube-eventer's sink then delivered every type, and so does herald; write level=Warning for Warning events only, or level=Normal", v)
		}
	case KubeEventerStore:
		// No level filter: kube-eventer delivered every type whatever level said.
		switch v {
		case "Normal":
		case "Warning":
			f.normal = false
			p.Warnf("level", "kube-eventer's sink had no level filter and delivered every type; herald applies level=Warning, so it delivers Warning events only, fewer than kube-eventer did (remove level to keep every event)")
		default:
			p.Warnf("level", "%q is neither Normal nor Warning; kube-eventer's sink had no level filter and delivered every type, and so does herald; remove it, or write level=Warning for Warning events only", v)
		}
	}
}

// getValues reads a list parameter as kube-eventer's GetValues did: the first value, split on
// commas. Later values were ignored by kube-eventer; herald uses them too (more events, not
// fewer), with a warning. An empty value made kube-eventer's webhook deliver nothing (a filter
// with no keys matches no event); herald applies no filter then, with a warning.
func getValues(p *uri.Params, name string, d Dialect) []string {
	values := p.Values(name)
	if len(values) == 0 {
		return nil
	}
	if len(values) > 1 {
		p.Warnf(name, "given %d times; kube-eventer used only the first value, herald uses every one (delivering more, not fewer); join them with commas in one %s=", len(values), name)
	}
	if values[0] == "" && d == KubeEventerWebhook {
		p.Warnf(name, "is empty; kube-eventer's webhook then delivered no event at all, herald applies no %s filter; remove it, or give the values", name)
	}
	return values
}

// trimmed splits items on commas and trims spaces around each, warning once when an item had
// any: kube-eventer compared " b" with its space and never matched it.
func trimmed(p *uri.Params, name string, values []string) []string {
	var out []string
	warned := false
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			t := strings.TrimSpace(item)
			if t != item && !warned {
				warned = true
				p.Warnf(name, "%s", fmt.Sprintf("item %q has spaces around it; kube-eventer compared it with the spaces and never matched it, herald trims them", item))
			}
			if t == `""` {
				t = ""
			} else if t == "" {
				continue
			}
			out = append(out, t)
		}
	}
	return out
}
