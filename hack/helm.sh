#!/usr/bin/env bash
# Builds helm v3 (helm.sh/helm/v3/cmd/helm) from the Go module proxy for the chart tests in
# deploy/, cached under ${XDG_CACHE_HOME:-~/.cache}/herald by version. Progress goes to stderr;
# the binary's path to stdout. A few minutes the first time.
set -euo pipefail
version=v3.19.5
dir="${XDG_CACHE_HOME:-$HOME/.cache}/herald/helm-$version"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9 # parallel callers wait for one build
if [ ! -x "$dir/helm" ]; then
	echo "hack/helm.sh: building helm.sh/helm/v3/cmd/helm@$version into $dir (a few minutes)" >&2
	mkdir -p "$dir"
	rm -rf "$dir.tmp"
	tmp=$(mktemp -d)
	(cd "$tmp" && CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$version")
	rmdir "$tmp"
	mv "$dir.tmp/helm" "$dir/helm" # a rename: a half-built helm is never at $dir/helm
	rmdir "$dir.tmp"
fi
echo "$dir/helm"
