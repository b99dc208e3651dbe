// Command kube-apiserver is the upstream Kubernetes API server, built from the Go module proxy
// for herald's e2e tests (see hack/kube-binaries.sh). It adds nothing to upstream.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
