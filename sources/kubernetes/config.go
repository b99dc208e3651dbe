package kubernetes

import (
	"fmt"
	"os"
	"strings"

	"github.com/golang/glog"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/heraldproject/herald/common/uri"
)

// Scheme is the --source scheme this package reads.
const Scheme = "kubernetes"

// UserAgent is sent with every API request made through ClientConfig's configuration.
const UserAgent = "herald"

// serviceAccountTokenFile is where a pod's ServiceAccount token is mounted; useServiceAccount
// reads it (as kube-eventer did).
const serviceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// owner names the source in error messages.
const owner = "--source (kubernetes)"

// Params are the parameters of --source=kubernetes:..., kube-eventer's plus namespaces and
// kubeconfig. The same list drives parsing, "did you mean" suggestions and herald --help.
var Params = []uri.Param{
	{Name: "inClusterConfig", Default: "true", Example: "false",
		Help: `use the pod's ServiceAccount and the in-cluster API address (as kube-eventer, the default). The URL before "?" (https://kubernetes.default) replaces the API address when given. Set false outside a pod, together with kubeconfig= or a server URL`},
	{Name: "kubeconfig", Example: "/etc/herald/kubeconfig",
		Help: "with inClusterConfig=false: path of a kubeconfig file; its current context is used (the URL before \"?\" is then ignored, as kube-eventer did)"},
	{Name: "auth", Example: "/etc/herald/kubeconfig",
		Help: "kube-eventer's name for kubeconfig= (same meaning)"},
	{Name: "localKubeConfig", Example: "/root/.kube/config",
		Help: "kube-eventer's other, undocumented name for kubeconfig= (same meaning)"},
	{Name: "insecure", Default: "false", Example: "true",
		Help: "skip verification of the API server's TLS certificate (and drop any CA the config names). Only for test clusters"},
	{Name: "useServiceAccount", Default: "false", Example: "true",
		Help: "also send the pod's ServiceAccount token (" + serviceAccountTokenFile + ") as a bearer token, re-read when the kubelet rotates it; useful with inClusterConfig=false and a plain server URL"},
	{Name: "namespaces", Repeatable: true, Example: "prod,payments",
		Help: "watch events only in these namespaces (exact names, comma-separated; one watch each), for a ServiceAccount allowed to list events only there. Default: every namespace. To filter what a sink receives, use the sink's own namespaces= instead"},
	{Name: "kubeletPort",
		Help: "accepted and ignored: a Heapster-era parameter kube-eventer also ignored"},
	{Name: "kubeletHttps",
		Help: "accepted and ignored: a Heapster-era parameter kube-eventer also ignored"},
	{Name: "apiVersion",
		Help: "accepted and ignored: a Heapster-era parameter kube-eventer also ignored (herald always reads core/v1 Events)"},
}

// ignoredParams are accepted so that a kube-eventer Deployment carrying them keeps working.
var ignoredParams = []string{"kubeletPort", "kubeletHttps", "apiVersion"}

// Settings are a --source=kubernetes:... value, parsed and validated.
type Settings struct {
	// Server is "scheme://host[:port]" from the URL before "?", or "" when none was given.
	Server string
	// InClusterConfig is the inClusterConfig parameter (default true).
	InClusterConfig bool
	// Kubeconfig is the kubeconfig (alias auth, localKubeConfig) parameter.
	Kubeconfig string
	// Insecure is the insecure parameter.
	Insecure bool
	// UseServiceAccount is the useServiceAccount parameter.
	UseServiceAccount bool
	// Namespaces is the namespaces parameter; empty means every namespace.
	Namespaces []string
	// Warnings are what herald reads as kube-eventer did but reports: an unknown parameter
	// (kube-eventer's source ignored it), an unset environment variable. herald check fails on
	// them; the daemon logs them.
	Warnings []string

	// tokenFile and inCluster are the pod's token file and rest.InClusterConfig; tests replace them.
	tokenFile string
	inCluster func() (*rest.Config, error)
}

