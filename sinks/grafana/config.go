package grafana

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Params are the sink's own parameters; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "token", Secret: true, Example: "${GRAFANA_TOKEN}",
		Help: "a Grafana service account token (or API key) with the annotations:create permission, sent as a bearer token; use a ${ENV} reference. Basic auth instead: put user:password@ in the URL"},
	{Name: "tags", Repeatable: true, Default: "herald", Example: "k8s,herald",
		Help: "tags on every annotation, comma-separated; each annotation also gets type:, reason:, kind:, namespace: and cluster: tags for the event"},
	{Name: "dashboard_uid", Example: "k8s-overview",
		Help: "put annotations on this dashboard only; without it they are organization-wide, shown on every dashboard whose annotation query matches their tags"},
	{Name: "panel_id", Example: "4",
		Help: "with dashboard_uid, put annotations on this panel only"},
	{Name: "org_id", Example: "2",
		Help: "the Grafana organization (X-Grafana-Org-Id), when the token's user belongs to several"},
}, httpx.Params)

// Config is a grafana sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is the annotations endpoint: the target's base URL + /api/annotations.
	URL *url.URL
	// Token is sent as "Authorization: Bearer".
	Token redact.Secret
	// Tags go on every annotation.
	Tags []string
	// DashboardUID and PanelID place the annotations; zero values mean organization-wide.
	DashboardUID string
	PanelID      int
	// OrgID is sent as X-Grafana-Org-Id when set.
	OrgID string
	// Cluster is --cluster-name, a tag when set.
	Cluster string
	// HTTP configures the client.
	HTTP httpx.Options
}

// ParseConfig reads a grafana --sink value. Problems are recorded in t.Params and returned
// together, each naming the parameter and the fix.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster}
	c.Token = redact.Secret(p.String("token"))
	for _, tag := range p.List("tags") {
		if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(c.Tags, tag) {
			c.Tags = append(c.Tags, tag)
		}
	}
	c.DashboardUID = p.String("dashboard_uid")
	if p.Has("panel_id") {
		c.PanelID = p.Int("panel_id", 1, 1<<31-1)
		if c.DashboardUID == "" {
			p.Errorf("panel_id", "add dashboard_uid=... (a panel id is only unique within its dashboard)", "given without dashboard_uid")
		}
	}
	if p.Has("org_id") {
		c.OrgID = strconv.Itoa(p.Int("org_id", 1, 1<<31-1))
	}
	c.HTTP = httpx.OptionsFromParams(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := t.URL
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the target must be Grafana's http:// or https:// base URL, e.g. grafana:https://grafana.example?token=${GRAFANA_TOKEN}")
	}
	base := *u
	base.RawQuery, base.Fragment = "", ""
	// Grafana served under a sub path (root_url .../grafana/) keeps it; /api/annotations is
	// added unless written already.
	path := strings.TrimSuffix(base.Path, "/")
	if !strings.HasSuffix(path, "/api/annotations") {
		path += "/api/annotations"
	}
	base.Path, base.RawPath = path, ""
	c.URL = &base
	return c, nil
}
