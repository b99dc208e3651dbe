package sls

import (
	"errors"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Params are the sink's own parameters, kube-eventer's unchanged plus endpoint; the filter and
// common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "project", Example: "k8s-log-c1234",
		Help: "the SLS project (required)"},
	{Name: "logStore", Example: "k8s-event",
		Help: "the logstore in the project (required)"},
	{Name: "topic", Example: "k8s-cluster-dev",
		Help: "the topic of every log group (__topic__)"},
	{Name: "regionId", Example: "cn-hangzhou",
		Help: "the region of the project; without it, the RegionId environment variable, then the endpoint's host name (cn-hangzhou.log.aliyuncs.com). It signs every request (signature v4)"},
	{Name: "label", Repeatable: true, Example: "ClusterId,c1234",
		Help: "an extra field on every log as KEY,VALUE (repeatable), as kube-eventer writes it"},
	{Name: "accessKeyId", Secret: true, Example: "${ALIBABA_CLOUD_ACCESS_KEY_ID}",
		Help: "the AccessKey ID; without it, the AccessKeyId environment variable (as kube-eventer). Use a ${ENV} reference"},
	{Name: "accessKeySecret", Secret: true, Example: "${ALIBABA_CLOUD_ACCESS_KEY_SECRET}",
		Help: "the AccessKey secret; without it, the AccessKeySecret environment variable (as kube-eventer). Use a ${ENV} reference"},
	{Name: "internal", Default: "true", Example: "false",
		Help: "reach SLS over the VPC endpoint REGION-intranet.log.aliyuncs.com (true, kube-eventer's default) or the public REGION.log.aliyuncs.com (false)"},
	{Name: "endpoint", Example: "https://cn-hangzhou.log.aliyuncs.com",
		Help: "the SLS endpoint, overriding internal= and regionId's endpoint (and the SLS_ENDPOINT environment variable kube-eventer read); http:// or https://, https when no scheme is given"},
}, httpx.Params)

// Config is an sls sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// Project, LogStore and Topic say where logs go.
	Project, LogStore, Topic string
	// Region signs requests.
	Region string
	// Endpoint is scheme://host[:port] of the region's SLS service.
	Endpoint *url.URL
	// Labels are extra contents of every log, in the order given.
	Labels [][2]string
	// AccessKeyID and AccessKeySecret sign requests.
	AccessKeyID, AccessKeySecret redact.Secret
	// HTTP configures the client.
	HTTP httpx.Options
}

// name rules from the SLS console: projects are lowercase, logstores also allow _.
var (
	projectRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	logstoreRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$`)
	regionRe   = regexp.MustCompile(`^[a-z]{2}-[a-z0-9-]+$`)
)

// ParseConfig reads an sls --sink value. Problems are recorded in t.Params and returned
// together, each naming the parameter and the fix. Like kube-eventer, the target URL after
// "sls:" is not used: the endpoint comes from endpoint=, or from regionId and internal.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID}
	c.Project = p.String("project")
	switch {
	case c.Project == "":
		p.Errorf("project", "add project=NAME, the SLS project to write to", "missing")
	case !projectRe.MatchString(c.Project):
		p.Errorf("project", "SLS project names are 3-63 lowercase letters, digits and -", "%q is not a valid project name", c.Project)
	}
	c.LogStore = p.String("logStore")
	switch {
	case c.LogStore == "":
		p.Errorf("logStore", "add logStore=NAME, the logstore to write to", "missing")
	case !logstoreRe.MatchString(c.LogStore):
		p.Errorf("logStore", "SLS logstore names are 3-63 lowercase letters, digits, - and _", "%q is not a valid logstore name", c.LogStore)
	}
	c.Topic = p.String("topic")
	for _, kv := range p.Values("label") {
		k, v, ok := strings.Cut(kv, ",")
		if !ok || k == "" || strings.Contains(v, ",") {
			// kube-eventer logged and skipped such a label; herald refuses to start.
			p.Errorf("label", "write it as label=KEY,VALUE, e.g. label=ClusterId,c1234", "%q is not KEY,VALUE", kv)
			continue
		}
		c.Labels = append(c.Labels, [2]string{k, v})
	}
	c.AccessKeyID = redact.Secret(orEnv(p.String("accessKeyId"), "AccessKeyId"))
	c.AccessKeySecret = redact.Secret(orEnv(p.String("accessKeySecret"), "AccessKeySecret"))
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		p.Errorf("accessKeySecret", "give accessKeyId=${...}&accessKeySecret=${...} from a Secret, or set the AccessKeyId and AccessKeySecret environment variables (herald does not read ECS instance metadata)", "no AccessKey")
	}
	internal := p.Bool("internal")
	endpoint := p.String("endpoint")
	if endpoint == "" {
		endpoint = os.Getenv("SLS_ENDPOINT")
	}
	c.Region = orEnv(p.String("regionId"), "RegionId")
	if c.Region == "" && endpoint != "" {
		c.Region = regionOf(endpoint)
	}
	switch {
	case c.Region == "":
		p.Errorf("regionId", "add regionId=cn-hangzhou (your project's region); it signs every request", "missing, and no endpoint names a region")
	case !regionRe.MatchString(c.Region):
		p.Errorf("regionId", "write a region id such as cn-hangzhou or ap-southeast-1", "%q is not a region id", c.Region)
	}
	if endpoint == "" && c.Region != "" {
		host := c.Region + ".log.aliyuncs.com"
		if internal {
			host = c.Region + "-intranet.log.aliyuncs.com"
		}
		endpoint = "https://" + host
	}
	if endpoint != "" {
		u, err := parseEndpoint(endpoint)
		if err != nil {
			p.Errorf("endpoint", "write a host such as cn-hangzhou.log.aliyuncs.com, or http(s)://host[:port]", "%v", err)
		}
		c.Endpoint = u
	}
	c.HTTP = httpx.OptionsFromParams(p)
	c.HTTP.Secrets = append(c.HTTP.Secrets, string(c.AccessKeyID), string(c.AccessKeySecret))
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func orEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

func parseEndpoint(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		// Not quoted: it may carry user:password@.
		return nil, errors.New("not an SLS endpoint (scheme://host[:port], no path or query)")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// regionOf reads the region from an SLS endpoint host: cn-hangzhou.log.aliyuncs.com and
// cn-hangzhou-intranet.log.aliyuncs.com are in cn-hangzhou.
func regionOf(endpoint string) string {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return ""
	}
	first, rest, ok := strings.Cut(u.Hostname(), ".")
	if !ok || !strings.HasPrefix(rest, "log.aliyuncs.com") || net.ParseIP(u.Hostname()) != nil {
		return ""
	}
	for _, suffix := range []string{"-intranet", "-internal", "-share"} {
		first = strings.TrimSuffix(first, suffix)
	}
	return first
}
