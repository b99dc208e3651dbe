#!/usr/bin/env bash
# Builds kustomize (sigs.k8s.io/kustomize/kustomize/v5) from the Go module proxy to render
# deploy/kustomize in deploy/'s tests (kubectl is not on a fresh machine), cached under
# ${XDG_CACHE_HOME:-~/.cache}/herald by version. Progress goes to stderr; the binary's path to
# stdout. A few minutes the first time.
set -euo pipefail
version=v5.8.2 # v5.8.3 needs go 1.27
dir="${XDG_CACHE_HOME:-$HOME/.cache}/herald/kustomize-$version"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9 # parallel callers wait for one build
if [ ! -x "$dir/kustomize" ]; then
	echo "hack/kustomize.sh: building sigs.k8s.io/kustomize/kustomize/v5@$version into $dir (a few minutes)" >&2
	mkdir -p "$dir"
	rm -rf "$dir.tmp"
	tmp=$(mktemp -d)
	(cd "$tmp" && CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$version")
	rmdir "$tmp"
	mv "$dir.tmp/kustomize" "$dir/kustomize" # a rename: a half-built kustomize is never at $dir/kustomize
	rmdir "$dir.tmp"
fi
echo "$dir/kustomize"
