#!/usr/bin/env bash
# Builds or installs every server the tests need, caching what it builds under
# ${XDG_CACHE_HOME:-~/.cache}/herald. With --env it prints the environment the tests read
# (used as: source <(hack/servers.sh --env)). Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

kube_bin=$("$here/kube-binaries.sh")
# kwok serves pods/log for the pod restart e2e tests.
kwok_bin=$("$here/kwok.sh")
# InfluxDB 1.8.10 and ZincSearch (an Elasticsearch-API server) for the influxdb and
# elasticsearch sinks.
influxd_bin=$("$here/influxdb.sh")
zinc_bin=$("$here/zincsearch.sh")
# MariaDB from Debian's packages, for the mysql sink (no system service is started).
"$here/mariadb.sh" install >&2
# helm and kustomize for deploy/'s chart and kustomize base tests.
helm_bin=$("$here/helm.sh")
kustomize_bin=$("$here/kustomize.sh")
# promtool for the alert rule unit tests in deploy/.
promtool_bin=$("$here/promtool.sh")

if [ "${1:-}" = "--env" ]; then
	echo "export HERALD_KUBE_BIN='$kube_bin'"
	echo "export HERALD_KWOK='$kwok_bin'"
	echo "export HERALD_INFLUXD_BIN='$influxd_bin'"
	echo "export HERALD_ZINC_BIN='$zinc_bin'"
	echo "export HERALD_HELM='$helm_bin'"
	echo "export HERALD_KUSTOMIZE='$kustomize_bin'"
	echo "export HERALD_PROMTOOL='$promtool_bin'"
fi
