// Package cluster runs a real Kubernetes API server on 127.0.0.1 for herald's tests and for
// `make run`: the upstream kube-apiserver and etcd, built from the Go module proxy by
// hack/kube-binaries.sh and started the way envtest starts them.
//
// By default only the API server and its store run: no controller-manager, scheduler or kubelet.
// Objects are stored and watched for real, but nothing acts on them (EnsureNamespace creates the
// `default` ServiceAccount a controller-manager would have made; kwok can play the kubelet).
// Options.Controllers adds the real kube-controller-manager and kube-scheduler.
//
// Tests use ForTest; other programs use Start and Stop. Every server runs in its own process
// group, is stopped API server first, and dies with the test process on Linux, so no run
// leaves processes behind.
package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// AdminUser is the user the cluster's token authenticates as; it is in group system:masters.
const AdminUser = "admin"

// Options configures Start. The zero value is a good default.
type Options struct {
	// Dir holds the cluster's files: etcd data, certificates, keys, kubeconfig and logs.
	// Empty means a new temporary directory, removed by Stop. A given directory is kept, but
	// the cluster state in it is reset: every Start begins with an empty etcd.
	Dir string
	// BinDir holds kube-apiserver and etcd. Empty means $HERALD_KUBE_BIN, then the directory
	// printed by hack/kube-binaries.sh (which builds them the first time, about 6 min).
	BinDir string
	// ReadyTimeout bounds the wait for each server to become ready. Default 2 min: a loaded
	// 2-core CI machine starting several clusters at once is slow.
	ReadyTimeout time.Duration
	// APIServerFlags are appended to kube-apiserver's flags (a later flag wins).
	APIServerFlags []string
	// Controllers also starts kube-controller-manager and kube-scheduler (built by
	// hack/kube-binaries.sh with the API server), so that Deployments roll out, pods are
	// scheduled (onto kwok nodes) and nodes go NotReady, with the events the real controllers
	// write. Off by default: most tests need only the API server.
	Controllers bool
	// ControllerFlags are appended to kube-controller-manager's flags.
	ControllerFlags []string
}

// Cluster is a running etcd and kube-apiserver pair.
type Cluster struct {
	// URL is the API server's address, https://127.0.0.1:PORT. It stays the same across
	// StopAPIServer/StartAPIServer.
	URL string
	// Kubeconfig is the path of a kubeconfig file that reaches the cluster as AdminUser.
	Kubeconfig string
	// Token is AdminUser's bearer token.
	Token string
	// Dir is the directory holding the cluster's files.
	Dir string

	opts      Options
	removeDir bool
	caFile    string
	caData    []byte

	etcd, apiserver *process
	// controllers are kube-controller-manager and kube-scheduler (Options.Controllers).
	controllers []*process

	clientOnce sync.Once
	client     kubernetes.Interface

	stopMu  sync.Mutex
	stopped bool
}

// stopGrace is how long a server gets to exit after SIGTERM before SIGKILL.
const stopGrace = 20 * time.Second

// Start starts etcd and kube-apiserver on free ports of 127.0.0.1 and returns once the API
// server answers /readyz. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	bin, err := binDir(ctx, opts.BinDir)
	if err != nil {
		return nil, err
	}

	c := &Cluster{opts: opts, Dir: opts.Dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "herald-cluster-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	if c.Dir, err = filepath.Abs(c.Dir); err != nil {
		return nil, err
	}
	c.etcd = &process{name: "etcd", path: filepath.Join(bin, "etcd"), logPath: filepath.Join(c.Dir, "etcd.log")}
	c.apiserver = &process{name: "kube-apiserver", path: filepath.Join(bin, "kube-apiserver"), logPath: filepath.Join(c.Dir, "kube-apiserver.log")}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	c.caFile = filepath.Join(c.Dir, "certs", "apiserver.crt")

	ok := false
	defer func() {
		if !ok {
			_ = c.Stop()
		}
	}()
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := writeKubeconfig(c.Kubeconfig, c.URL, c.caData, c.Token); err != nil {
		return nil, fmt.Errorf("write %s: %w", c.Kubeconfig, err)
	}
	if opts.Controllers {
		if err := c.startControllers(bin); err != nil {
			return nil, err
		}
	}
	ok = true
	return c, nil
}

