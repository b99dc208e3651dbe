package honeycomb

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Defaults, kube-eventer's (its common/honeycomb BuildConfig).
const (
	DefaultAPIHost = "https://api.honeycomb.io/"
	DefaultDataset = "heapster"
	// WriteKeyEnv is read when writekey= is not given, as kube-eventer read it.
	WriteKeyEnv = "HONEYCOMB_WRITEKEY"
)

// Params are the sink's own parameters, kube-eventer's three plus the HTTP ones every HTTP sink
// takes; the filter and common parameters are the registry's.
var Params = slices.Concat([]uri.Param{
	{Name: "writekey", Secret: true, Example: "${HONEYCOMB_WRITEKEY}",
		Help: "the Honeycomb API key (an ingest key, or a configuration key with Send Events), sent as X-Honeycomb-Team; without it, the HONEYCOMB_WRITEKEY environment variable (as kube-eventer). Use a ${ENV} reference"},
	{Name: "dataset", Default: DefaultDataset, Example: "k8s-events",
		Help: "the dataset events go to (kube-eventer's default, heapster)"},
	{Name: "apihost", Default: DefaultAPIHost, Example: "https://api.eu1.honeycomb.io",
		Help: "the Honeycomb API's base URL (EU: https://api.eu1.honeycomb.io; a Refinery or a proxy: its URL)"},
}, httpx.Params)

// Config is a honeycomb sink's configuration, parsed from its --sink value.
type Config struct {
	// ID names the sink in logs and metrics.
	ID string
	// URL is the batch endpoint: APIHOST/1/batch/DATASET.
	URL *url.URL
	// Dataset is the dataset name, as given.
	Dataset string
	// WriteKey is sent as X-Honeycomb-Team.
	WriteKey redact.Secret
	// Cluster is --cluster-name, a field of every event when set.
	Cluster string
	// HTTP configures the client.
	HTTP httpx.Options
}

// ParseConfig reads a honeycomb --sink value as kube-eventer's code reads it: writekey (else
// $HONEYCOMB_WRITEKEY; required), dataset (default heapster), apihost (default
// https://api.honeycomb.io/). The target before '?' is not used, as in kube-eventer.
func ParseConfig(t sinks.Target, env sinks.Env) (*Config, error) {
	p := t.Params
	c := &Config{ID: t.ID, Cluster: env.Cluster}
	key := p.String("writekey")
	if key == "" {
		key = os.Getenv(WriteKeyEnv)
	}
	c.WriteKey = redact.Secret(key)
	if c.WriteKey == "" {
		p.Errorf("writekey", "add writekey=${HONEYCOMB_WRITEKEY} and set the variable from a Secret (or set HONEYCOMB_WRITEKEY in herald's environment)", "no Honeycomb API key given")
	}
	c.Dataset = p.String("dataset")
	if c.Dataset == "" {
		p.Errorf("dataset", "name a dataset, or leave dataset out for heapster", "empty dataset")
	}
	if strings.Contains(c.Dataset, "/") {
		p.Errorf("dataset", "remove the slash: Honeycomb dataset names may not contain one", "%q holds a slash", c.Dataset)
	}
	host := p.String("apihost")
	base, err := url.Parse(host)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" {
		p.Errorf("apihost", "write the API's base URL, e.g. https://api.honeycomb.io", "%q is not an http(s) base URL", redact.Text(host))
	} else if base.User != nil {
		p.Errorf("apihost", "give the key in writekey=, not in the URL", "the URL must not carry credentials")
	}
	if t.URL != nil && (t.URL.Host != "" || t.URL.Opaque != "" || strings.Trim(t.URL.Path, "/") != "") {
		p.Warnf("apihost", "kube-eventer ignored the target before '?' and sent to apihost (default %s); herald does the same; write honeycomb:?dataset=...&apihost=URL", DefaultAPIHost)
	}
	c.HTTP = httpx.OptionsFromParams(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	// APIHOST/1/batch/DATASET, the dataset escaped as one path segment (kube-eventer joined it
	// unescaped, which a name with a space or '?' broke).
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + "/1/batch/" + c.Dataset
	u.RawPath = strings.TrimRight(base.EscapedPath(), "/") + "/1/batch/" + url.PathEscape(c.Dataset)
	c.URL = &u
	c.HTTP.Secrets = append(c.HTTP.Secrets, c.WriteKey.Reveal())
	if c.URL.String() == "" {
		return nil, fmt.Errorf("parameter \"apihost\": cannot build the batch URL")
	}
	return c, nil
}
