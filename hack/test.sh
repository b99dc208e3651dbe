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
# Fuzzing is not part of it: the seed corpus of every fuzz target runs as a unit test here, and
# `make fuzz-parsers` (which .ci/run runs after this) fuzzes every parser for a few seconds. On a
# fresh machine its coverage-instrumented build of herald's whole dependency graph cost about 11
# CPU-minutes, a quarter of the 45 minutes a fresh make test may take.
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

# The quick checks first: a formatting or vet error should not wait for a test run. go vet
# compiles herald's whole dependency graph; the servers start building once it is done, because
# the kube tools module holds client-go, apimachinery, api and their dependencies at the same
# versions as herald's go.mod (hack/README.md), so the kube build then finds them compiled.
# Started together, the two go commands compiled each shared package twice at the same time.
${MAKE:-make} --no-print-directory lint
hack/servers.sh --env >_output/servers.env 2>"$log" &
servers=$!
${MAKE:-make} --no-print-directory docs-check build chart-docs-check notice-check release-test

stamp "phase 1: $(echo "$unit_pkgs" | wc -l) packages that need no server, while the servers build (log: $log)"
status=0
# nice: the server builds are the longer path; the unit tests fill the gaps they leave.
nice -n 5 $GO test -timeout "$TEST_TIMEOUT" -p 2 $unit_pkgs || status=$?
stamp "phase 1 done (exit $status); waiting for the servers"

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
