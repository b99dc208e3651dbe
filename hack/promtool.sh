#!/usr/bin/env bash
# Builds Prometheus's promtool (github.com/prometheus/prometheus/cmd/promtool) from the Go module
# proxy for the alert rule unit tests in deploy/ (promtool test rules), cached under
# ${XDG_CACHE_HOME:-~/.cache}/herald by version. Progress goes to stderr; the binary's path to
# stdout. See hack/README.md for what the first build costs.
set -euo pipefail
version=v0.316.0 # Prometheus 3.x's module version
dir="${XDG_CACHE_HOME:-$HOME/.cache}/herald/promtool-$version"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9 # parallel callers wait for one build
if [ ! -x "$dir/promtool" ]; then
	echo "hack/promtool.sh: building github.com/prometheus/prometheus/cmd/promtool@$version into $dir" >&2
	mkdir -p "$dir"
	rm -rf "$dir.tmp"
	tmp=$(mktemp -d)
	(cd "$tmp" && CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags='-s -w' "github.com/prometheus/prometheus/cmd/promtool@$version")
	rmdir "$tmp"
	mv "$dir.tmp/promtool" "$dir/promtool"
	rmdir "$dir.tmp"
fi
echo "$dir/promtool"
