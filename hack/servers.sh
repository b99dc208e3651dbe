#!/usr/bin/env bash
# Builds or installs every server the tests need, caching what it builds under
# ${XDG_CACHE_HOME:-~/.cache}/herald. With --env it prints the environment the tests read
# (used as: source <(hack/servers.sh --env)). Progress goes to stderr, each line prefixed with
# the server it is about.
#
# The builds run at the same time: on a fresh machine most of their time is module downloads
# and single-threaded links, which overlap well even on 2 cores (a cached run returns at once).
# Each script takes a lock of its own, so two callers never build the same server twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# job NAME CMD...: run CMD in the background; its stdout (a path) goes to $out/NAME.
pids=()
names=()
job() {
	local name=$1
	shift
	(
		start=$SECONDS
		"$@" >"$out/$name" 2> >(sed -u "s/^/[$name] /" >&2)
		echo "[$name] ready after $((SECONDS - start)) s" >&2
	) &
	pids+=($!)
	names+=("$name")
}

# kube-apiserver and etcd for every e2e test, the controller-manager and scheduler for one, kwok
# (serves pods/log for the pod restart e2e tests), helm and kustomize (deploy/'s chart and
# kustomize base tests): one go build, so the Kubernetes libraries are compiled once.
job kube "$here/kube-binaries.sh"
# InfluxDB 1.8.10 and ZincSearch (an Elasticsearch-API server) for the influxdb and
# elasticsearch sinks.
job influxd "$here/influxdb.sh"
job zinc "$here/zincsearch.sh"
# MariaDB from Debian's packages, for the mysql sink (no system service is started).
job mariadb bash -c '"$1" install >&2' _ "$here/mariadb.sh"
# promtool for the alert rule unit tests in deploy/.
job promtool "$here/promtool.sh"

failed=()
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || failed+=("${names[$i]}")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "hack/servers.sh: could not build or install: ${failed[*]} (see the [name] lines above)" >&2
	exit 1
fi

if [ "${1:-}" = "--env" ]; then
	echo "export HERALD_KUBE_BIN='$(cat "$out/kube")'"
	echo "export HERALD_KWOK='$(cat "$out/kube")/kwok'"
	echo "export HERALD_INFLUXD_BIN='$(cat "$out/influxd")'"
	echo "export HERALD_ZINC_BIN='$(cat "$out/zinc")'"
	echo "export HERALD_HELM='$(cat "$out/kube")/helm'"
	echo "export HERALD_KUSTOMIZE='$(cat "$out/kube")/kustomize'"
	echo "export HERALD_PROMTOOL='$(cat "$out/promtool")'"
fi
