#!/usr/bin/env bash
# Prints the path of helm (helm.sh/helm/v3/cmd/helm) for the chart tests in deploy/ and make
# release.
# It is built by hack/kube-binaries.sh with the API server and its tools, in one go build from
# hack/tools/kube (whose go.mod pins its version), so the Kubernetes libraries are compiled
# once for all of them; the first call on a fresh machine waits for that build.
set -euo pipefail
dir=$("$(dirname "$0")/kube-binaries.sh")
echo "$dir/helm"
