#!/usr/bin/env bash
# zincsearch.sh prints the path of the ZincSearch v0.4.10 binary that herald's elasticsearch
# sink is tested against, building it from the Go module proxy first if it is missing.
#
# No Elasticsearch or OpenSearch server can be fetched here; ZincSearch serves an
# Elasticsearch-compatible API (_bulk, _search, index templates under /es). Its module does not
# build as downloaded, so this script copies it out of the module cache into a temporary
# directory and patches that copy (nothing fetched is kept in the repository):
#   - web/dist/index.html: a placeholder, because the UI that embed.go embeds is not in the
#     module zip;
#   - cmd/zincsearch/main.go: the pyroscope profiler start is removed, because its godeltaprof
#     dependency does not build on Go 1.26 (the profiler is off unless configured anyway);
#   - go mod tidy, to drop the now unused pyroscope requirement.
# The binary lands in ${XDG_CACHE_HOME:-$HOME/.cache}/herald/zincsearch-v0.4.10/zincsearch, about
# 4 minutes the first time on 2 cores; afterwards this script returns at once. Progress goes to
# stderr; stdout carries only the binary's path: HERALD_ZINC_BIN=$(hack/zincsearch.sh)
set -euo pipefail

version=v0.4.10
module=github.com/zincsearch/zincsearch
say() { echo "zincsearch: $*" >&2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/herald
dir=$cache/zincsearch-$version
bin=$dir/zincsearch

if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache"
# One build at a time per cache: a second caller waits here, then finds the finished binary.
exec 9>"$dir.lock"
if ! flock -n 9; then
	say "another build of zincsearch $version is running; waiting for it ($dir.lock)"
	flock 9
fi
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

tmp=$(mktemp -d "$cache/.zincsearch-build.XXXXXX")
chmod 755 "$tmp"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

say "building zincsearch $version from the Go module proxy into $dir"
say "this takes about 4 minutes the first time on 2 cores, and is cached afterwards"
start=$SECONDS
export GOFLAGS=-mod=mod
src=$(cd "$tmp" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $src && -d $src ]] || { say "go mod download $module@$version gave no source directory"; exit 1; }
work=$tmp/src
cp -R "$src" "$work"
chmod -R u+w "$work"

mkdir -p "$work/web/dist"
printf '<!doctype html><title>ZincSearch</title><p>UI not built (herald test server).</p>\n' >"$work/web/dist/index.html"

main=$work/cmd/zincsearch/main.go
# Drop the pyroscope import and the pyroscope.Start(...) call with its error check.
awk '
	/"github.com\/pyroscope-io\/client\/pyroscope"/ { next }
	/_, err := pyroscope\.Start\(/ { skip = 1; print "\t_ = ProfileID // pyroscope profiler removed by herald hack/zincsearch.sh"; next }
	skip && /^\tif err != nil \{/ { inerr = 1; next }
	skip && inerr && /^\t\}/ { skip = 0; inerr = 0; next }
	skip { next }
	{ print }
' "$main" >"$main.new"
mv "$main.new" "$main"
if grep -q -e "pyroscope\." -e "pyroscope-io" "$main"; then
	say "patching $main failed: pyroscope is still referenced (did the upstream file change?)"
	exit 1
fi

(cd "$work" && go mod tidy && go build -trimpath \
	-ldflags="-s -w -X $module/pkg/meta.Version=$version" -o "$tmp/zincsearch" ./cmd/zincsearch) >&2
[[ -x $tmp/zincsearch ]] || { say "the build finished but $tmp/zincsearch is missing"; exit 1; }

out=$tmp/out
mkdir "$out"
mv "$tmp/zincsearch" "$out/zincsearch"
chmod 755 "$out"
# A stale, incomplete directory is moved aside first; rename(2) then publishes the binary atomically.
if [[ -e $dir ]]; then
	rm -rf "$dir.old"
	mv "$dir" "$dir.old"
	rm -rf "$dir.old"
fi
mv -T "$out" "$dir"
say "built in $((SECONDS - start)) s"
echo "$bin"
