package elasticsearch

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// DefaultIndex is kube-eventer's index prefix.
const DefaultIndex = "heapster"

// Params are the elasticsearch sink's parameters: kube-eventer's (read as its code reads them),
// plus api_key, cacert, insecuressl, data_stream, template and the AWS signing details.
var Params = slices.Concat([]uri.Param{
	{Name: "nodes", Repeatable: true, Example: "http://es-0:9200",
		Help: "an Elasticsearch node URL; repeat it for several nodes (overrides the URL before the '?')"},
	{Name: "index", Default: DefaultIndex, Example: "kube-events-%Y.%m.%d",
		Help: "index name; %Y %m %d %H are replaced from the event's last timestamp (UTC), written as is (index=kube-events-%Y.%m.%d; a % that does not start a %XX escape is kept literally). A name without % gets kube-eventer's daily suffix: INDEX-YYYY.MM.DD. With data_stream=true, the data stream's name"},
	{Name: "use_namespace", Example: "true",
		Help: "as kube-eventer: put the event's namespace into a name without %: INDEX-NAMESPACE-YYYY.MM.DD. As in kube-eventer's code, any value turns it on, also false (herald warns)"},
	{Name: "data_stream", Default: "false", Example: "true",
		Help: "write to the data stream named by index (bulk create, @timestamp); the stream needs a matching index template with data_stream (template=true installs one)"},
	{Name: "template", Default: "false", Example: "true",
		Help: "install an index template (keyword namespace/kind/reason/type, text message, date timestamps) for the index pattern before the first write"},
	{Name: "template_name", Example: "herald-events",
		Help: "name of the index template template=true installs (default: the index name up to its first %, without trailing - _ .)"},
	{Name: "pipeline", Example: "k8s-events",
		Help: "ingest pipeline every document goes through (the bulk request's pipeline parameter)"},
	{Name: "esUserName", Example: "herald",
		Help: "user name for HTTP basic authentication"},
	{Name: "esUserSecret", Secret: true, Example: "${ES_PASSWORD}",
		Help: "password for HTTP basic authentication; pass it from a Secret as ${ENV}"},
	{Name: "api_key", Secret: true, Example: "${ES_API_KEY}",
		Help: "Elasticsearch API key (the base64 \"id:key\" form); overrides esUserName/esUserSecret"},
	{Name: "maxRetries", Default: "0", Example: "2",
		Help: "times the client retries one request on another node after a network error or 502/503/504, before herald's own retry with backoff"},
	{Name: "sniff", Default: "false", Example: "true",
		Help: "discover the cluster's other nodes at start and every 5 minutes (kube-eventer's default was true; herald's is false, which works behind load balancers and in Kubernetes)"},
	{Name: "healthCheck", Default: "true", Example: "false",
		Help: "accepted for kube-eventer compatibility; the client takes failing nodes out of rotation and retries them on its own"},
	{Name: "startupHealthcheckTimeout", Example: "1",
		Help: "accepted for kube-eventer compatibility, without effect: herald does not contact the cluster at start (an unreachable cluster delays delivery instead of stopping herald)"},
	{Name: "ver", Example: "6",
		Help: "the cluster's major version, kube-eventer's 2, 5, 6 or 7 (or 8 and later). herald asks the cluster (GET /) and writes as its version needs (_type for 6 and older); ver is used when the cluster does not say (a user without the monitor privilege)"},
	{Name: "sigv4", Example: "true",
		Help: "sign every request with AWS Signature Version 4 (Amazon OpenSearch Service / Elasticsearch Service), with credentials from the AWS SDK's default chain (environment, shared files, web identity / IRSA, ECS, EC2 instance role). As in kube-eventer, any value turns it on, and so do AWS_ACCESS_KEY_ID, AWS_ACCESS_KEY, AWS_SECRET_ACCESS_KEY or AWS_SECRET_KEY in the environment"},
	{Name: "aws_region", Example: "eu-west-1",
		Help: "with sigv4: the region to sign for (default: from the endpoint's host name, DOMAIN.REGION.es.amazonaws.com, else AWS_REGION / the AWS config)"},
	{Name: "aws_service", Example: "aoss",
		Help: "with sigv4: the service to sign for (default es; aoss for an *.aoss.amazonaws.com endpoint, OpenSearch Serverless)"},
	{Name: "bulkWorkers", Default: "5", Example: "5",
		Help: "accepted for kube-eventer compatibility: herald sends one bulk request per batch (batch_size), synchronously, so each event's result is known"},
	{Name: "cluster_name", Example: "prod-eu",
		Help: "cluster name written into every document (default: --cluster-name, else \"default\" as kube-eventer)"},
}, httpx.TransportParams)

