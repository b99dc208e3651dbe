#!/usr/bin/env bash
# hack/test.sh: the unit tests and the e2e suite, as `make test` (and CI) run them.
#
# The test servers (hack/servers.sh) build in the background while the packages that need none
# are tested; the packages that need a server run once the servers are ready. On a fresh
# machine the server builds are most of the time, so the unit tests cost almost nothing extra;
# with a warm cache (${XDG_CACHE_HOME:-~/.cache}/herald) the servers are ready at once.
#
# A package needs servers when its test binary depends on one of herald's test-server packages
# (test/cluster, test/harness, test/mariadb, test/influxdb, test/zincsearch) or its tests read a
# server path from the environment (HERALD_HELM, ...). A package that needs a server but is not
# found so fails in the first phase with the missing variable's name, never skips.
# With --unit it runs only the first phase's packages, with -short, and builds no server.
#
# Alongside the first phase, hack/fuzz.sh --ci fuzzes every parser (the --sink values of every
# sink type, templates, checkpoints, the --source value, event-exporter configs, chat digests)
# for FUZZTIME (5s) each; its per-target lines ("fuzz PKG TARGET: execs: N in 5s") are printed
# when the first phase is done, and a crasher fails make test.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# One set of compile flags for every go command below, and for those the tests run (the e2e
# harness builds cmd/herald): make build and the release tests build with -trimpath, and Go's
# build cache keys a package by its flags, so without this a fresh machine compiled herald's
# whole dependency graph twice (once for vet and the tests, once with -trimpath).
export GOFLAGS="-trimpath${GOFLAGS:+ $GOFLAGS}"
# The same for cgo: make build, the release tests and the test servers build with CGO_ENABLED=0,
# and a package that imports net (client-go and nearly all of herald's graph) is compiled once
# per setting. Nothing herald tests needs cgo.
export CGO_ENABLED=0
TEST_TIMEOUT=${TEST_TIMEOUT:-40m}
mkdir -p _output
log=_output/servers.log

t0=$SECONDS
stamp() { echo "hack/test.sh: $* (at $((SECONDS - t0)) s)" >&2; }

mod=$($GO list -m)
server_pkgs=$(
	{
		$GO list -test -f '{{.ImportPath}} {{join .Deps " "}}' ./... |
			grep -E " $mod/test/(cluster|harness|mariadb|influxdb|zincsearch)( |$)" | awk '{print $1}'
		grep -rlE 'os\.Getenv\("HERALD_(KUBE_BIN|KWOK|INFLUXD_BIN|ZINC_BIN|HELM|KUSTOMIZE|PROMTOOL)' --include='*_test.go' . |
			xargs -r -n1 dirname | sed "s|^\.|$mod|"
	} | sed -e 's/\.test$//' -e 's/_test$//' | sort -u | grep -xF -f <($GO list ./...)
)
unit_pkgs=$($GO list ./... | grep -vxF -f <(echo "$server_pkgs"))

# hack/test.sh --unit (make test-unit): only the packages that need no server, with -short.
if [ "${1:-}" = "--unit" ]; then
	stamp "$(echo "$unit_pkgs" | wc -l) packages that need no server (make test runs the other $(echo "$server_pkgs" | wc -l) too)"
	exec $GO test -short $unit_pkgs
fi

hack/servers.sh --env >_output/servers.env 2>"$log" &
servers=$!

# The quick checks first: a formatting or vet error should not wait for a test run.
${MAKE:-make} --no-print-directory lint docs-check build chart-docs-check notice-check release-test

# The fuzz targets (hack/fuzz.sh --ci: every parser, FUZZTIME of fuzzing each) run alongside
# phase 1, below it in priority: most of their cost is building instrumented test binaries,
# which only needs a CPU the unit tests leave idle.
fuzzlog=_output/fuzz.log
GO=$GO FUZZTIME=${FUZZTIME:-5s} nice -n 10 hack/fuzz.sh --ci >"$fuzzlog" 2>&1 &
fuzz=$!

stamp "phase 1: $(echo "$unit_pkgs" | wc -l) packages that need no server, while the servers build (log: $log) and the fuzz targets run (log: $fuzzlog)"
status=0
# nice: the server builds are the longer path; the unit tests fill the gaps they leave.
nice -n 5 $GO test -timeout "$TEST_TIMEOUT" -p 2 $unit_pkgs || status=$?
stamp "phase 1 done (exit $status); waiting for the fuzz targets"
fuzz_status=0
wait $fuzz || fuzz_status=$?
cat "$fuzzlog" >&2
if [ $fuzz_status -ne 0 ]; then
	status=$fuzz_status
fi
stamp "fuzzing done (exit $fuzz_status); waiting for the servers"

if ! wait $servers; then
	echo "hack/test.sh: building the test servers failed; the last lines of $log:" >&2
	tail -n 40 "$log" >&2
	exit 1
fi
grep -E '^\[[a-z]+\] ready after' "$log" >&2 || true
source _output/servers.env
stamp "phase 2: $(echo "$server_pkgs" | wc -l) packages against real servers"
$GO test -timeout "$TEST_TIMEOUT" -p 2 $server_pkgs || status=$?
stamp "phase 2 done"
exit $status
