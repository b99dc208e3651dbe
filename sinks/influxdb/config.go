package influxdb

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Defaults, kube-eventer's (its common/influxdb BuildConfig) unless said otherwise.
const (
	DefaultDB   = "k8s"
	DefaultUser = "root"
	DefaultPW   = "root"
	// DefaultMeasurement is herald's own layout's measurement (layout=herald).
	DefaultMeasurement = "kube_event"
	// kube-eventer's measurements: the whole event as JSON in field "value", or with
	// withfields=true the message as a field and the event's attributes as tags.
	KubeEventerMeasurement           = "log/events"
	KubeEventerMeasurementWithFields = "events"
)

// Layouts of the points.
const (
	LayoutKubeEventer = "kube-eventer"
	LayoutHerald      = "herald"
)

// Params are the influxdb sink's parameters: kube-eventer's InfluxDB 1.x ones (user, pw, db,
// retention, withfields, insecuressl, cluster_name, disable_counter_metrics, concurrency; secure,
// which its docs name and its code ignores), read as its code reads them, InfluxDB 2's (org,
// bucket, token), and herald's (layout, measurement, cacert, timeout).
var Params = slices.Concat([]uri.Param{
	{Name: "user", Default: DefaultUser, Example: "herald",
		Help: "InfluxDB 1.x user, sent with pw as HTTP basic authentication (kube-eventer's default root; a server without authentication ignores it)"},
	{Name: "pw", Default: DefaultPW, Secret: true, Example: "${INFLUX_PASSWORD}",
		Help: "InfluxDB 1.x password (kube-eventer's default root); pass it from a Secret as ${ENV}"},
	{Name: "db", Default: DefaultDB, Example: "k8s",
		Help: "InfluxDB 1.x database; created on the first write when absent, as kube-eventer did (CREATE DATABASE needs an admin user when authentication is on)"},
	{Name: "retention", Example: "autogen",
		Help: "InfluxDB 1.x retention policy to write to (default: the database's default policy). kube-eventer read it but always wrote to its policy \"default\"; a duration (7d, 0) is ignored with a warning"},
	{Name: "secure", Example: "true",
		Help: "accepted as in kube-eventer, which ignored it: the URL's scheme (https://) decides TLS"},
	{Name: "org", Example: "platform",
		Help: "InfluxDB 2 organization (with bucket and token: the InfluxDB 2 form, written through /api/v2/write)"},
	{Name: "bucket", Example: "k8s-events",
		Help: "InfluxDB 2 bucket (with org and token); in the InfluxDB 1.x form DB/RETENTION"},
	{Name: "token", Secret: true, Example: "${INFLUX_TOKEN}",
		Help: "InfluxDB 2 API token; pass it from a Secret as ${ENV}"},
	{Name: "layout", Default: LayoutKubeEventer, Example: LayoutHerald,
		Help: `point layout: "kube-eventer" (kube-eventer's measurements, tags and fields, so its dashboards keep working) or "herald" (measurement kube_event, tags namespace/kind/object_name/reason/type/component/hostname/cluster/uid, fields message and count, restart details)`},
	{Name: "measurement", Example: "events",
		Help: "measurement the points go to (default: kube-eventer's log/events, or events with withfields=true; kube_event with layout=herald)"},
	{Name: "withfields", Default: "false", Example: "true",
		Help: "kube-eventer's switch: false writes measurement log/events with the whole event as JSON in field value; true writes measurement events with the message as a field and the event's attributes as tags. With layout=herald, withfields=false adds the value field"},
	{Name: "cluster_name", Example: "prod-eu",
		Help: "value of the cluster_name tag (cluster with layout=herald); default: --cluster-name, else \"default\" as kube-eventer"},
	{Name: "disable_counter_metrics", Default: "false", Example: "true",
		Help: "accepted as in kube-eventer, without effect: it applied to heapster's metrics, not to events"},
	{Name: "concurrency", Default: "1", Example: "2",
		Help: "accepted as in kube-eventer (a positive number), without effect: herald writes each batch in one request"},
}, httpx.TransportParams)

// Config is the influxdb sink's parsed configuration.
type Config struct {
	// ID names the sink in logs and metrics (sinks.Target.ID).
	ID string
	// ServerURL is the server's root URL (http(s)://HOST:PORT[/prefix]).
	ServerURL string
	// V1 is set for the InfluxDB 1.x form: /write?db=DB&rp=RP with basic authentication.
	V1          bool
	DB          string
	RP          string
	Org         string
	Bucket      string
	Token       string
	User        string
	Password    string
	Layout      string
	Measurement string
	WithFields  bool
	// ValueField adds kube-eventer's value field (the event as JSON) to herald's layout.
	ValueField bool
	// HTTP is the transport's timeout and TLS options (httpx's parameters).
	HTTP    httpx.Options
	Cluster string
}