// Config is the elasticsearch sink's parsed configuration.
type Config struct {
	// ID names the sink in logs and metrics (sinks.Target.ID).
	ID string
	// Addresses are the node URLs.
	Addresses []string
	// Index is the index name pattern (strftime-style %Y %m %d %H), or the data stream name.
	Index        string
	UseNamespace bool
	DataStream   bool
	// Template, when set, is installed before the first write.
	Template     bool
	TemplateName string
	Pipeline     string
	Username     string
	Password     string
	APIKey       string
	// HTTP is the transport's timeout and TLS options (httpx's parameters).
	HTTP       httpx.Options
	MaxRetries int
	Sniff      bool
	Cluster    string
	// Ver is the ver= major version (0 when not given); Typed says whether it needs _type.
	Ver int
	// Alias is kube-eventer's alias INDEX-events, given to every daily index herald writes to
	// (kube-eventer's index form only; empty otherwise).
	Alias string
	// SigV4 signs requests for AWS; AWSRegion and AWSService name what is signed for ("" for
	// the defaults).
	SigV4                 bool
	AWSRegion, AWSService string
}

// awsEnv are the variables kube-eventer's useSigV4 looked for: any of them turns signing on.
var awsEnv = []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"}

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

	if nodes := p.List("nodes"); len(nodes) > 0 {
		c.Addresses = nodes
		if t.URL.Host != "" {
			p.Warnf("nodes", "nodes= overrides the URL before the '?' in kube-eventer, and in herald")
		}
	} else if t.URL.Scheme != "" && t.URL.Host != "" {
		base := url.URL{Scheme: t.URL.Scheme, Host: t.URL.Host, Path: t.URL.Path}
		if fixed, ok := repeatedScheme(t.URL); ok {
			// https://https://host/: kube-eventer dialled the host "https" and failed.
			p.Warnf("nodes", "the URL repeats its scheme (%s://%s//...): kube-eventer took %q as the host and could not connect; herald uses %s", t.URL.Scheme, t.URL.Host, t.URL.Host, fixed.String())
			base = *fixed
		} else if strings.Trim(base.Path, "/") != "" {
			p.Warnf("nodes", "kube-eventer sent to %s://%s and dropped the path %q; herald keeps it (for a proxy that serves Elasticsearch under a path); remove it if Elasticsearch is at the root", t.URL.Scheme, t.URL.Host, base.Path)
		}
		c.Addresses = []string{base.String()}
	}
	if len(c.Addresses) == 0 {
		p.Errorf("nodes", "write the URL as elasticsearch:http://HOST:9200 or add nodes=http://HOST:9200", "no Elasticsearch node given")
	}
	for i, a := range c.Addresses {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Errorf("nodes", "write each node as http://HOST:PORT or https://HOST:PORT", "node #%d is not an http(s) URL (not shown: it may hold a password; a ',' in a password splits nodes=, write it as %%2C)", i+1)
			continue
		}
		if u.User != nil {
			p.Errorf("nodes", "give the user in esUserName and the password in esUserSecret=${ENV}", "a node URL must not carry credentials")
		}
	}

	c.Index = p.String("index")
	if p.Has("use_namespace") {
		// kube-eventer: len(opts["use_namespace"]) > 0, whatever the value.
		c.UseNamespace = true
		if v := strings.ToLower(p.String("use_namespace")); v == "false" || v == "0" || v == "no" || v == "off" {
			p.Warnf("use_namespace", "kube-eventer turned it on for any value, %q too, and put the namespace into the index name; herald does the same; remove use_namespace to turn it off", v)
		}
	}
	c.DataStream = p.Bool("data_stream")
	if c.DataStream {
		if strings.Contains(c.Index, "%") {
			p.Errorf("index", "give the data stream's name without date patterns (Elasticsearch rolls its backing indices over)", "%q has a date pattern", c.Index)
		}
		if c.UseNamespace {
			p.Errorf("use_namespace", "remove it, or write to indices (data_stream=false)", "it cannot be combined with data_stream=true")
		}
	} else if !strings.Contains(c.Index, "%") {
		c.Alias = strings.ToLower(c.Index) + "-events" // kube-eventer's IndexAlias("events")
		c.Index += "-%Y.%m.%d"                         // kube-eventer's daily index (the namespace goes before the date)
	}
	if err := checkIndexPattern(c.Index); err != nil {
		p.Errorf("index", "use lower case letters, digits, - _ . and the patterns %Y %m %d %H", "%v", err)
	}

	c.Template = p.Bool("template")
	c.TemplateName = p.String("template_name")
	if c.TemplateName == "" {
		c.TemplateName = defaultTemplateName(c.Index)
	}
	c.Pipeline = p.String("pipeline")
	c.Username = p.String("esUserName")
	c.Password = p.String("esUserSecret")
	c.APIKey = p.String("api_key")
	if c.Password != "" {
		sinks.ClearText(p, "esUserSecret", c.Addresses...)
	}
	if c.APIKey != "" {
		sinks.ClearText(p, "api_key", c.Addresses...)
	}
	if (c.Username == "") != (c.Password == "") && c.APIKey == "" {
		// kube-eventer authenticated only with both; with one it sent no credentials.
		name, other := "esUserName", "esUserSecret"
		if c.Username == "" {
			name, other = other, name
		}
		p.Warnf(name, "given without %s: kube-eventer then sent no credentials, and neither does herald; give both for basic authentication", other)
		c.Username, c.Password = "", ""
	}
	c.HTTP = httpx.OptionsFromParams(p)
	c.MaxRetries = p.Int("maxRetries", 0, 10)
	c.Sniff = p.Bool("sniff")
	p.Bool("healthCheck")
	p.String("startupHealthcheckTimeout")
	p.Int("bulkWorkers", 1, 100)
	if v := p.String("ver"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 2 || n == 3 || n == 4:
			// kube-eventer refused these too (UnsupportedVersion).
			p.Errorf("ver", "write the cluster's major version: 2, 5, 6, 7 or 8 (or leave ver out: herald asks the cluster)", "%q is not an Elasticsearch major version", v)
		default:
			c.Ver = n
		}
	}

	c.SigV4 = p.Has("sigv4")
	if !c.SigV4 {
		for _, k := range awsEnv {
			if os.Getenv(k) != "" {
				c.SigV4 = true // kube-eventer's useSigV4
			}
		}
	}
	c.AWSRegion = p.String("aws_region")
	c.AWSService = p.String("aws_service")
	if c.SigV4 {
		if v := strings.ToLower(p.String("sigv4")); v == "false" || v == "0" {
			p.Warnf("sigv4", "kube-eventer signed requests for any value, %q too; herald does the same; remove sigv4 (and the AWS_* credentials from the environment) to turn it off", v)
		}
		if c.Username != "" || c.APIKey != "" {
			p.Warnf("esUserName", "with AWS signing the Authorization header carries the signature (as in kube-eventer, whose signature replaced the basic credentials); herald sends no basic credentials or API key")
			c.Username, c.Password, c.APIKey = "", "", ""
		}
		if c.Sniff {
			p.Warnf("sniff", "kube-eventer turned sniffing off with AWS signing (the service hides its nodes); herald does the same")
			c.Sniff = false
		}
	} else if c.AWSRegion != "" || c.AWSService != "" {
		p.Errorf("aws_region", "add sigv4=true, or remove aws_region/aws_service", "given without sigv4")
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

// repeatedScheme repairs https://https://host/...: url.Parse reads the host "https:" and the
// path //host/...
func repeatedScheme(u *url.URL) (*url.URL, bool) {
	h := strings.TrimSuffix(u.Host, ":")
	if h == u.Host || (h != "http" && h != "https") || !strings.HasPrefix(u.Path, "//") {
		return nil, false
	}
	rest, err := url.Parse(h + ":" + u.Path)
	if err != nil || rest.Host == "" {
		return nil, false
	}
	return &url.URL{Scheme: rest.Scheme, Host: rest.Host, Path: rest.Path}, true
}

// checkIndexPattern rejects names Elasticsearch would refuse, whatever the date.
func checkIndexPattern(pattern string) error {
	name := expandIndex(pattern, "", zeroTime)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("%q is not a usable index name", pattern)
	}
	if strings.ContainsAny(name, `\/*?"<>| ,#:`) || name != strings.ToLower(name) {
		return fmt.Errorf("%q holds upper case letters or characters Elasticsearch forbids in index names", pattern)
	}
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "+") {
		return fmt.Errorf("%q starts with - _ or +", pattern)
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '%' {
			if i+1 >= len(pattern) || !strings.ContainsRune("YmdH%", rune(pattern[i+1])) {
				return fmt.Errorf("%q uses a pattern other than %%Y %%m %%d %%H", pattern)
			}
			i++
		}
	}
	return nil
}

// defaultTemplateName is the index name up to its first %, without trailing separators.
func defaultTemplateName(pattern string) string {
	prefix, _, _ := strings.Cut(pattern, "%")
	prefix = strings.TrimRight(prefix, "-_.")
	if prefix == "" {
		return "herald-events"
	}
	return prefix
}
