package routes

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/heraldproject/herald/routes/api"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/filter"
)

// Objects reads what a Receiver refers to, in its own namespace only.
type Objects interface {
	// Secret returns the data of Secret namespace/name.
	Secret(namespace, name string) (map[string][]byte, error)
}

// placeholder is ${KEY} in a Receiver's sink URI: KEY as a Secret's data keys are written.
var placeholder = regexp.MustCompile(`\$\{([-._a-zA-Z0-9]+)\}`)

// resolved is a Receiver ready to build: its sink URI with the Secret's values in place.
type resolved struct {
	key    string // namespace/name
	origin sinks.Origin
	raw    string
	// secrets are the values put in raw, registered for redaction.
	secrets []string
}

// filterParams are the parameters a Receiver's sink URI must not hold: a Route selects events.
var filterParams = func() map[string]string {
	out := map[string]string{}
	for _, p := range filter.Params {
		out[p.Name] = "event selection belongs on a Route (spec.level, kinds, reasons, excludeReasons, namespaces), not in a Receiver's sink"
	}
	out["name"] = "a Receiver's sink is named after the Receiver"
	for _, n := range []string{"group_by", "group_wait", "group_interval", "repeat_interval", "min_count"} {
		out[n] = "noise control belongs on a Route (spec.groupBy, groupWait, groupInterval, repeatInterval, minCount)"
	}
	return out
}()

// resolveReceiver fills r's sink URI from its Secret and template; errors name the field and
// the fix, and never quote a secret value.
func resolveReceiver(r *api.Receiver, objs Objects, prefix string) (*resolved, error) {
	sp := &r.Spec
	if strings.TrimSpace(sp.Sink) == "" {
		return nil, fmt.Errorf("spec.sink is empty: write a herald sink URI, e.g. slack:https://hooks.slack.com/services/${TOKEN} (herald sinks lists the types)")
	}
	raw := sp.Sink
	var secrets []string
	if keys := placeholder.FindAllStringSubmatch(raw, -1); len(keys) > 0 {
		if sp.SecretRef == nil || sp.SecretRef.Name == "" {
			return nil, fmt.Errorf("spec.sink uses ${%s} but spec.secretRef is not set: name the Secret (in namespace %s) that holds it", keys[0][1], r.Namespace)
		}
		if objs == nil {
			return nil, fmt.Errorf("spec.secretRef: this herald cannot read Secrets (no API access)")
		}
		data, err := objs.Secret(r.Namespace, sp.SecretRef.Name)
		if err != nil {
			return nil, fmt.Errorf("spec.secretRef: Secret %s/%s: %v", r.Namespace, sp.SecretRef.Name, err)
		}
		var missing []string
		var out strings.Builder
		last := 0
		for _, m := range placeholder.FindAllStringSubmatchIndex(raw, -1) {
			k := raw[m[2]:m[3]]
			out.WriteString(raw[last:m[0]])
			last = m[1]
			v, ok := data[k]
			if !ok {
				missing = append(missing, k)
				continue
			}
			s := strings.TrimRight(string(v), "\r\n") // a value written with echo keeps its newline
			secrets = append(secrets, s)
			out.WriteString(escape(s, placeOf(raw, m[0])))
		}
		out.WriteString(raw[last:])
		raw = out.String()
		if len(missing) > 0 {
			have := make([]string, 0, len(data))
			for k := range data {
				have = append(have, k)
			}
			sort.Strings(have)
			return nil, fmt.Errorf("spec.sink: Secret %s/%s has no key %s (its keys: %s)", r.Namespace, sp.SecretRef.Name, strings.Join(missing, ", "), strings.Join(have, ", "))
		}
	}
	scheme, _, _ := strings.Cut(raw, ":")
	d, known := sinks.Lookup(scheme)
	if sp.Template != "" || sp.TemplateRef != nil {
		if sp.Template != "" && sp.TemplateRef != nil {
			return nil, fmt.Errorf("spec.template and spec.templateRef are both set: keep one")
		}
		if known && !d.Accepts("body_template") {
			return nil, fmt.Errorf("spec.template: sink type %s has no body template (herald sinks %s lists its parameters)", scheme, scheme)
		}
		if u, err := url.Parse(strings.TrimPrefix(raw, scheme+":")); err == nil {
			for _, p := range []string{"body_template", "custom_body_configmap", "custom_body_configmap_namespace"} {
				if u.Query().Has(p) {
					return nil, fmt.Errorf("spec.sink has %s= and spec.template or templateRef is set: keep one", p)
				}
			}
		}
		sep := "?"
		if strings.Contains(raw, "?") {
			sep = "&"
		}
		if sp.Template != "" {
			raw += sep + "body_template=" + url.QueryEscape(sp.Template)
		} else {
			// Tenancy: the ConfigMap is read in the Receiver's own namespace, whatever the URI says.
			raw += sep + "custom_body_configmap=" + url.QueryEscape(sp.TemplateRef.Name) + "&custom_body_configmap_namespace=" + url.QueryEscape(r.Namespace)
		}
	} else if known && d.Accepts("custom_body_configmap_namespace") {
		if u, err := url.Parse(strings.TrimPrefix(raw, scheme+":")); err == nil && u.Query().Has("custom_body_configmap_namespace") &&
			u.Query().Get("custom_body_configmap_namespace") != r.Namespace {
			return nil, fmt.Errorf("spec.sink: custom_body_configmap_namespace must be the Receiver's own namespace (%s); use spec.templateRef", r.Namespace)
		}
	}
	key := r.Namespace + "/" + r.Name
	return &resolved{
		key: key,
		// The sink label in metrics and logs, and the checkpoint key.
		origin: sinks.Origin{ID: prefix + "/" + key, Key: prefix + "=" + key,
			Owner: "Receiver " + key, Reject: filterParams},
		raw:     raw,
		secrets: secrets,
	}, nil
}

// Where a ${KEY} stands in a sink URI.
const (
	inAuthority = iota // user info (or host)
	inPath
	inQuery
)

// placeOf says where offset i of the sink URI raw is: after the first '?' the query; between
// "//" and the next '/' the authority; else the path (or an opaque target such as kafka's).
func placeOf(raw string, i int) int {
	if q := strings.IndexByte(raw, '?'); q >= 0 && i > q {
		return inQuery
	}
	if a := strings.Index(raw, "//"); a >= 0 && i > a {
		end := len(raw)
		if s := strings.IndexAny(raw[a+2:], "/?"); s >= 0 {
			end = a + 2 + s
		}
		if i < end {
			return inAuthority
		}
	}
	return inPath
}

// escape percent-encodes a Secret's value for its place, so the value stands for itself: every
// byte that is not unreserved (RFC 3986), except '/' in a path, where it separates segments as
// the value's author meant (a Slack webhook's T000/B000/XXXX).
func escape(s string, place int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && place == inPath {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