// ParseSource parses and validates a --source value. Every problem is reported at once, each
// naming the parameter and the fix.
func ParseSource(u *uri.URI) (*Settings, error) {
	if u.Scheme != Scheme {
		return nil, fmt.Errorf("--source=%s:...: herald has no source %q; write --source=kubernetes:https://kubernetes.default (the only source; pod restarts are enabled separately)", u.Scheme, u.Scheme)
	}
	s := &Settings{tokenFile: serviceAccountTokenFile, inCluster: rest.InClusterConfig}
	t := u.Target
	switch {
	case t.Scheme != "" && t.Host != "":
		// As kube-eventer: only scheme and host count; a path or user info is ignored.
		s.Server = t.Scheme + "://" + t.Host
	case t.Scheme != "" || t.Opaque != "" || t.Path != "":
		bare := *t
		bare.RawQuery = ""
		glog.Warningf("%s: %q is not a URL with a scheme and a host, so it is ignored (as kube-eventer did); write https://HOST[:PORT] or nothing before \"?\"", owner, bare.String())
	}

	p := uri.NewParams(owner, t.Query(), Params)
	p.Lenient() // kube-eventer's source read the parameters it knew and ignored the others
	s.InClusterConfig = p.Bool("inClusterConfig")
	var given []string
	for _, name := range []string{"kubeconfig", "auth", "localKubeConfig"} {
		if v := p.String(name); v != "" {
			if s.Kubeconfig != "" && v != s.Kubeconfig {
				p.Errorf(name, "give the kubeconfig path once", "conflicts with %s=%q", given[0], s.Kubeconfig)
				continue
			}
			s.Kubeconfig = v
			given = append(given, name)
		}
	}
	s.Insecure = p.Bool("insecure")
	s.UseServiceAccount = p.Bool("useServiceAccount")
	seen := map[string]bool{}
	for _, ns := range p.List("namespaces") {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			p.Errorf("namespaces", "write namespace names separated by commas (namespaces=prod,payments), or leave it out to watch every namespace", "%q is not a namespace name: %s", ns, strings.Join(errs, "; "))
			continue
		}
		if !seen[ns] {
			seen[ns] = true
			s.Namespaces = append(s.Namespaces, ns)
		}
	}
	var ignored []string
	for _, name := range ignoredParams {
		if p.Has(name) {
			ignored = append(ignored, name)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	for _, w := range u.Warnings {
		s.Warnings = append(s.Warnings, owner+": "+w)
	}
	s.Warnings = append(s.Warnings, p.Warnings()...)
	if len(ignored) > 0 {
		glog.Warningf("%s: ignoring %s (Heapster-era parameters kube-eventer also ignored); they can be removed", owner, strings.Join(ignored, ", "))
	}
	if s.InClusterConfig && s.Kubeconfig != "" {
		glog.Warningf("%s: %s=%s is not used because inClusterConfig is true (the default), as in kube-eventer; add inClusterConfig=false to use the kubeconfig file", owner, given[0], s.Kubeconfig)
	}
	return s, nil
}

// ClientConfig builds the API client configuration a --source value describes, with the meaning
// kube-eventer gave its parameters. cmd/herald builds the one clientset every part shares from it.
func ClientConfig(u *uri.URI) (*rest.Config, error) {
	s, err := ParseSource(u)
	if err != nil {
		return nil, err
	}
	return s.ClientConfig()
}

// ClientConfig builds the API client configuration these settings describe.
func (s *Settings) ClientConfig() (*rest.Config, error) {
	var cfg *rest.Config
	switch {
	case s.InClusterConfig:
		c, err := s.inCluster()
		if err != nil {
			return nil, fmt.Errorf("%s: inClusterConfig is true (the default) but herald is not running in a pod with a ServiceAccount (%v); outside a cluster add inClusterConfig=false&kubeconfig=PATH", owner, err)
		}
		cfg = c
		if s.Server != "" {
			cfg.Host = s.Server
		}
	case s.Kubeconfig != "":
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: s.Kubeconfig}
		c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: parameter \"kubeconfig\": cannot use %q: %v; check the path, that the file is mounted, and that it has a current-context", owner, s.Kubeconfig, err)
		}
		cfg = c
	default:
		if s.Server == "" {
			return nil, fmt.Errorf("%s: inClusterConfig=false needs the API server's URL before \"?\" (--source=kubernetes:https://HOST:6443?inClusterConfig=false) or kubeconfig=PATH", owner)
		}
		cfg = &rest.Config{Host: s.Server}
	}
	if s.Insecure {
		// client-go refuses a CA together with Insecure; kube-eventer cleared the CA file too.
		cfg.Insecure = true
		cfg.CAFile = ""
		cfg.CAData = nil
	}
	if s.UseServiceAccount {
		if _, err := os.Stat(s.tokenFile); err == nil {
			// A file, not its content: client-go re-reads it, so rotated tokens keep working.
			cfg.BearerToken = ""
			cfg.BearerTokenFile = s.tokenFile
		} else {
			// kube-eventer silently went on without a token; say so at least.
			glog.Warningf("%s: useServiceAccount=true but %s cannot be read (%v); continuing without a ServiceAccount token", owner, s.tokenFile, err)
		}
	}
	cfg.UserAgent = UserAgent
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return cfg, nil
}
