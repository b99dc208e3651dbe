#!/usr/bin/env bash
# hack/fuzz.sh: run fuzz targets for a short while each, so a parser panic the seed corpus
# misses is found. A target that fails stops nothing else: every target runs, then the script
# fails naming each failure, and the crasher is under the package's testdata/fuzz/ (commit it as
# a seed, with the fix).
#
#   hack/fuzz.sh        every fuzz target, FUZZTIME each (make fuzz; 3s by default). New inputs
#                       that widen coverage are kept in Go's fuzz cache ($GOCACHE/fuzz), shared
#                       with `go test -fuzz`, so each run starts where the last one stopped.
#   hack/fuzz.sh --ci   what make test runs: every target outside the per-sink packages, plus
#                       sinks/all's FuzzSinkValue, which builds any --sink value of every sink
#                       type through sinks.Build and so stands in for the per-sink targets. It
#                       starts from the seeds alone (a fresh fuzz cache, removed after), so its
#                       cost does not grow from run to run. FUZZTIME defaults to 3s.
#
# Most of the cost is not fuzzing but building: a fuzz test binary is compiled with coverage
# instrumentation, every dependency included, and linked once per package. So each package's
# binary is built once (go test -c -fuzz), however many targets it holds, one package after
# the other, and the targets then run FUZZ_JOBS (2) at a time, on one worker each. Each target prints
#   fuzz PKG TARGET: execs: N in FUZZTIME
# N counts every input run, the baseline's included.
#
# FUZZMINIMIZETIME (default 0 with --ci, 5s otherwise) bounds how long a worker shrinks an
# input; Go's default, 60 s per new input, stops a short run from fuzzing at all when inputs are
# slow (a --sink value or a config takes milliseconds).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
ci=false
if [ "${1:-}" = "--ci" ]; then
	ci=true
fi
FUZZTIME=${FUZZTIME:-3s}
JOBS=${FUZZ_JOBS:-2}
if $ci; then
	MINIMIZE=${FUZZMINIMIZETIME:-0}
else
	MINIMIZE=${FUZZMINIMIZETIME:-5s}
fi

t0=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mod=$($GO list -m)

# "DIR NAME" per target, sorted; --ci leaves out the per-sink packages (sinks/TYPE).
targets=()
while read -r dir name; do
	if $ci && [[ $dir == sinks/* && $dir != sinks/all ]]; then
		continue
	fi
	targets+=("$dir $name")
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . |
	sed -e 's|^\./||' -e 's|/[^/]*:func | |' | sort -u)
pkgs=$(printf '%s\n' "${targets[@]}" | cut -d' ' -f1 | sort -u)

# bin DIR: the test binary of package DIR.
bin() { echo "$work/bin/${1//\//_}.test"; }

build() {
	local dir=$1
	if ! $GO test -c -fuzz=. -o "$(bin "$dir")" "./$dir" >"$work/build.${dir//\//_}.log" 2>&1; then
		echo "hack/fuzz.sh: building the fuzz test binary of $dir failed:" >&2
		cat "$work/build.${dir//\//_}.log" >&2
		return 1
	fi
}

# run I DIR NAME: fuzz one target from its package's directory (testing reads the seed corpus
# from, and writes a crasher to, testdata/fuzz/NAME there). Go's -fuzztime counts from the start,
# and first every corpus input is run once to gather the baseline coverage, about 50 ms an input
# in a binary as large as sinks/all's (the coverage map goes to the coordinator as JSON each
# time): a 3s -fuzztime would end before any fuzzing. So the run is stopped with SIGINT (which
# Go's fuzzing takes as a normal end) FUZZTIME after the baseline is complete; -fuzztime only
# bounds a run whose baseline never completes.
run() {
	local i=$1 dir=$2 name=$3 cache start log=$work/run.$i.log pid baseline=- rc
	if $ci; then
		cache=$work/cache/$dir
	else
		cache=$($GO env GOCACHE)/fuzz/$mod/$dir
	fi
	start=$SECONDS
	: >"$log" # before the poll below, which may run before the subshell opens it
	(cd "$dir" && exec "$(bin "$dir")" -test.run='^$' -test.fuzz="^$name\$" -test.fuzztime=5m \
		-test.parallel=1 -test.fuzzminimizetime="$MINIMIZE" -test.fuzzcachedir="$cache" \
		-test.timeout=10m) >>"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -q 'now fuzzing' "$log"; then
			baseline=$((SECONDS - start))
			sleep "$FUZZTIME"
			kill -INT "$pid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$pid"
	rc=$?
	echo "$rc $((SECONDS - start)) $baseline" >"$work/run.$i.rc"
}

# limit: wait until fewer than JOBS background jobs run.
limit() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
}

mkdir -p "$work/bin"
# One build at a time (go test parallelises each): the packages share most of their
# instrumented dependencies, which the first build compiles and the others find in the cache.
# Two go commands started together compiled every shared package twice.
failed_builds=0
for dir in $pkgs; do
	build "$dir" || failed_builds=$((failed_builds + 1))
done
if [ $failed_builds -gt 0 ]; then
	exit 1
fi
built=$((SECONDS - t0))

for i in "${!targets[@]}"; do
	limit
	# shellcheck disable=SC2086
	run "$i" ${targets[$i]} &
done
wait

failed=()
for i in "${!targets[@]}"; do
	read -r dir name <<<"${targets[$i]}"
	read -r rc took baseline <"$work/run.$i.rc"
	if [ "$rc" -ne 0 ]; then
		failed+=("$dir $name")
		echo "fuzz $dir $name: FAILED after ${took}s:" >&2
		tail -n 30 "$work/run.$i.log" >&2
		continue
	fi
	# "fuzz: elapsed: 3s, execs: 12345 (4115/sec), new interesting: ..."
	execs=$(grep -o 'execs: [0-9]*' "$work/run.$i.log" | tail -n 1)
	inputs=$(grep -o 'baseline coverage: [0-9]*/[0-9]*' "$work/run.$i.log" | tail -n 1 | cut -d/ -f2)
	echo "fuzz $dir $name: ${execs:-execs: ?} in $FUZZTIME (after a baseline of ${inputs:-?} inputs in ${baseline}s; ${took}s in all)"
done
summary="$(echo "$pkgs" | wc -w) instrumented test binaries built in ${built}s, ${#targets[@]} targets run $FUZZTIME each, $((SECONDS - t0))s in all"
if [ ${#failed[@]} -gt 0 ]; then
	echo "hack/fuzz.sh: ${#failed[@]} of ${#targets[@]} fuzz targets failed: ${failed[*]} ($summary)" >&2
	echo "hack/fuzz.sh: the failing input is under that package's testdata/fuzz/; commit it as a seed with the fix" >&2
	exit 1
fi
echo "hack/fuzz.sh: $summary; no failure"
