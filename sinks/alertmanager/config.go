package alertmanager

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Params are the sink's own parameters; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "severity", Repeatable: true, Default: "*:warning", Example: "BackOff:critical,OOMKilling:critical,*:warning",
		Help: "the severity label per event reason, as REASON:SEVERITY pairs separated by commas; * is every other reason. Without a * entry, other reasons get severity=warning"},
	{Name: "resolve_timeout", Default: "5m", Example: "15m",
		Help: "how long after an event was last seen its alert resolves (endsAt = lastTimestamp + resolve_timeout); a repeat of the event before then keeps the alert firing"},
	{Name: "label", Repeatable: true, Example: "team=payments",
		Help: "an extra label on every alert as NAME=VALUE, for routing (repeatable)"},
	{Name: "generator_url", Example: "https://grafana.example/d/k8s-events",
		Help: "the generatorURL of every alert: where the alert's link in notifications points"},
	{Name: "token", Secret: true, Example: "${ALERTMANAGER_TOKEN}",
		Help: "a bearer token, for an Alertmanager behind an authenticating proxy; use a ${ENV} reference. Basic auth: put user:password@ in the URL"},
}, httpx.Params)

// Config is an alertmanager sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is the alerts endpoint: the target's scheme, host and path prefix + /api/v2/alerts.
	URL *url.URL
	// Severity maps a reason to the severity label; Default is the "*" entry.
	Severity        map[string]string
	DefaultSeverity string
	// ResolveTimeout is added to an event's last timestamp to make endsAt.
	ResolveTimeout time.Duration
	// Labels are added to every alert.
	Labels map[string]string
	// GeneratorURL is sent with every alert when set.
	GeneratorURL string
	// Token is sent as "Authorization: Bearer".
	Token redact.Secret
	// Cluster is --cluster-name, the cluster label.
	Cluster string
	// HTTP configures the client.
	HTTP httpx.Options
	// Notes are said once at start-up.
	Notes []string
}

// labelName is Prometheus' label name syntax, which Alertmanager enforces.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reserved are the labels the sink sets itself.
var reserved = []string{"alertname", "namespace", "kind", "name", "cluster", "severity"}

// ParseConfig reads an alertmanager --sink value. Problems are recorded in t.Params and returned
// together, each naming the parameter and the fix.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Severity: map[string]string{}, DefaultSeverity: "warning", Labels: map[string]string{}, Cluster: env.Cluster}
	for _, pair := range p.List("severity") {
		reason, sev, ok := strings.Cut(pair, ":")
		reason, sev = strings.TrimSpace(reason), strings.TrimSpace(sev)
		if !ok || reason == "" || sev == "" {
			p.Errorf("severity", "write REASON:SEVERITY pairs, e.g. severity=BackOff:critical,*:warning", "%q is not REASON:SEVERITY", pair)
			continue
		}
		if reason == "*" {
			c.DefaultSeverity = sev
		} else {
			c.Severity[reason] = sev
		}
	}
	c.ResolveTimeout = p.Duration("resolve_timeout")
	if raw := p.String("resolve_timeout"); c.ResolveTimeout == 0 && isZero(raw) {
		p.Errorf("resolve_timeout", `write a positive duration such as "5m"`, "an alert must end after the event was last seen")
	}
	for _, kv := range p.Values("label") {
		name, value, ok := strings.Cut(kv, "=")
		switch {
		case !ok || value == "":
			p.Errorf("label", "write it as label=NAME=VALUE, e.g. label=team=payments", "%q has no NAME=VALUE", kv)
		case !labelName.MatchString(name):
			p.Errorf("label", "use letters, digits and _ (not first) in label names", "%q is not a valid label name", name)
		case slices.Contains(reserved, name):
			p.Errorf("label", "pick another name; the sink sets "+strings.Join(reserved, ", ")+" itself", "%q is set by the sink", name)
		default:
			c.Labels[name] = value
		}
	}
	c.GeneratorURL = p.String("generator_url")
	if c.GeneratorURL != "" {
		if u, err := url.Parse(c.GeneratorURL); err != nil || u.Scheme == "" || u.Host == "" {
			p.Errorf("generator_url", "write an absolute URL such as https://grafana.example/d/k8s-events", "not an absolute URL")
		}
	}
	c.Token = redact.Secret(p.String("token"))
	c.HTTP = httpx.OptionsFromParams(p)
	if lvl := p.String("level"); strings.EqualFold(lvl, "Normal") {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: level=Normal: Normal events are not alerts and are skipped; only Warning events are sent", t.ID))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	u := t.URL
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the target must be Alertmanager's http:// or https:// base URL, e.g. alertmanager:http://alertmanager.monitoring:9093")
	}
	base := *u
	base.RawQuery, base.Fragment = "", ""
	// A path prefix (Alertmanager behind --web.route-prefix=/am) is kept; /api/v2/alerts is added
	// unless the user wrote it already.
	path := strings.TrimSuffix(base.Path, "/")
	if !strings.HasSuffix(path, "/api/v2/alerts") {
		path += "/api/v2/alerts"
	}
	base.Path, base.RawPath = path, ""
	c.URL = &base
	return c, nil
}

// isZero reports whether a duration parameter says zero (as opposed to not being a duration).
func isZero(s string) bool {
	if s == "0" {
		return true
	}
	d, err := time.ParseDuration(s)
	return err == nil && d == 0
}
