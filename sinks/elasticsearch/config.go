package elasticsearch

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// DefaultIndex is kube-eventer's index prefix.
const DefaultIndex = "heapster"

// Params are the elasticsearch sink's parameters: kube-eventer's, plus api_key, cacert,
// insecuressl, data_stream and template.
var Params = []uri.Param{
	{Name: "nodes", Repeatable: true, Example: "http://es-0:9200",
		Help: "an Elasticsearch node URL; repeat it for several nodes (overrides the URL before the '?')"},
	{Name: "index", Default: DefaultIndex, Example: "kube-events-%Y.%m.%d",
		Help: "index name; %Y %m %d %H are replaced from the event's last timestamp (UTC), written as is (index=kube-events-%Y.%m.%d; a % that does not start a %XX escape is kept literally). A name without % gets kube-eventer's daily suffix: INDEX-YYYY.MM.DD. With data_stream=true, the data stream's name"},
	{Name: "use_namespace", Default: "false", Example: "true",
		Help: "as kube-eventer: put the event's namespace into a name without %: INDEX-NAMESPACE-YYYY.MM.DD"},
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
	{Name: "cacert", Example: "/etc/herald/es-ca.crt",
		Help: "PEM file of CA certificates to trust for https nodes, in addition to the system's"},
	{Name: "insecuressl", Default: "false", Example: "true",
		Help: "do not verify the nodes' TLS certificates (for testing only)"},
	{Name: "timeout", Default: "30s", Example: "10s",
		Help: "longest time one bulk request may take; a request that takes longer is retried"},
	{Name: "maxRetries", Default: "0", Example: "2",
		Help: "times the client retries one request on another node after a network error or 502/503/504, before herald's own retry with backoff"},
	{Name: "sniff", Default: "false", Example: "true",
		Help: "discover the cluster's other nodes at start and every 5 minutes (kube-eventer's default was true; herald's is false, which works behind load balancers and in Kubernetes)"},
	{Name: "healthCheck", Default: "true", Example: "false",
		Help: "accepted for kube-eventer compatibility; the client takes failing nodes out of rotation and retries them on its own"},
	{Name: "startupHealthcheckTimeout", Example: "1",
		Help: "accepted for kube-eventer compatibility, without effect: herald does not contact the cluster at start (an unreachable cluster delays delivery instead of stopping herald)"},
	{Name: "ver", Example: "7",
		Help: "Elasticsearch major version; 7 (7.14 or newer) and 8 are supported, and herald does not need it"},
	{Name: "bulkWorkers", Default: "5", Example: "5",
		Help: "accepted for kube-eventer compatibility: herald sends one bulk request per batch (batch_size), synchronously, so each event's result is known"},
	{Name: "cluster_name", Example: "prod-eu",
		Help: "cluster name written into every document (default: --cluster-name, else \"default\" as kube-eventer)"},
}

// Config is the elasticsearch sink's parsed configuration.
type Config struct {
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
	CACert       []byte
	Insecure     bool
	Timeout      int64 // nanoseconds; 0 means the default
	MaxRetries   int
	Sniff        bool
	Cluster      string
}

// ParseConfig reads the sink's parameters; problems are recorded in t.Params.
func ParseConfig(t sinks.Target, env sinks.Env) *Config {
	p := t.Params
	c := &Config{}

	if nodes := p.List("nodes"); len(nodes) > 0 {
		c.Addresses = nodes
	} else if t.URL.Scheme != "" && t.URL.Host != "" {
		base := url.URL{Scheme: t.URL.Scheme, Host: t.URL.Host, Path: t.URL.Path}
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
	c.UseNamespace = p.Bool("use_namespace")
	c.DataStream = p.Bool("data_stream")
	if c.DataStream {
		if strings.Contains(c.Index, "%") {
			p.Errorf("index", "give the data stream's name without date patterns (Elasticsearch rolls its backing indices over)", "%q has a date pattern", c.Index)
		}
		if c.UseNamespace {
			p.Errorf("use_namespace", "remove it, or write to indices (data_stream=false)", "it cannot be combined with data_stream=true")
		}
	} else if !strings.Contains(c.Index, "%") {
		c.Index += "-%Y.%m.%d" // kube-eventer's daily index (the namespace goes before the date)
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
		p.Errorf("esUserSecret", "give both esUserName and esUserSecret (or api_key)", "only one of esUserName and esUserSecret is set")
	}
	if f := p.String("cacert"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			p.Errorf("cacert", "give a readable PEM file of CA certificates", "%v", err)
		}
		c.CACert = b
	}
	c.Insecure = p.Bool("insecuressl")
	c.Timeout = int64(p.Duration("timeout"))
	if p.Has("timeout") && c.Timeout == 0 {
		p.Errorf("timeout", `write a positive duration such as "30s"`, "a zero timeout would let a stuck node hold the sink forever")
	}
	c.MaxRetries = p.Int("maxRetries", 0, 10)
	c.Sniff = p.Bool("sniff")
	p.Bool("healthCheck")
	p.String("startupHealthcheckTimeout")
	p.Int("bulkWorkers", 1, 100)
	if v := p.String("ver"); v != "" && v != "7" && v != "8" {
		p.Errorf("ver", "upgrade the cluster to 7.14 or newer (or remove ver=): herald uses go-elasticsearch v8", "Elasticsearch %s is not supported", v)
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
