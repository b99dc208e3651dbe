#!/usr/bin/env bash
# hack/fuzz.sh: run every fuzz target for a short while (FUZZTIME, default 3s), one after the
# other, on one worker each, so make test finds a parser panic the seed corpus misses. A target
# that fails stops nothing else: every target runs, then the script fails naming each failure,
# and go test has written the crasher under the package's testdata/fuzz/ (commit it as a seed).
set -uo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-3s}
failed=()
total=0
while IFS=: read -r file name; do
	pkg=./$(dirname "$file")
	total=$((total + 1))
	out=$($GO test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" -parallel=1 "$pkg" 2>&1)
	if [ $? -ne 0 ]; then
		failed+=("$pkg $name")
		echo "$out" | tail -n 30 >&2
	else
		# "fuzz: elapsed: 3s, execs: 12345 (4115/sec), new interesting: ..."
		execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -n 1)
		echo "fuzz $pkg $name: ${execs:-execs: ?} in $FUZZTIME"
	fi
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func /:/' | sort)
if [ ${#failed[@]} -gt 0 ]; then
	echo "hack/fuzz.sh: ${#failed[@]} of $total fuzz targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "hack/fuzz.sh: $total fuzz targets ran $FUZZTIME each without a failure"
