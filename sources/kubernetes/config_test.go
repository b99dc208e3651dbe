package kubernetes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/heraldproject/herald/common/uri"
)

func parse(t *testing.T, value string) (*Settings, error) {
	t.Helper()
	u, err := uri.Parse("source", value)
	if err != nil {
		t.Fatalf("uri.Parse(%q): %v", value, err)
	}
	return ParseSource(u)
}

// inPod pretends to run in a pod whose in-cluster config names host, with a CA file and a token
// file (podToken).
func inPod(t *testing.T, s *Settings, host string) (podToken string) {
	podToken = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(podToken, []byte("pod-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.inCluster = func() (*rest.Config, error) {
		return &rest.Config{Host: host, BearerTokenFile: podToken, TLSClientConfig: rest.TLSClientConfig{CAFile: "/pod/ca.crt"}}, nil
	}
	return podToken
}

func TestKubeEventerDefaultSourceUsesTheInClusterConfig(t *testing.T) {
	s, err := parse(t, "kubernetes:https://kubernetes.default")
	if err != nil {
		t.Fatal(err)
	}
	if !s.InClusterConfig || s.Server != "https://kubernetes.default" || s.Insecure || s.UseServiceAccount || s.Namespaces != nil {
		t.Errorf("settings = %+v", s)
	}
	token := inPod(t, s, "https://10.0.0.1:443")
	cfg, err := s.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	// As kube-eventer: the URL replaces the in-cluster address; the pod's CA and token stay.
	if cfg.Host != "https://kubernetes.default" || cfg.CAFile != "/pod/ca.crt" || cfg.BearerTokenFile != token || cfg.Insecure {
		t.Errorf("config: host %q CA %q token file %q insecure %v", cfg.Host, cfg.CAFile, cfg.BearerTokenFile, cfg.Insecure)
	}
	if cfg.UserAgent != "herald" {
		t.Errorf("User-Agent = %q, want herald", cfg.UserAgent)
	}
	if cfg.ContentType != "application/vnd.kubernetes.protobuf" {
		t.Errorf("ContentType = %q, want protobuf as kube-eventer", cfg.ContentType)
	}
}

func TestInClusterWithoutURLKeepsThePodsAddress(t *testing.T) {
	s, err := parse(t, "kubernetes:")
	if err != nil {
		t.Fatal(err)
	}
	inPod(t, s, "https://10.0.0.1:443")
	cfg, err := s.ClientConfig()
	if err != nil || cfg.Host != "https://10.0.0.1:443" {
		t.Errorf("host %q, err %v; want the in-cluster address", cfg.Host, err)
	}
}

func TestInsecureDropsTheCA(t *testing.T) {
	s, err := parse(t, "kubernetes:https://kubernetes.default?insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	inPod(t, s, "https://10.0.0.1:443")
	cfg, err := s.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Insecure || cfg.CAFile != "" || cfg.CAData != nil {
		t.Errorf("insecure %v CA file %q CA data %d bytes; want insecure without a CA (client-go refuses both)", cfg.Insecure, cfg.CAFile, len(cfg.CAData))
	}
	// The result is usable by client-go.
	if _, err := rest.TransportFor(cfg); err != nil {
		t.Errorf("client-go rejects the config: %v", err)
	}
}

func TestOutsideAPodTheErrorSaysWhatToDo(t *testing.T) {
	s, err := parse(t, "kubernetes:https://kubernetes.default")
	if err != nil {
		t.Fatal(err)
	}
	s.inCluster = func() (*rest.Config, error) { return nil, rest.ErrNotInCluster }
	_, err = s.ClientConfig()
	if err == nil || !strings.Contains(err.Error(), "inClusterConfig=false&kubeconfig=PATH") {
		t.Errorf("error %v does not give the fix", err)
	}
}

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ZmFrZQ==
users:
- name: herald
  user:
    token: s3cret-token
contexts:
- name: test
  context: {cluster: test, user: herald}
current-context: test
`

func TestKubeconfigAndItsAliases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kubeconfig", "auth", "localKubeConfig"} {
		// The URL is ignored with a kubeconfig, as kube-eventer did.
		s, err := parse(t, "kubernetes:https://kubernetes.default?inClusterConfig=false&"+name+"="+path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Kubeconfig != path {
			t.Errorf("%s: Kubeconfig = %q", name, s.Kubeconfig)
		}
		cfg, err := s.ClientConfig()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.Host != "https://127.0.0.1:6443" || cfg.BearerToken != "s3cret-token" || string(cfg.CAData) != "fake" {
			t.Errorf("%s: host %q token %q CA %q; want the kubeconfig's", name, cfg.Host, cfg.BearerToken, cfg.CAData)
		}
		if cfg.UserAgent != UserAgent {
			t.Errorf("%s: User-Agent %q", name, cfg.UserAgent)
		}
	}
	s, err := parse(t, "kubernetes:?inClusterConfig=false&kubeconfig="+path+"&insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := s.ClientConfig(); err != nil || !cfg.Insecure || cfg.CAData != nil {
		t.Errorf("insecure with a kubeconfig: err %v, insecure %v, CA %q", err, cfg.Insecure, cfg.CAData)
	}
}

func TestMissingKubeconfigNamesTheFile(t *testing.T) {
	s, err := parse(t, "kubernetes:?inClusterConfig=false&auth=/nonexistent/kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ClientConfig()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/kubeconfig") || !strings.Contains(err.Error(), "check the path") {
		t.Errorf("error %v should name the file and the fix", err)
	}
}

func TestPlainServerURL(t *testing.T) {
	s, err := parse(t, "kubernetes:http://127.0.0.1:8080/ignored/path?inClusterConfig=false")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.ClientConfig()
	if err != nil || cfg.Host != "http://127.0.0.1:8080" {
		t.Errorf("host %q err %v, want http://127.0.0.1:8080", cfg.Host, err)
	}
	if cfg.BearerToken != "" || cfg.BearerTokenFile != "" {
		t.Errorf("a plain URL got credentials")
	}

	s, err = parse(t, "kubernetes:?inClusterConfig=false")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClientConfig(); err == nil || !strings.Contains(err.Error(), "kubeconfig=PATH") {
		t.Errorf("inClusterConfig=false with neither URL nor kubeconfig: %v", err)
	}
}

func TestUseServiceAccountReadsTheTokenFile(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("pod-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := parse(t, "kubernetes:https://127.0.0.1:6443?inClusterConfig=false&useServiceAccount=true")
	if err != nil {
		t.Fatal(err)
	}
	s.tokenFile = token
	cfg, err := s.ClientConfig()
	if err != nil || cfg.BearerTokenFile != token {
		t.Errorf("token file %q err %v; want %s (re-read on rotation)", cfg.BearerTokenFile, err, token)
	}
	// No token file: as kube-eventer, carry on without one (and say so in the log).
	s.tokenFile = filepath.Join(t.TempDir(), "absent")
	cfg, err = s.ClientConfig()
	if err != nil || cfg.BearerTokenFile != "" {
		t.Errorf("missing token: file %q err %v", cfg.BearerTokenFile, err)
	}
}

func TestNamespaces(t *testing.T) {
	s, err := parse(t, "kubernetes:https://kubernetes.default?namespaces=prod,payments&namespaces=prod")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Namespaces, []string{"prod", "payments"}) {
		t.Errorf("Namespaces = %v", s.Namespaces)
	}
	_, err = parse(t, "kubernetes:https://kubernetes.default?namespaces=prod,Bad_Name")
	if err == nil || !strings.Contains(err.Error(), `"Bad_Name"`) || !strings.Contains(err.Error(), `parameter "namespaces"`) {
		t.Errorf("a bad namespace name: %v", err)
	}
}

func TestSourceParameterErrors(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"kubernetes:https://kubernetes.default?insecure=maybe", []string{`parameter "insecure"`, "true or false"}},
		{"kubernetes:?inClusterConfig=false&auth=/a&kubeconfig=/b", []string{"conflicts with", "give the kubeconfig path once"}},
		{"kubelet:https://x", []string{`no source "kubelet"`, "--source=kubernetes:"}},
	} {
		_, err := parse(t, tc.value)
		if err == nil {
			t.Errorf("%s: accepted", tc.value)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.value, err, w)
			}
		}
	}
	// Several problems are reported together.
	_, err := parse(t, "kubernetes:?insecure=maybe&useServiceAccount=maybe")
	if err == nil || len(unwrapAll(err)) != 2 {
		t.Errorf("two problems, got %v", err)
	}
}

// TestSourceLeniency: kube-eventer's source read the parameters it knew and ignored the others,
// and expanded $VAR; herald starts with them and says so, one warning each.
func TestSourceLeniency(t *testing.T) {
	for value, want := range map[string]string{
		"kubernetes:https://kubernetes.default?inClusterConfg=false": `unknown parameter "inClusterConfg" ignored, as kube-eventer ignored it; did you mean "inClusterConfig"?`,
		"kubernetes:https://kubernetes.default?namespace=prod":       `did you mean "namespaces"?`,
		"kubernetes:https://$HERALD_T_UNSET_HOST:6443":               "environment variable HERALD_T_UNSET_HOST is not set",
	} {
		s, err := parse(t, value)
		if err != nil {
			t.Errorf("%s: %v", value, err)
			continue
		}
		if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], want) || !strings.HasPrefix(s.Warnings[0], "--source (kubernetes): ") {
			t.Errorf("%s: warnings %q, want one naming the source and containing %q", value, s.Warnings, want)
		}
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestHeapsterEraParametersAreAccepted(t *testing.T) {
	s, err := parse(t, "kubernetes:https://kubernetes.default?kubeletPort=10250&kubeletHttps=true&apiVersion=v1&useServiceAccount=true")
	if err != nil {
		t.Fatalf("a kube-eventer Deployment's parameters were refused: %v", err)
	}
	if !s.UseServiceAccount {
		t.Errorf("useServiceAccount lost")
	}
}

func TestClientConfigFromURI(t *testing.T) {
	u, err := uri.Parse("source", "kubernetes:?insecure=maybe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ClientConfig(u); err == nil || !strings.Contains(err.Error(), `parameter "insecure"`) {
		t.Errorf("ClientConfig ignored a bad parameter: %v", err)
	}
	if errors.Is(err, rest.ErrNotInCluster) {
		t.Errorf("parameters should be checked before the cluster is contacted")
	}
}