var nameRe = regexp.MustCompile(`^[^\x00-\x1f"/\\]+$`)

// durationRe matches what heapster's and kube-eventer's retention held: a duration, not a
// policy name.
var durationRe = regexp.MustCompile(`^(?i:inf|[0-9]+(ns|u|µ|ms|s|m|h|d|w)?)$`)

// ParseConfig reads the sink's parameters; the Config is returned only when every one is
// valid (t.Params.Err reports them all, each with its fix).
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	c := readConfig(t, env)
	if err := t.Params.Err(); err != nil {
		return nil, err
	}
	c.ID = t.ID
	return c, nil
}

// readConfig reads the sink's parameters; problems are recorded in t.Params.
func readConfig(t sinks.Target, env sinks.Env) *Config {
	p := t.Params
	c := &Config{}
	switch {
	case t.URL.Scheme == "":
		c.ServerURL = "http://localhost:8086" // kube-eventer's default host
	case t.URL.Scheme != "http" && t.URL.Scheme != "https" || t.URL.Host == "":
		p.Errorf("URL", "write it as influxdb:http://HOST:8086", "%q is not an http(s) URL", t.URL.Scheme+"://"+t.URL.Host)
	default:
		if t.URL.User != nil {
			p.Errorf("URL", "give the user in user= and the password in pw=${ENV} (or token=${ENV})", "the URL must not carry credentials")
		}
		base := url.URL{Scheme: t.URL.Scheme, Host: t.URL.Host, Path: t.URL.Path}
		c.ServerURL = base.String()
	}
	if p.Has("secure") {
		secure := p.Bool("secure")
		if secure != (t.URL.Scheme == "https") {
			p.Warnf("secure", "kube-eventer ignored it and used the URL's scheme (%s); herald does the same; write https:// (or http://) in the URL instead", orDefault(t.URL.Scheme, "http"))
		}
	}

	c.Org = p.String("org")
	c.Bucket = p.String("bucket")
	c.Token = p.String("token")
	if c.Token != "" {
		sinks.ClearText(p, "token", c.ServerURL)
	}
	v2 := c.Org != "" || c.Token != ""
	c.DB = p.String("db")
	if v2 {
		if c.Bucket == "" {
			p.Errorf("bucket", "name the bucket (bucket=NAME) for the InfluxDB 2 form", "org/token given without bucket")
		}
		if p.Has("user") || p.Has("pw") || p.Has("db") || p.Has("retention") {
			p.Errorf("db", "use either the InfluxDB 1.x form (user, pw, db, retention) or the InfluxDB 2 form (org, bucket, token)", "both forms given")
		}
	} else {
		c.V1 = true
		c.User, c.Password = p.String("user"), p.String("pw")
		if p.Has("pw") {
			sinks.ClearText(p, "pw", c.ServerURL)
		}
		if c.Bucket != "" {
			if p.Has("db") || p.Has("retention") {
				p.Errorf("bucket", "give db (and retention), or bucket=DB/RETENTION, not both", "both given")
			}
			c.DB, c.RP, _ = strings.Cut(c.Bucket, "/")
		} else if p.Has("retention") {
			c.RP = p.String("retention")
			switch {
			case durationRe.MatchString(c.RP):
				p.Warnf("retention", "%q is a duration; kube-eventer read it and wrote to its policy \"default\" all the same; herald writes to the database's default policy; remove retention, or name a retention policy", c.RP)
				c.RP = ""
			case c.RP != "":
				p.Warnf("retention", "kube-eventer read it but always wrote to its retention policy \"default\"; herald writes to the policy named %q", c.RP)
			}
		}
		if !nameRe.MatchString(c.DB) {
			p.Errorf("db", "use a plain database name", "%q is not usable", c.DB)
		}
	}
	c.Layout = p.OneOf("layout", LayoutKubeEventer, LayoutHerald)
	c.WithFields = p.Bool("withfields")
	c.Measurement = p.String("measurement")
	switch {
	case p.Has("measurement") && c.Measurement == "":
		p.Errorf("measurement", "name a measurement, or leave measurement out", "it is empty")
	case c.Measurement != "":
	case c.Layout == LayoutHerald:
		c.Measurement = DefaultMeasurement
	case c.WithFields:
		c.Measurement = KubeEventerMeasurementWithFields
	default:
		c.Measurement = KubeEventerMeasurement
	}
	c.ValueField = c.Layout == LayoutHerald && p.Has("withfields") && !c.WithFields
	c.HTTP = httpx.OptionsFromParams(p)
	c.Cluster = p.String("cluster_name")
	if c.Cluster == "" {
		c.Cluster = env.Cluster
	}
	if c.Cluster == "" {
		c.Cluster = "default"
	}
	// kube-eventer parsed these and refused a bad value; neither applies to events.
	p.Bool("disable_counter_metrics")
	p.Int("concurrency", 1, 1<<20)
	return c
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
