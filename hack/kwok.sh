#!/usr/bin/env bash
# Installs kwok (sigs.k8s.io/kwok, the "kubelet" that serves pods/log from files in the pod
# restart e2e tests) from the Go module proxy, cached under ${XDG_CACHE_HOME:-~/.cache}/herald
# by version. Prints the binary's path. About 2 minutes the first time.
set -euo pipefail
version=v0.8.0
dir="${XDG_CACHE_HOME:-$HOME/.cache}/herald/kwok-$version"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9 # parallel callers wait for one install
if [ ! -x "$dir/kwok" ]; then
	echo "hack/kwok.sh: installing sigs.k8s.io/kwok/cmd/kwok@$version into $dir (about 2 minutes)" >&2
	mkdir -p "$dir"
	rm -rf "$dir.tmp"
	tmp=$(mktemp -d)
	(cd "$tmp" && GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "sigs.k8s.io/kwok/cmd/kwok@$version")
	rmdir "$tmp"
	mv "$dir.tmp/kwok" "$dir/kwok"
	rmdir "$dir.tmp"
fi
echo "$dir/kwok"