// prepareDir resets the cluster state in Dir and writes the token file and service-account key.
func (c *Cluster) prepareDir() error {
	for _, name := range []string{"etcd-data", "certs", "kubeconfig"} {
		if err := os.RemoveAll(filepath.Join(c.Dir, name)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "certs"), 0o700); err != nil {
		return err
	}
	var err error
	if c.Token, err = newToken(); err != nil {
		return err
	}
	if err := writeTokenFile(filepath.Join(c.Dir, "tokens.csv"), c.Token); err != nil {
		return err
	}
	return writeServiceAccountKey(filepath.Join(c.Dir, "service-account.key"))
}

// startEtcd starts etcd on two fresh ports, trying new ones if another process took them first.
func (c *Cluster) startEtcd(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var ports []int
		if ports, err = freePorts(2); err != nil {
			return err
		}
		clientURL, peerURL := "http://"+hostPort(ports[0]), "http://"+hostPort(ports[1])
		c.etcd.args = []string{
			"--name=herald",
			"--data-dir=" + filepath.Join(c.Dir, "etcd-data"),
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=herald=" + peerURL,
			"--unsafe-no-fsync=true", // test data: durability across power loss is not needed
			"--log-level=warn",
		}
		if err = c.etcd.start(attempt == 0); err != nil {
			return err
		}
		health := clientURL + "/health"
		err = c.waitReady(ctx, c.etcd, func(ctx context.Context) error {
			body, err := get(ctx, http.DefaultClient, health, "")
			if err == nil && !strings.Contains(body, `"health":"true"`) {
				err = fmt.Errorf("%s answered %s", health, body)
			}
			return err
		})
		if err == nil || !portTaken(err) {
			return err
		}
	}
	return err
}

// startAPIServer starts kube-apiserver on a fresh port (first start) or on c.URL's port.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	first := c.URL == ""
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		port := c.apiserverPort()
		if first {
			ports, err := freePorts(1)
			if err != nil {
				return err
			}
			port = hostPort(ports[0])
			c.URL = "https://" + port
		}
		c.apiserver.args = c.apiserverArgs(port)
		if err = c.apiserver.start(first && attempt == 0); err != nil {
			return err
		}
		err = c.waitReady(ctx, c.apiserver, c.probeAPIServer)
		if err == nil || !first || !portTaken(err) {
			return err
		}
		c.URL = ""
	}
	return err
}

func (c *Cluster) apiserverPort() string { return strings.TrimPrefix(c.URL, "https://") }

func (c *Cluster) apiserverArgs(hostport string) []string {
	port := hostport[strings.LastIndexByte(hostport, ':')+1:]
	etcdURL := c.EtcdURL()
	saKey := filepath.Join(c.Dir, "service-account.key")
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The reconciler of the `kubernetes` Service's endpoints refuses a loopback address;
		// nothing in a test reaches the API server through that Service.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + port,
		"--cert-dir=" + filepath.Join(c.Dir, "certs"),
		"--token-auth-file=" + filepath.Join(c.Dir, "tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		// On SIGTERM, drain requests in flight, then give open watches 2 s instead of the
		// 60 s --request-timeout: a test's open watch would otherwise hold Stop for a minute.
		"--shutdown-send-retry-after=true",
	}
	return append(args, c.opts.APIServerFlags...)
}

// probeAPIServer asks /readyz, trusting only the certificate the server wrote into its cert-dir
// (read once it exists), so the kubeconfig's CA is proven along the way.
func (c *Cluster) probeAPIServer(ctx context.Context) error {
	if c.caData == nil {
		data, err := os.ReadFile(c.caFile)
		if err != nil {
			return fmt.Errorf("no serving certificate yet: %w", err)
		}
		c.caData = data
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.caData) {
		c.caData = nil // partly written; read it again next time
		return fmt.Errorf("%s holds no PEM certificate yet", c.caFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	_, err := get(ctx, client, c.URL+"/readyz", c.Token)
	return err
}

// waitReady polls probe until it succeeds, the process exits, ctx ends or ReadyTimeout passes.
func (c *Cluster) waitReady(ctx context.Context, p *process, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	exited := p.exited()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		probeCtx, cancelProbe := context.WithTimeout(ctx, 5*time.Second)
		last := probe(probeCtx)
		cancelProbe()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return &exitedError{p.exitError()}
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (%w); last probe: %v; last lines of %s:\n%s",
				p.name, ctx.Err(), last, p.logPath, tail(p.logPath, 20))
		case <-tick.C:
		}
	}
}

