package influxdb

import (
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Defaults.
const (
	DefaultDB          = "k8s"
	DefaultMeasurement = "kube_event"
)

// Params are the influxdb sink's parameters: kube-eventer's InfluxDB 1.x ones (user, pw, db,
// retention, insecuressl, withfields, cluster_name) and InfluxDB 2's (org, bucket, token).
var Params = []uri.Param{
	{Name: "user", Example: "herald",
		Help: "InfluxDB 1.x user (sent as the token user:pw on the v1-compatibility write path); empty for a server without authentication"},
	{Name: "pw", Secret: true, Example: "${INFLUX_PASSWORD}",
		Help: "InfluxDB 1.x password; pass it from a Secret as ${ENV}"},
	{Name: "db", Default: DefaultDB, Example: "k8s",
		Help: "InfluxDB 1.x database; created on the first write when absent (CREATE DATABASE needs an admin user when authentication is on)"},
	{Name: "retention", Example: "autogen",
		Help: "InfluxDB 1.x retention policy to write to (default: the database's default policy)"},
	{Name: "org", Example: "platform",
		Help: "InfluxDB 2 organization (with bucket and token: the InfluxDB 2 form)"},
	{Name: "bucket", Example: "k8s-events",
		Help: "InfluxDB 2 bucket (with org and token); on InfluxDB 1.8 DB/RETENTION"},
	{Name: "token", Secret: true, Example: "${INFLUX_TOKEN}",
		Help: "InfluxDB 2 API token; pass it from a Secret as ${ENV}"},
	{Name: "measurement", Default: DefaultMeasurement, Example: "events",
		Help: "measurement the points go to (kube-eventer used events with withfields=true)"},
	{Name: "withfields", Default: "true", Example: "false",
		Help: "true: the message and count as fields and the event's attributes as tags; false adds kube-eventer's value field (the whole event as JSON) as well"},
	{Name: "insecuressl", Default: "false", Example: "true",
		Help: "do not verify the server's TLS certificate (for testing only)"},
	{Name: "cacert", Example: "/etc/herald/influx-ca.crt",
		Help: "PEM file of CA certificates to trust for an https server, in addition to the system's"},
	{Name: "timeout", Default: "30s", Example: "10s",
		Help: "longest time one write may take; a write that takes longer is retried"},
	{Name: "cluster_name", Example: "prod-eu",
		Help: "value of the cluster tag (default: --cluster-name, else \"default\" as kube-eventer)"},
}

// Config is the influxdb sink's parsed configuration.
type Config struct {
	// ServerURL is the server's root URL (http(s)://HOST:PORT[/prefix]).
	ServerURL string
	// V1 is set for the InfluxDB 1.x form: bucket DB[/RP], token user:pw, no org.
	V1          bool
	DB          string
	Org         string
	Bucket      string
	Token       string
	User        string
	Measurement string
	WithFields  bool
	Insecure    bool
	CACert      []byte
	Timeout     int64
	Cluster     string
}

var nameRe = regexp.MustCompile(`^[^\x00-\x1f"/\\]+$`)

// ParseConfig reads the sink's parameters; problems are recorded in t.Params.
func ParseConfig(t sinks.Target, env sinks.Env) *Config {
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

	c.Org = p.String("org")
	c.Bucket = p.String("bucket")
	c.Token = p.String("token")
	c.User = p.String("user")
	pw := p.String("pw")
	c.DB = p.String("db")
	rp := p.String("retention")
	v2 := c.Org != "" || c.Token != ""
	if v2 {
		if c.Bucket == "" {
			p.Errorf("bucket", "name the bucket (bucket=NAME) for the InfluxDB 2 form", "org/token given without bucket")
		}
		if p.Has("user") || p.Has("pw") || p.Has("db") || p.Has("retention") {
			p.Errorf("db", "use either the InfluxDB 1.x form (user, pw, db, retention) or the InfluxDB 2 form (org, bucket, token)", "both forms given")
		}
	} else {
		c.V1 = true
		if c.Bucket == "" {
			c.Bucket = c.DB
			if rp != "" {
				c.Bucket += "/" + rp
			}
		} else if p.Has("db") || p.Has("retention") {
			p.Errorf("bucket", "give db (and retention), or bucket=DB/RETENTION, not both", "both given")
		} else {
			c.DB, _, _ = strings.Cut(c.Bucket, "/")
		}
		if c.User != "" || pw != "" {
			c.Token = c.User + ":" + pw
		}
		if !nameRe.MatchString(c.DB) {
			p.Errorf("db", "use a plain database name", "%q is not usable", c.DB)
		}
	}
	c.Measurement = p.String("measurement")
	if c.Measurement == "" {
		p.Errorf("measurement", "name a measurement", "it is empty")
	}
	c.WithFields = p.Bool("withfields")
	c.Insecure = p.Bool("insecuressl")
	if f := p.String("cacert"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			p.Errorf("cacert", "give a readable PEM file of CA certificates", "%v", err)
		}
		c.CACert = b
	}
	c.Timeout = int64(p.Duration("timeout"))
	if p.Has("timeout") && c.Timeout == 0 {
		p.Errorf("timeout", `write a positive duration such as "30s"`, "a zero timeout would let a stuck server hold the sink forever")
	}
	c.Cluster = p.String("cluster_name")
	if c.Cluster == "" {
		c.Cluster = env.Cluster
	}
	if c.Cluster == "" {
		c.Cluster = "default"
	}
	return c
}
