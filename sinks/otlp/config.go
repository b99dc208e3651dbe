package otlp

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// LogsPath is the URL path of OTLP/HTTP logs, added to a target that is the receiver's base URL.
const LogsPath = "/v1/logs"

// DefaultServiceName is the resource's service.name unless resource=service.name=... says
// otherwise.
const DefaultServiceName = "herald"

// Compression values.
const (
	CompressionGzip = "gzip"
	CompressionNone = "none"
)

// Params are the sink's own parameters; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "header", Repeatable: true, Secret: true, Example: "Authorization=Bearer ${OTLP_TOKEN}",
		Help: "a request header as NAME=VALUE (the value may itself contain '='), for the receiver's authentication (Authorization, X-Api-Key, a tenant header); repeat for several. " +
			"Values are redacted in logs; put tokens in ${ENV} references. Content-Type and Content-Encoding are the sink's"},
	{Name: "resource", Repeatable: true, Example: "deployment.environment.name=prod",
		Help: "a resource attribute as KEY=VALUE on every log record (repeatable), besides service.name=herald and k8s.cluster.name (from --cluster-name); resource=service.name=NAME replaces herald"},
	{Name: "compression", Default: CompressionGzip, Example: CompressionNone,
		Help: "gzip: send each request gzip-compressed (Content-Encoding: gzip), which every OTLP receiver accepts; none: send it as is"},
}, template.Params, httpx.Params)

// reservedHeaders are set by the sink: a header= for them would make the request undecodable.
var reservedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length", "Host", "Transfer-Encoding"}

// Config is an otlp sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is where requests go: the target's scheme, userinfo, host and path, the path ending in
	// /v1/logs.
	URL *url.URL
	// Header holds the header= parameters.
	Header http.Header
	// Resource are the resource attributes of every request, in order: service.name first.
	Resource []KeyValue
	// Gzip compresses each request body.
	Gzip bool
	// Template renders the log record's body; nil means the event's message.
	Template *template.Options
	// HTTP configures the transport.
	HTTP httpx.Options
	// Notes are said once at start-up.
	Notes []string
}

// KeyValue is one string attribute.
type KeyValue struct{ Key, Value string }