// exitedError is a server that exited while Start waited for it.
type exitedError struct{ err error }

func (e *exitedError) Error() string { return e.err.Error() }
func (e *exitedError) Unwrap() error { return e.err }

// portTaken reports whether a server exited because another process bound its port first.
func portTaken(err error) bool {
	var exited *exitedError
	return errors.As(err, &exited) && strings.Contains(err.Error(), "address already in use")
}

// get fetches url and fails unless the answer is 200.
func get(ctx context.Context, client *http.Client, url, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return string(body), nil
}

// RESTConfig returns a new client configuration for the cluster, as AdminUser.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: bytes.Clone(c.caData)},
		QPS:             100,
		Burst:           200,
	}
}

// Client returns a clientset for the cluster, the same one on every call.
func (c *Cluster) Client() kubernetes.Interface {
	c.clientOnce.Do(func() {
		client, err := kubernetes.NewForConfig(c.RESTConfig())
		if err != nil { // only a malformed config fails here, and RESTConfig builds a valid one
			panic(fmt.Sprintf("cluster: build a clientset for %s: %v", c.URL, err))
		}
		c.client = client
	})
	return c.client
}

// StopAPIServer stops kube-apiserver and leaves etcd running, so StartAPIServer brings the
// same cluster back on the same URL. Clients see the connection drop and reconnect.
func (c *Cluster) StopAPIServer() error {
	return c.apiserver.stop(stopGrace)
}

// StartAPIServer restarts kube-apiserver after StopAPIServer, on the same port, with the same
// etcd, certificates and token, and returns once it is ready again.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	return c.startAPIServer(ctx)
}

// Logs returns the paths of the servers' log files (their stdout and stderr): etcd's, then
// kube-apiserver's. A temporary Dir, and these files with it, is removed by Stop.
func (c *Cluster) Logs() []string {
	out := []string{c.etcd.logPath, c.apiserver.logPath}
	for _, p := range c.controllers {
		out = append(out, p.logPath)
	}
	return out
}

// startControllers starts kube-controller-manager and kube-scheduler against the API server, as
// AdminUser, without leader election or a serving port of their own.
func (c *Cluster) startControllers(bin string) error {
	saKey := filepath.Join(c.Dir, "service-account.key")
	cm := &process{name: "kube-controller-manager", path: filepath.Join(bin, "kube-controller-manager"), logPath: filepath.Join(c.Dir, "kube-controller-manager.log"),
		args: append([]string{
			"--kubeconfig=" + c.Kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
			"--service-account-private-key-file=" + saKey,
			"--root-ca-file=" + c.caFile,
			"--use-service-account-credentials=false",
			// A node whose kwok stops renewing its Lease goes NotReady within seconds.
			"--node-monitor-grace-period=10s",
			"--node-monitor-period=2s",
			"--concurrent-deployment-syncs=2",
		}, c.opts.ControllerFlags...)}
	sched := &process{name: "kube-scheduler", path: filepath.Join(bin, "kube-scheduler"), logPath: filepath.Join(c.Dir, "kube-scheduler.log"),
		args: []string{"--kubeconfig=" + c.Kubeconfig, "--leader-elect=false", "--secure-port=0"}}
	for _, p := range []*process{cm, sched} {
		if _, err := os.Stat(p.path); err != nil {
			return fmt.Errorf("%s: %w (hack/kube-binaries.sh builds it with the API server)", p.name, err)
		}
		if err := p.start(true); err != nil {
			return err
		}
		c.controllers = append(c.controllers, p)
	}
	return nil
}

// Stop stops the API server, then etcd (the API server hangs in shutdown when etcd goes
// first), and removes Dir if Start created it. It is safe to call more than once. It returns
// an error if a server had exited on its own before Stop.
func (c *Cluster) Stop() error {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var err error
	for _, p := range c.controllers {
		err = errors.Join(err, p.stop(stopGrace))
	}
	err = errors.Join(err, c.apiserver.stop(stopGrace), c.etcd.stop(stopGrace))
	if c.removeDir {
		if rmErr := os.RemoveAll(c.Dir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
	}
	return err
}
