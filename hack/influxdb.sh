#!/usr/bin/env bash
# influxdb.sh prints the path of the influxd binary (InfluxDB 1.8.10) that herald's influxdb sink
# is tested against, building it from the Go module proxy first if it is missing.
#
# InfluxDB 1.8.10 serves /api/v2/write, the v1-compatibility path of influxdb-client-go/v2
# (Debian's influxdb 1.6.7 lacks it). It builds unpatched with
#   go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10
# into ${XDG_CACHE_HOME:-$HOME/.cache}/herald/influxdb-v1.8.10/influxd, about 5 minutes the first
# time on 2 cores; afterwards this script returns at once. Progress goes to stderr; stdout carries
# only the binary's path: HERALD_INFLUXD_BIN=$(hack/influxdb.sh)
set -euo pipefail

version=v1.8.10
module=github.com/influxdata/influxdb
say() { echo "influxdb: $*" >&2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/herald
dir=$cache/influxdb-$version
bin=$dir/influxd

if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache"
# One build at a time per cache: a second caller waits here, then finds the finished binary.
exec 9>"$dir.lock"
if ! flock -n 9; then
	say "another build of influxd $version is running; waiting for it ($dir.lock)"
	flock 9
fi
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

tmp=$(mktemp -d "$cache/.influxdb-build.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

say "building influxd $version from the Go module proxy into $dir"
say "this takes about 5 minutes the first time on 2 cores, and is cached afterwards"
start=$SECONDS
# GOFLAGS is cleared so a caller's -mod=vendor or similar cannot break a module-mode install.
(cd "$tmp" && GOFLAGS= GOBIN="$tmp" go install -trimpath -ldflags='-s -w' "$module/cmd/influxd@$version") >&2
[[ -x $tmp/influxd ]] || { say "the build finished but $tmp/influxd is missing"; exit 1; }

# A stale, incomplete directory is moved aside first; rename(2) then publishes the binary atomically.
if [[ -e $dir ]]; then
	rm -rf "$dir.old"
	mv "$dir" "$dir.old"
	rm -rf "$dir.old"
fi
mv -T "$tmp" "$dir"
say "built in $((SECONDS - start)) s"
echo "$bin"
