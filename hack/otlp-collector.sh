#!/usr/bin/env bash
# hack/otlp-collector.sh: build the OpenTelemetry Collector's OTLP/HTTP receiver from
# sinks/otlp/testdata/otelcol (cached under ${XDG_CACHE_HOME:-~/.cache}/herald, keyed by the
# Collector's version), start it on 127.0.0.1, and run the otlp sink's TestAgainstCollector
# against it. Not part of make test: the first build takes several minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
version=$(awk '$1 == "go.opentelemetry.io/collector/receiver/otlpreceiver" {print $2}' sinks/otlp/testdata/otelcol/go.mod)
dir=${XDG_CACHE_HOME:-$HOME/.cache}/herald/otelcol-$version
bin=$dir/otelcol
if [ ! -x "$bin" ]; then
	echo "building the Collector's OTLP receiver $version into $dir (several minutes the first time)"
	mkdir -p "$dir"
	(cd sinks/otlp/testdata/otelcol && "$GO" build -o "$bin.tmp" .) && mv "$bin.tmp" "$bin"
fi
port=
for p in $(seq 14318 14418); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port in 14318-14418 on 127.0.0.1" >&2; exit 1; }
log=$(mktemp)
"$bin" "$port" >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 $pid 2>/dev/null || { echo "the Collector exited:" >&2; cat "$log" >&2; exit 1; }
	sleep 0.1
done
HERALD_OTLP_COLLECTOR=http://127.0.0.1:$port "$GO" test -count=1 -tags collector -run TestAgainstCollector -v ./sinks/otlp/
echo "the Collector's log:"; cat "$log"