// ParseConfig reads an otlp --sink value. Parameter problems are recorded in t.Params and
// returned together, each naming the parameter and the fix.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Header: http.Header{}}
	c.parseHeaders(p)
	c.parseResource(p, env.Cluster)
	c.Gzip = p.OneOf("compression", CompressionGzip, CompressionNone) == CompressionGzip
	o := template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
		Now:      env.Now,
	})
	if o.Inline != "" || o.ConfigMapName != "" {
		c.Template = &o
	}
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Now = env.Now
	c.HTTP.Secrets = c.secretHeaderValues()
	if err := p.Err(); err != nil {
		return nil, err
	}
	u, err := endpoint(t.URL)
	if err != nil {
		return nil, err // the registry puts the sink's name in front
	}
	c.URL = u
	if pw, ok := u.User.Password(); ok {
		// The password, and the Basic authorization net/http makes of it (a receiver may echo it).
		c.HTTP.Secrets = append(c.HTTP.Secrets, pw, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	return c, nil
}

// endpoint turns the target into the URL requests go to. The target is the receiver's base URL,
// as OTEL_EXPORTER_OTLP_ENDPOINT is: /v1/logs is added to its path, unless the path already ends
// with it (a signal URL, as OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is written). Errors never quote
// the target, which may carry a password.
func endpoint(t *url.URL) (*url.URL, error) {
	const example = "write the receiver's URL, e.g. otlp:http://otel-collector.observability:4318 (a collector in the cluster, plain HTTP) or otlp:https://otlp.example.com"
	switch {
	case t == nil || (t.Scheme == "" && t.Host == "" && t.Path == "" && t.Opaque == ""):
		return nil, fmt.Errorf("no receiver URL; %s", example)
	case t.Scheme != "http" && t.Scheme != "https" && t.Opaque != "" && allDigits(t.Opaque):
		// otlp:collector:4318 parses as scheme "collector", opaque "4318".
		return nil, fmt.Errorf("the target is HOST:PORT without http:// or https://; herald does not guess whether the receiver speaks TLS: write otlp:http://HOST:PORT or otlp:https://HOST:PORT")
	case t.Scheme == "" && t.Host != "":
		return nil, fmt.Errorf("the target has no scheme (otlp://HOST is not a URL herald can send to); write otlp:http://HOST:PORT or otlp:https://HOST:PORT")
	case t.Scheme != "http" && t.Scheme != "https":
		return nil, fmt.Errorf("the receiver must be an http:// or https:// URL (OTLP/HTTP; OTLP/gRPC is not supported); %s", example)
	case t.Host == "":
		return nil, fmt.Errorf("the receiver URL has no host; %s", example)
	}
	path := strings.TrimSuffix(t.EscapedPath(), "/")
	if !strings.HasSuffix(path, LogsPath) {
		path += LogsPath
	}
	u := &url.URL{Scheme: t.Scheme, User: t.User, Host: t.Host, RawPath: path}
	var err error
	if u.Path, err = url.PathUnescape(path); err != nil {
		return nil, fmt.Errorf("the receiver URL's path is not validly percent-encoded; %s", example)
	}
	return u, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// parseHeaders reads the header= parameters as the webhook sink does: NAME=VALUE split at the
// first '='. Errors never quote the value, which may be a token.
func (c *Config) parseHeaders(p *uri.Params) {
	const fix = "write it as header=NAME=VALUE, e.g. header=Authorization=Bearer%20${OTLP_TOKEN} (percent-encode '&' as %26 in the value)"
	for i, h := range p.Values("header") {
		name, value, ok := strings.Cut(h, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			p.Errorf("header", fix, "header #%d has no '=' between name and value", i+1)
		case name == "":
			p.Errorf("header", fix, "header #%d has no name before '='", i+1)
		case !httpguts.ValidHeaderFieldName(name):
			p.Errorf("header", fix, "header #%d: %q is not a valid header name", i+1, name)
		case !httpguts.ValidHeaderFieldValue(value):
			p.Errorf("header", "remove control characters (line breaks) from the value", "header #%d (%s) has a value with control characters", i+1, name)
		case slices.Contains(reservedHeaders, http.CanonicalHeaderKey(name)):
			p.Errorf("header", "remove it: the sink sends Content-Type: application/x-protobuf and sets the encoding with compression=", "header #%d: %s is set by the sink", i+1, http.CanonicalHeaderKey(name))
		default:
			c.Header.Add(name, value)
		}
	}
}

// secretHeaderValues are scrubbed from every error, in case the receiver quotes them back; the
// registry redacts them in the printed --sink value.
func (c *Config) secretHeaderValues() []string {
	var out []string
	for name, vs := range c.Header {
		if slices.Contains(redact.PublicHeaders, name) {
			continue
		}
		for _, v := range vs {
			out = append(out, v)
			out = append(out, strings.Fields(v)...) // "Bearer TOKEN": the token alone
		}
	}
	return out
}

// parseResource reads resource= and adds service.name and k8s.cluster.name unless given.
func (c *Config) parseResource(p *uri.Params, cluster string) {
	seen := map[string]int{}
	var given []KeyValue
	for _, kv := range p.Values("resource") {
		key, value, ok := strings.Cut(kv, "=")
		key = strings.TrimSpace(key)
		switch {
		case !ok || key == "":
			p.Errorf("resource", "write it as resource=KEY=VALUE, e.g. resource=deployment.environment.name=prod", "%q has no KEY=VALUE", kv)
			continue
		case seen[key] > 0:
			p.Errorf("resource", "give each key once", "%q is given twice", key)
			continue
		}
		seen[key]++
		given = append(given, KeyValue{key, value})
	}
	if seen["service.name"] == 0 {
		c.Resource = append(c.Resource, KeyValue{"service.name", DefaultServiceName})
	}
	if cluster != "" && seen["k8s.cluster.name"] == 0 {
		c.Resource = append(c.Resource, KeyValue{"k8s.cluster.name", cluster})
	}
	c.Resource = append(c.Resource, given...)
}
