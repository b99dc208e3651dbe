#!/usr/bin/env bash
# Prints the path of a promtool for the alert rule unit tests in deploy/ (promtool check rules,
# promtool test rules), cached under ${XDG_CACHE_HOME:-~/.cache}/herald by version. Progress goes
# to stderr; the binary's path to stdout.
#
# Where apt-get is available it takes promtool out of Debian's prometheus package (a static
# binary; the .deb is downloaded and unpacked, nothing is installed and no service starts). That
# takes seconds. Building Prometheus's promtool from the Go module proxy instead costs about
# 20 minutes on 2 cores (it links Prometheus's service discovery and with it the cloud SDKs), so
# that is only the fallback, for machines without apt-get or HERALD_PROMTOOL_BUILD=1.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/herald"
mkdir -p "$cache"
say() { echo "hack/promtool.sh: $*" >&2; }

# debian_version: the candidate version of Debian's prometheus package, or nothing when the
# package lists do not know it.
debian_version() {
	apt-cache show --no-all-versions prometheus 2>/dev/null | awk '$1 == "Version:" { print $2; exit }'
}

from_debian() {
	local version dir tmp
	version=$(debian_version)
	if [ -z "$version" ]; then
		# A machine whose package lists were never fetched; a cached copy will do.
		dir=$(ls -d "$cache"/promtool-debian-*/ 2>/dev/null | tail -n 1)
		if [ -n "$dir" ] && [ -x "$dir/promtool" ]; then
			echo "${dir%/}/promtool"
			return 0
		fi
		[ "$(id -u)" = 0 ] || { say "Debian's package lists do not know prometheus and fetching them (apt-get update) needs root"; return 1; }
		say "fetching Debian's package lists (apt-get update)"
		# hack/mariadb.sh may be running apt-get at the same moment; one at a time.
		flock "$cache/apt.lock" apt-get update -qq >&2 || { say "apt-get update failed"; return 1; }
		version=$(debian_version)
		[ -n "$version" ] || { say "Debian's package lists have no prometheus package"; return 1; }
	fi
	dir=$cache/promtool-debian-$version
	exec 9>"$dir.lock"
	flock 9 # parallel callers wait for one download
	if [ ! -x "$dir/promtool" ]; then
		say "taking promtool out of Debian's prometheus $version package into $dir"
		tmp=$(mktemp -d "$cache/.promtool.XXXXXX")
		chmod 755 "$tmp"
		# -o APT::Sandbox::User=root: as root, apt would otherwise warn that its _apt user cannot
		# write to the temporary directory.
		if ! (cd "$tmp" && flock "$cache/apt.lock" apt-get download -qq -o APT::Sandbox::User=root "prometheus=$version" >&2 &&
			dpkg-deb -x prometheus_*.deb unpacked && "unpacked/usr/bin/promtool" --version >/dev/null); then
			rm -rf "$tmp"
			say "could not take promtool out of Debian's prometheus $version package"
			return 1
		fi
		mkdir -p "$dir"
		mv "$tmp/unpacked/usr/bin/promtool" "$dir/promtool" # a rename: never half a binary at $dir/promtool
		rm -rf "$tmp"
	fi
	echo "$dir/promtool"
}

build() {
	local version=v0.316.0 # Prometheus 3.x's module version
	local dir="$cache/promtool-$version" tmp
	exec 9>"$dir.lock"
	flock 9 # parallel callers wait for one build
	if [ ! -x "$dir/promtool" ]; then
		say "building github.com/prometheus/prometheus/cmd/promtool@$version into $dir (about 20 minutes on 2 cores)"
		mkdir -p "$dir"
		rm -rf "$dir.tmp"
		tmp=$(mktemp -d)
		(cd "$tmp" && CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags='-s -w' "github.com/prometheus/prometheus/cmd/promtool@$version")
		rmdir "$tmp"
		mv "$dir.tmp/promtool" "$dir/promtool"
		rmdir "$dir.tmp"
	fi
	echo "$dir/promtool"
}

if [ "${HERALD_PROMTOOL_BUILD:-}" != 1 ] && command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
	if from_debian; then
		exit 0
	fi
	say "falling back to building promtool from the Go module proxy"
fi
build
