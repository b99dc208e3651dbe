package loki

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// PushPath is Loki's push endpoint, added to the target unless it ends with it already.
const PushPath = "/loki/api/v1/push"

// Formats of the push body.
const (
	FormatProtobuf = "protobuf"
	FormatJSON     = "json"
)

// DefaultLabels are the event fields that name a stream when labels= is not given: few values
// each, so the number of streams stays small (never the object's name or uid).
const DefaultLabels = "namespace,reason,kind,cluster"

// MaxLabels is Loki's default limit of label names per stream (max_label_names_per_series).
const MaxLabels = 15

// Params are the sink's own parameters; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "labels", Repeatable: true, Default: DefaultLabels, Example: "namespace,kind,reason,type",
		Help: "the event fields that label each stream, comma-separated, from: " + strings.Join(FieldNames(), ", ") +
			". A field with no value (cluster without --cluster-name, namespace for a Node) is left out. name and uid make a stream per object: put them in metadata= instead. labels= with nothing keeps only the label= ones"},
	{Name: "label", Repeatable: true, Example: "job=herald",
		Help: "a constant label on every stream as NAME=VALUE (repeatable), e.g. kubernetes-event-exporter's streamLabels"},
	{Name: "metadata", Repeatable: true, Example: "name,uid",
		Help: "event fields sent as each entry's structured metadata (Loki 2.9 or later with allow_structured_metadata, the default from 3.0), from the same list as labels: searchable without making streams"},
	{Name: "tenant", Example: "team-a",
		Help: "the tenant (X-Scope-OrgID) of a multi-tenant Loki; Grafana Cloud takes it as the user of user:password@ instead"},
	{Name: "token", Secret: true, Example: "${LOKI_TOKEN}",
		Help: "a bearer token, for a Loki behind an authenticating gateway; use a ${ENV} reference. Basic auth (Grafana Cloud): put user:password@ in the URL"},
	{Name: "header", Repeatable: true, Secret: true, Example: "X-Team=shop",
		Help: "an extra request header as NAME=VALUE (repeatable), e.g. kubernetes-event-exporter's headers; values are redacted in logs"},
	{Name: "format", Default: FormatProtobuf, Example: FormatJSON,
		Help: "the push body: protobuf (snappy-compressed, what Promtail and Alloy send) or json"},
}, template.Params, httpx.Params)

// Config is a loki sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is the push endpoint, userinfo included when given (net/http sends it as basic auth).
	URL *url.URL
	// Labels are the event fields that label streams, in the order given; Constant the fixed
	// labels, by name.
	Labels   []Field
	Constant map[string]string
	// Metadata are the event fields sent as structured metadata.
	Metadata []Field
	// Tenant is sent as X-Scope-OrgID when set.
	Tenant string
	// Token is sent as "Authorization: Bearer".
	Token redact.Secret
	// Header holds the header= parameters.
	Header http.Header
	// Format is FormatProtobuf or FormatJSON.
	Format string
	// Template renders each entry's line; nil: the event as JSON.
	Template *template.Options
	// Cluster is --cluster-name, the cluster field of an event that carries none.
	Cluster string
	// HTTP configures the client.
	HTTP httpx.Options
	// Notes are said once at start-up.
	Notes []string
}

// labelName is the syntax of a Loki (Prometheus) label name.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ParseConfig reads a loki --sink value. Problems are recorded in t.Params and returned
// together, each naming the parameter and the fix.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Constant: map[string]string{}, Header: http.Header{}, Cluster: env.Cluster}
	c.Labels = fields(p, "labels")
	c.Metadata = fields(p, "metadata")
	for _, f := range c.Labels {
		if f == FieldName || f == FieldUID {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: labels=%s makes a stream per object: Loki slows down and refuses new streams past max_global_streams_per_user; metadata=%s keeps it searchable without that", t.ID, f, f))
		}
	}
	c.parseConstant(p)
	if len(c.Labels) == 0 && len(c.Constant) == 0 {
		p.Errorf("labels", "name event fields in labels= (default "+DefaultLabels+") or add label=NAME=VALUE", "no label: Loki refuses a stream without one")
	}
	if n := len(c.Labels) + len(c.Constant); n > MaxLabels {
		p.Errorf("labels", fmt.Sprintf("use at most %d labels in all, Loki's default max_label_names_per_series", MaxLabels), "%d labels", n)
	}
	c.Tenant = p.String("tenant")
	if c.Tenant != "" {
		if err := checkTenant(c.Tenant); err != "" {
			p.Errorf("tenant", "write the tenant ID as Loki knows it: letters, digits and ! - _ . * ' ( ), at most 150 characters", "%s", err)
		}
	}
	c.Token = redact.Secret(p.String("token"))
	c.parseHeaders(p)
	c.Format = p.OneOf("format", FormatProtobuf, FormatJSON)
	c.Template = lineTemplate(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Now = env.Clock()
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := t.URL
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the target must be Loki's http:// or https:// URL, e.g. loki:http://loki-gateway.loki:3100 (herald adds %s)", PushPath)
	}
	if _, ok := u.User.Password(); ok && c.Token != "" {
		return nil, fmt.Errorf("give either user:password@ in the URL (basic auth) or token= (bearer), not both: Loki's gateway reads one Authorization header")
	}
	if (u.User != nil || c.Token != "") && c.Header.Get("Authorization") != "" {
		return nil, fmt.Errorf("parameter \"header\": Authorization is set by user:password@ or token=; remove header=Authorization=...")
	}
	push := *u
	push.RawQuery, push.Fragment, push.RawFragment = "", "", ""
	path := strings.TrimSuffix(push.Path, "/")
	if !strings.HasSuffix(path, PushPath) {
		path += PushPath
	}
	push.Path, push.RawPath = path, ""
	c.URL = &push
	if c.Token != "" {
		c.HTTP.Secrets = append(c.HTTP.Secrets, c.Token.Reveal())
	}
	return c, nil
}

