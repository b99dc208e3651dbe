#!/usr/bin/env bash
# Prints the path of kustomize (sigs.k8s.io/kustomize/kustomize/v5) to render deploy/kustomize
# in deploy/'s tests.
# It is built by hack/kube-binaries.sh with the API server and its tools, in one go build from
# hack/tools/kube (whose go.mod pins its version), so the Kubernetes libraries are compiled
# once for all of them; the first call on a fresh machine waits for that build.
set -euo pipefail
dir=$("$(dirname "$0")/kube-binaries.sh")
echo "$dir/kustomize"
