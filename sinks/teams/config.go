package teams

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat"
)

// ownParams are herald's parameters for a teams sink; they are removed from the URL.
var ownParams = chat.Params

// workflowParams are the query parameters of a Workflows webhook URL. They are declared so
// that herald knows them (and redacts sig, the URL's signature), and are sent as given.
var workflowParams = []uri.Param{
	{Name: "sig", Secret: true, Example: "${TEAMS_WORKFLOW_SIG}",
		Help: "part of the Workflows URL: its signature, which authorizes the post (a secret; kept in the URL, redacted in logs)"},
	{Name: "api-version", Example: "2016-06-01", Help: "part of the Workflows URL, kept as given"},
	{Name: "sp", Example: "/triggers/manual/run", Help: "part of the Workflows URL, kept as given"},
	{Name: "sv", Example: "1.0", Help: "part of the Workflows URL, kept as given"},
}

// Params are every parameter of a teams sink besides the filter and common ones.
var Params = slices.Concat(workflowParams, ownParams)

// Config is a teams sink's configuration, parsed from its --sink value.
type Config struct {
	ID      string
	Cluster string
	// URL is the Workflows webhook, with its own query (sig=...) and without herald's.
	URL    *url.URL
	Pacing chat.PacerOptions
	// Template, when set, renders single-event messages instead of the Adaptive Card layout.
	Template *template.Options
	HTTP     httpx.Options
	// Notes are said once at start-up.
	Notes []string
}

// ParseConfig reads a teams --sink value. Problems are recorded in t.Params and returned
// together; errors never quote the URL, whose sig= authorizes posting.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster}
	sig := p.String("sig")
	for _, name := range []string{"api-version", "sp", "sv"} {
		p.String(name)
	}
	c.Pacing = chat.PacingFromParams(p)
	c.Template = chat.TemplateFromParams(p, t, env)
	c.HTTP = httpx.OptionsFromParams(p)
	if sig != "" {
		c.HTTP.Secrets = append(c.HTTP.Secrets, sig)
	}
	// A newer URL may carry parameters herald does not know yet: keep them, redacted.
	if extra := p.Passthrough(); len(extra) > 0 {
		var names []string
		for _, k := range extra {
			names = append(names, p.UnknownName(k))
		}
		c.Notes = append(c.Notes, fmt.Sprintf("%s: keeping query parameters %s in the Workflows URL", t.ID, strings.Join(names, ", ")))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := sinks.StripParams(t.URL, ownParams)
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("the target must be the Workflows webhook URL, e.g. teams:https://prod-00.westeurope.logic.azure.com:443/workflows/ID/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%%2Ftriggers%%2Fmanual%%2Frun&sv=1.0&sig=${TEAMS_WORKFLOW_SIG} (Teams → channel → Workflows → \"Post to a channel when a webhook request is received\" → copy the URL)")
	}
	host := strings.ToLower(u.Hostname())
	if sig == "" && (strings.HasSuffix(host, ".logic.azure.com") || strings.HasSuffix(host, ".powerplatform.com")) {
		return nil, fmt.Errorf("the Workflows URL has no sig= parameter, so Teams would refuse every post; copy the whole URL, and percent-encode its '&' only if your shell needs it")
	}
	if strings.Contains(host, "webhook.office.com") {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: this is an Office 365 connector URL; Microsoft is retiring connectors, and herald posts the Adaptive Card format Workflows expect. Create a Workflows webhook instead", t.ID))
	}
	c.URL = u
	return c, nil
}