// fields reads a list of event field names.
func fields(p *uri.Params, name string) []Field {
	var out []Field
	for _, v := range p.List(name) {
		f, ok := fieldByName(v)
		if !ok {
			hint := ""
			if n := uri.Nearest(v, FieldNames()); n != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", n)
			}
			p.Errorf(name, "use fields from "+strings.Join(FieldNames(), ", ")+hint, "%q is not an event field herald knows", v)
			continue
		}
		if slices.Contains(out, f) {
			p.Errorf(name, "give each field once", "%q is given twice", v)
			continue
		}
		out = append(out, f)
	}
	return out
}

// parseConstant reads the label= parameters.
func (c *Config) parseConstant(p *uri.Params) {
	const fix = "write it as label=NAME=VALUE, e.g. label=job=herald"
	for _, kv := range p.Values("label") {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok || value == "":
			p.Errorf("label", fix, "%q has no NAME=VALUE", kv)
		case !labelName.MatchString(name):
			p.Errorf("label", "use letters, digits and _ in label names, not starting with a digit", "%q is not a valid Loki label name", name)
		case strings.HasPrefix(name, "__"):
			p.Errorf("label", "pick a name that does not start with __", "%q: names starting with __ are reserved for Loki's own use", name)
		case !utf8.ValidString(value):
			p.Errorf("label", "write the value in UTF-8", "the value of %q is not valid UTF-8", name)
		case c.Constant[name] != "":
			p.Errorf("label", "give each label once", "%q is given twice", name)
		case slices.ContainsFunc(c.Labels, func(f Field) bool { return string(f) == name }):
			p.Errorf("label", "remove it from labels= or pick another name", "%q is also an event field in labels=", name)
		default:
			c.Constant[name] = value
		}
	}
}

// parseHeaders reads the header= parameters. Errors never quote a value, which may be a token.
func (c *Config) parseHeaders(p *uri.Params) {
	const fix = "write it as header=NAME=VALUE, e.g. header=X-Team=shop (percent-encode '&' as %26 in the value)"
	for i, h := range p.Values("header") {
		name, value, ok := strings.Cut(h, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok || name == "":
			p.Errorf("header", fix, "header #%d is not NAME=VALUE", i+1)
			continue
		case !httpguts.ValidHeaderFieldName(name):
			p.Errorf("header", fix, "header #%d: %q is not a valid header name", i+1, name)
			continue
		case !httpguts.ValidHeaderFieldValue(value):
			p.Errorf("header", "remove control characters (line breaks) from the value", "header #%d (%s) has a value with control characters", i+1, name)
			continue
		}
		switch http.CanonicalHeaderKey(name) {
		case "Content-Type", "Content-Encoding", "Content-Length", "Host":
			p.Errorf("header", "remove it: herald sets it for the push body (format= chooses the body)", "header #%d sets %s", i+1, name)
			continue
		case "X-Scope-Orgid":
			p.Errorf("header", "write tenant=... instead", "header #%d sets X-Scope-OrgID", i+1)
			continue
		}
		c.Header.Add(name, value)
	}
}

// checkTenant checks a tenant ID as Loki's tenant resolver does; "" when it is valid.
func checkTenant(id string) string {
	switch {
	case len(id) > 150:
		return fmt.Sprintf("the tenant ID is %d characters long, more than 150", len(id))
	case id == "." || id == "..":
		return fmt.Sprintf("%q is not a tenant ID", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!-_.*'()", r)) {
			return fmt.Sprintf("the tenant ID holds %q, which Loki does not allow", r)
		}
	}
	return ""
}

// lineTemplate reads the line template (body_template or custom_body_configmap); nil when none
// is given: the line is the event as JSON. A template whose text starts with '{' or '[', and a
// ConfigMap's, is a JSON line: every value it interpolates is escaped, and its sample render
// must be valid JSON. Any other inline template is a text line (logfmt, plain words), sent as
// rendered.
func lineTemplate(p *uri.Params, t sinks.Target, env sinks.Env) *template.Options {
	o := template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
		Now:      env.Clock(),
	})
	if o.Inline == "" && o.ConfigMapName == "" {
		return nil
	}
	text := strings.TrimSpace(o.Inline)
	o.JSON = o.ConfigMapName != "" || strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[")
	return &o
}
