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
		Help: "the AccessKey ID; without it, the AccessKeyId environment variable (as kube-eventer). Use a ${ENV} reference. Without an AccessKey, herald signs with STS credentials as kube-eventer did: from the ACK addon's token file (token_config), else from the ECS instance's RAM role (metadata_endpoint)"},
	{Name: "accessKeySecret", Secret: true, Example: "${ALIBABA_CLOUD_ACCESS_KEY_SECRET}",
		Help: "the AccessKey secret; without it, the AccessKeySecret environment variable (as kube-eventer). Use a ${ENV} reference"},
	{Name: "token_config", Default: DefaultTokenConfig, Example: "/var/addon/token-config",
		Help: "without an AccessKey: the ACK addon's token file kube-eventer read (encrypted STS credentials, renewed by the addon; herald rereads it before they expire)"},
	{Name: "metadata_endpoint", Default: DefaultMetadataEndpoint, Example: "http://100.100.100.200",
		Help: "without an AccessKey and token file: the ECS metadata service that gives the instance RAM role's STS credentials, and the region when regionId is not given (hardened mode when the service offers it)"},
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
	// Endpoint is scheme://host[:port] of the region's SLS service; nil until the region is
	// known when neither endpoint= nor regionId says it.
	Endpoint *url.URL
	// Internal picks the VPC endpoint for a region (kube-eventer's internal=, default true).
	Internal bool
	// Labels are extra contents of every log, in the order given.
	Labels [][2]string
	// AccessKeyID and AccessKeySecret sign requests; when either is empty, STS credentials from
	// TokenConfig or the metadata service at MetadataEndpoint do (as in kube-eventer), and the
	// region, when not given, comes from that service.
	AccessKeyID, AccessKeySecret  redact.Secret
	TokenConfig, MetadataEndpoint string
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
	c.TokenConfig = p.String("token_config")
	c.MetadataEndpoint = p.String("metadata_endpoint")
	if m, err := url.Parse(c.MetadataEndpoint); err != nil || (m.Scheme != "http" && m.Scheme != "https") || m.Host == "" {
		p.Errorf("metadata_endpoint", "write it as http://HOST[:PORT], e.g. http://100.100.100.200", "not an http(s) URL")
	}
	if (c.AccessKeyID == "") != (c.AccessKeySecret == "") {
		// kube-eventer signed with an AccessKey only when both were given.
		given, missing := "accessKeyId", "accessKeySecret"
		if c.AccessKeyID == "" {
			given, missing = missing, given
		}
		p.Warnf(given, "given without %s: kube-eventer then used the ACK addon token or the ECS RAM role, and so does herald; give both to sign with the AccessKey", missing)
		c.AccessKeyID, c.AccessKeySecret = "", ""
	}
	c.Internal = p.Bool("internal")
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
		// kube-eventer asked the ECS metadata service; so does herald, at the first write.
	case !regionRe.MatchString(c.Region):
		p.Errorf("regionId", "write a region id such as cn-hangzhou or ap-southeast-1", "%q is not a region id", c.Region)
	}
	if endpoint == "" && c.Region != "" {
		host := c.Region + ".log.aliyuncs.com"
		if c.Internal {
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
