package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kwokBinary finds kwok: $HERALD_KWOK, or beside the API server in $HERALD_KUBE_BIN (both set by
// hack/servers.sh --env; hack/kube-binaries.sh builds kwok with the API server).
func kwokBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HERALD_KWOK")
	if p == "" && os.Getenv("HERALD_KUBE_BIN") != "" {
		p = filepath.Join(os.Getenv("HERALD_KUBE_BIN"), "kwok")
	}
	if _, err := os.Stat(p); p == "" || err != nil {
		msg := fmt.Sprintf("kwok is not installed (HERALD_KWOK=%q, HERALD_KUBE_BIN=%q); run hack/kwok.sh or hack/servers.sh, which make test runs", os.Getenv("HERALD_KWOK"), os.Getenv("HERALD_KUBE_BIN"))
		if os.Getenv("CI") != "" {
			t.Fatal(msg) // in CI a missing server is a broken install step, never a skip
		}
		t.Skip("SKIPPED: " + msg)
	}
	return p
}

// kwokLogs runs kwok as the "kubelet" of node: it serves containerLogs (pods/log, current and
// previous=true) for the pods of namespace ns from CRI-format files, through a ClusterLogs rule
// in its configuration. The node's status is set to point the API server at kwok (InternalIP
// 127.0.0.1, kubeletEndpoint = kwok's port) by kwok's node stages (hack/kwok/stages.yaml);
// kwok gets no pod stages, so it leaves pods alone and the test plays the kubelet's status
// updates itself.
func kwokLogs(t *testing.T, client kubernetes.Interface, kubeconfig, ns, node, container string, previous, current []string) {
	t.Helper()
	dir := t.TempDir()
	criFile := func(name string, lines []string) string {
		var b strings.Builder
		ts := time.Now().Add(-time.Minute).UTC()
		for i, l := range lines {
			fmt.Fprintf(&b, "%s stdout F %s\n", ts.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), l)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prev, cur := criFile("previous.log", previous), criFile("current.log", current)
	config := fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: herald-e2e
spec:
  selector:
    matchNamespaces: [%q]
  logs:
  - containers: [%q]
    logsFile: %q
    previousLogsFile: %q
`, ns, container, cur, prev)
	cfgPath := filepath.Join(dir, "kwok.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeLocalPort(t)
	// go test runs a test in its package's directory, test/e2e.
	stages := filepath.Join("..", "..", "hack", "kwok", "stages.yaml")
	cmd := exec.Command(kwokBinary(t), "--kubeconfig="+kubeconfig, "-c", stages, "-c", cfgPath,
		"--manage-single-node="+node, "--node-ip=127.0.0.1", fmt.Sprintf("--node-port=%d", port),
		fmt.Sprintf("--server-address=127.0.0.1:%d", port))
	cmd.Env = append(os.Environ(), "HOME="+dir)
	logPath := filepath.Join(dir, "kwok.out")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("kwok output:\n%s", b)
		}
	})
	// Wait for kwok's server (it serves HTTP and HTTPS on one port).
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("kwok did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// kwok's node-initialize stage points the API server at it, as a kubelet's node status would.
	ctx := context.Background()
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err == nil && n.Status.DaemonEndpoints.KubeletEndpoint.Port == int32(port) && len(n.Status.Addresses) > 0 {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("kwok did not initialise node %s: %v %+v\n%s", node, err, n.Status, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeLocalPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
