package webhook

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Methods are the accepted values of method=.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Params are the webhook's own parameters; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "method", Default: http.MethodGet, Example: http.MethodPost,
		Help: "HTTP method: " + strings.Join(Methods, ", ") + `. The default is GET, as in kube-eventer; the body is sent with every method, so most receivers want method=POST`},
	{Name: "header", Repeatable: true, Secret: true, Example: "Content-Type=application/json",
		Help: "a request header as NAME=VALUE (the value may itself contain '='); repeat for several headers. " +
			"Without a Content-Type, or with a JSON one, every value the body template interpolates is escaped for JSON. " +
			"Values are redacted in logs; put tokens in ${ENV} references"},
	{Name: "batch", Default: "false", Example: "true",
		Help: "send each batch (up to batch_size events) as one request: a JSON array of the rendered bodies, or one body per line with batch_format=ndjson; each body must render as one JSON value. A batch the receiver refuses (4xx) is split in halves until only the refused events are left, so one bad event never takes the others with it"},
	{Name: "batch_format", Default: "json",
		Help: "with batch=true: json (a JSON array, Content-Type application/json) or ndjson (one compact JSON body per line, Content-Type application/x-ndjson); a header=Content-Type=... wins"},
}, template.Params, httpx.Params)

// Config is a webhook sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is where events go: the target without herald's own parameters. It keeps the query
	// parameters herald does not know (?token=...), which the receiver needs.
	URL *url.URL
	// Method is the HTTP method.
	Method string
	// Header holds the header= parameters; Host is a Host header, which net/http sends apart.
	Header http.Header
	Host   string
	// JSON is set when the body is JSON: no Content-Type (kube-eventer sends none) or a JSON one.
	JSON bool
	// Passthrough names the query parameters kept in URL for the receiver.
	Passthrough []string
	// Template says where the body template comes from.
	Template template.Options
	// HTTP configures the client.
	HTTP httpx.Options
	// Notes are said once at start-up.
	Notes []string
	// Batch sends a batch as one request (batch=true); NDJSON joins the bodies by lines instead
	// of making them a JSON array.
	Batch, NDJSON bool
}

// ParseConfig reads a webhook --sink value. Parameter problems are recorded in t.Params and
// returned together, each naming the parameter and the fix.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Header: http.Header{}}
	c.Method = p.OneOf("method", Methods...)
	c.parseHeaders(p)
	c.JSON = isJSON(c.Header.Get("Content-Type"))
	c.Template = template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		Default:  template.KubeEventerDefault,
		JSON:     c.JSON,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
	})
	// kube-eventer's templates (its default body, a ConfigMap) render as kube-eventer rendered
	// them; herald's own body_template keeps the message whole and escapes fully.
	c.Template.KubeEventer = c.Template.ConfigMapName != "" || c.Template.Inline == ""
	c.Batch = p.Bool("batch")
	c.NDJSON = p.OneOf("batch_format", "json", "ndjson") == "ndjson"
	if c.Batch && c.Header.Get("Content-Type") == "" {
		c.Header.Set("Content-Type", "application/json")
		if c.NDJSON {
			c.Header.Set("Content-Type", "application/x-ndjson")
		}
	}
	if p.Has("batch_format") && !c.Batch {
		p.Warnf("batch_format", "batch_format is read only with batch=true; without it every event is its own request")
	}
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Secrets = c.secretHeaderValues()
	c.Passthrough = p.Passthrough()
	if len(c.Passthrough) > 0 {
		var names []string
		for _, k := range c.Passthrough {
			names = append(names, p.UnknownName(k))
		}
		c.Notes = append(c.Notes, fmt.Sprintf("%s: passing query parameters %s through to the receiver (herald does not know them)", label(t.ID), strings.Join(names, ", ")))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := checkTarget(t.URL); err != nil {
		return nil, err // the registry puts the sink's name in front
	}
	c.URL = sinks.StripParams(t.URL, Params)
	return c, nil
}

// checkTarget accepts http and https URLs with a host. It never quotes the URL, which may carry
// a token.
func checkTarget(u *url.URL) error {
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		got := "nothing"
		if u != nil && u.Scheme != "" {
			got = fmt.Sprintf("a %q URL", u.Scheme)
		} else if u != nil && (u.Host != "" || u.Path != "") {
			got = "a URL without http:// or https://"
		}
		return fmt.Errorf("the receiver must be an http:// or https:// URL with a host, got %s; write it as webhook:https://receiver.example/path?level=Warning", got)
	}
	return nil
}

// parseHeaders reads the header= parameters. A value is NAME=VALUE split at the first '=', so
// a value may contain '=' (kube-eventer silently dropped such headers). Errors never quote the
// value, which may be a token.
func (c *Config) parseHeaders(p *uri.Params) {
	const fix = "write it as header=NAME=VALUE, e.g. header=Content-Type=application/json (percent-encode '&' as %26 in the value)"
	for i, h := range p.Values("header") {
		name, value, ok := strings.Cut(h, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			p.Errorf("header", fix, "header #%d has no '=' between name and value", i+1)
			continue
		case name == "":
			p.Errorf("header", fix, "header #%d has no name before '='", i+1)
			continue
		case !httpguts.ValidHeaderFieldName(name):
			p.Errorf("header", fix, "header #%d: %q is not a valid header name", i+1, name)
			continue
		case !httpguts.ValidHeaderFieldValue(value):
			p.Errorf("header", "remove control characters (line breaks) from the value", "header #%d (%s) has a value with control characters", i+1, name)
			continue
		}
		if http.CanonicalHeaderKey(name) == "Host" {
			c.Host = value
			continue
		}
		c.Header.Add(name, value)
	}
}

// publicHeaders are headers whose values say nothing secret; every other header= value of six
// characters or more is scrubbed from errors, in case the receiver quotes it back (shorter ones,
// such as X-Debug=1, would only garble the message).
var publicHeaders = []string{"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Encoding", "User-Agent"}

func (c *Config) secretHeaderValues() []string {
	var out []string
	for name, vs := range c.Header {
		if slices.Contains(publicHeaders, name) {
			continue
		}
		for _, v := range vs {
			if len(v) >= 6 {
				out = append(out, v)
			}
		}
	}
	return out
}

// isJSON reports whether a Content-Type means a JSON body; no Content-Type does too, as
// kube-eventer's bodies are JSON and it sends none.
func isJSON(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// label is how start-up notes name the sink: "webhook sink #2", or its name= when given.
func label(id string) string {
	if n, ok := strings.CutPrefix(id, "webhook#"); ok {
		return "webhook sink #" + n
	}
	return fmt.Sprintf("webhook sink %q", id)
}
