#!/usr/bin/env bash
# run.sh is `make run`: it builds herald, finds a Kubernetes cluster (yours, or a local test
# cluster it starts), runs herald with the log sink, and creates a few sample events so you
# see them stream through. Ctrl-C stops everything it started.
#
# Environment:
#   KUBECONFIG            a cluster to use instead of starting one (checked with a 3 s ping)
#   HERALD_PORT           herald's /healthz, /readyz and /metrics port (default 8084)
#   HERALD_ARGS           more herald flags, e.g. HERALD_ARGS='--sink=webhook:http://...'
#   HERALD_DEMO_EVENTS    how many sample events to create (default 10)
#   HERALD_DEMO_NAMESPACE where to create them (default "default")
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

port=${HERALD_PORT:-8084}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/herald
herald_pid=""
cluster_pid=""

say() { printf '\n==> %s\n' "$*" >&2; }

# stop NAME PID: SIGTERM, then SIGKILL if it is still there after 30 s.
stop() {
	local name=$1 pid=$2
	kill -0 "$pid" 2>/dev/null || return 0
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name did not stop within 30 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# herald first: it is the cluster's client. The cluster stops its API server before etcd.
	[[ -n $herald_pid ]] && stop herald "$herald_pid"
	[[ -n $cluster_pid ]] && stop "the test cluster" "$cluster_pid"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v curl >/dev/null || { say "run.sh needs curl to ask herald's /readyz; install curl"; exit 1; }

say "building herald (bin/herald) and the test-cluster tool (bin/devcluster)"
go build -o bin/herald ./cmd/herald
go build -o bin/devcluster ./test/cluster/cmd/devcluster

# Your cluster, if $KUBECONFIG (its first existing file) or ~/.kube/config reaches one.
kubeconfig=""
IFS=: read -r -a candidates <<<"${KUBECONFIG:-$HOME/.kube/config}"
for f in "${candidates[@]}"; do
	if [[ -n $f && -f $f ]]; then
		kubeconfig=$f
		break
	fi
done
if [[ -n $kubeconfig ]] && bin/devcluster ping --kubeconfig "$kubeconfig" --timeout 3s >/dev/null 2>&1; then
	say "using the cluster in $kubeconfig (it answered within 3 s); sample events go to namespace ${HERALD_DEMO_NAMESPACE:-default}"
else
	if [[ -n $kubeconfig ]]; then
		say "the cluster in $kubeconfig did not answer within 3 s; starting a local test cluster instead"
	else
		say "no kubeconfig found (\$KUBECONFIG, ~/.kube/config); starting a local test cluster"
	fi
	say "getting kube-apiserver and etcd (built once into $cache, about 6 min the first time)"
	HERALD_KUBE_BIN=$(hack/kube-binaries.sh)
	export HERALD_KUBE_BIN

	dir=$cache/devcluster
	mkdir -p "$dir"
	if ! flock -n "$dir/devcluster.lock" true; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/herald-devcluster.XXXXXX")
		say "another test cluster is using $cache/devcluster; using $dir"
	fi
	say "starting kube-apiserver and etcd on 127.0.0.1 (files and logs in $dir)"
	bin/devcluster up --dir "$dir" >"$dir/devcluster.out" 2>&1 &
	cluster_pid=$!
	for _ in $(seq 1800); do
		grep -q '^cluster ready:' "$dir/devcluster.out" && break
		if ! kill -0 "$cluster_pid" 2>/dev/null; then
			cluster_pid=""
			say "the test cluster failed to start:"
			cat "$dir/devcluster.out" >&2
			exit 1
		fi
		sleep 0.1
	done
	if ! grep -q '^cluster ready:' "$dir/devcluster.out"; then
		say "the test cluster was not ready after 3 min; its output ($dir/devcluster.out):"
		cat "$dir/devcluster.out" >&2
		exit 1
	fi
	kubeconfig=$dir/kubeconfig
	say "test cluster ready; to use it from another shell: export KUBECONFIG=$kubeconfig"
fi

say "starting herald: events from the cluster in $kubeconfig to the log sink (stdout)"
# herald does not replay events older than its start, so it runs before the samples are made.
# shellcheck disable=SC2086 # HERALD_ARGS is a list of flags
bin/herald \
	--source="kubernetes:https://kubernetes.default?inClusterConfig=false&auth=$kubeconfig" \
	--sink=log \
	--healthz-ip=127.0.0.1 --healthz-port="$port" \
	${HERALD_ARGS:-} &
herald_pid=$!

say "waiting for herald to report ready on http://127.0.0.1:$port/readyz"
for _ in $(seq 600); do
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null && break
	if ! kill -0 "$herald_pid" 2>/dev/null; then
		wait "$herald_pid" && rc=0 || rc=$?
		herald_pid=""
		say "herald exited (status $rc) before it was ready; its messages are above"
		exit 1
	fi
	sleep 0.1
done
if ! curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
	say "herald was not ready after 60 s (http://127.0.0.1:$port/readyz); its messages are above"
	exit 1
fi

say "herald is ready; creating ${HERALD_DEMO_EVENTS:-10} sample events (quotes, newlines, Chinese text) with bin/devcluster events"
bin/devcluster events --kubeconfig "$kubeconfig" --count "${HERALD_DEMO_EVENTS:-10}" \
	--namespace "${HERALD_DEMO_NAMESPACE:-default}"

say "herald prints each event above as it arrives (Warning only: the default level floor). Create more with:
    bin/devcluster events --kubeconfig $kubeconfig
Press Ctrl-C to stop herald${cluster_pid:+ and the test cluster}."
wait "$herald_pid" && rc=0 || rc=$?
herald_pid=""
say "herald exited (status $rc)"
exit "$rc"
