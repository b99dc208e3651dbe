// Command kube-controller-manager is the upstream Kubernetes controller manager, built from the
// Go module proxy for herald's e2e tests (see hack/kube-binaries.sh). It adds nothing to upstream.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
