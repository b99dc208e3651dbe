#!/usr/bin/env bash
# kube-binaries.sh prints the directory that holds the Kubernetes-side binaries herald's tests and
# `make run` use, building them from hack/tools/kube first if they are missing: kube-apiserver,
# etcd, kube-controller-manager and kube-scheduler, and the tools built on the same libraries:
# kwok (serves pods/log in the pod restart e2e tests), helm and kustomize (deploy/'s tests).
#
# The binaries are cached outside the clone, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/herald/kube-<k8s version>-<hash of the tools module>/
# so every clone and worktree on a machine shares one build. The first build takes about 6 min
# on 2 cores; afterwards this script returns at once. Progress goes to stderr; stdout carries
# only the directory, so callers can write: HERALD_KUBE_BIN=$(hack/kube-binaries.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$root/hack/tools/kube

say() { echo "kube-binaries: $*" >&2; }

version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod")
if [[ -z $version ]]; then
	say "cannot find the k8s.io/kubernetes version in $tools/go.mod"
	exit 1
fi
# -s -w drop debug info (a third of the size); the -X flags make /version report the real
# release instead of v0.0.0-master, as clients such as kwok read it.
minor=${version#v1.}
minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
# Static binaries, and the same setting herald's own builds and tests use (hack/test.sh), so the
# packages the two module graphs share at one version are compiled once on a fresh machine.
export CGO_ENABLED=0
# The packages to build: this module's four commands, and the three tools its go.mod lists
# under `tool` (their versions are pinned there; MVS puts them on this module's k8s.io
# libraries, so client-go, apimachinery and api are compiled once for all seven).
binaries=(kube-apiserver etcd kube-controller-manager kube-scheduler kwok helm kustomize)
packages=(./cmd/kube-apiserver ./cmd/etcd ./cmd/kube-controller-manager ./cmd/kube-scheduler
	sigs.k8s.io/kwok/cmd/kwok helm.sh/helm/v3/cmd/helm sigs.k8s.io/kustomize/kustomize/v5)
# The hash covers everything the build depends on: the module's go.mod, go.sum, sources and flags.
hash=$( (cd "$tools" && find . -name go.mod -o -name go.sum -o -name '*.go' | LC_ALL=C sort |
	xargs cat && echo "$ldflags CGO_ENABLED=$CGO_ENABLED ${packages[*]}") | sha256sum | cut -c1-12)

cache=${XDG_CACHE_HOME:-$HOME/.cache}/herald
dir=$cache/kube-$version-$hash

complete() {
	local b
	for b in "${binaries[@]}"; do [[ -x $1/$b ]] || return 1; done
}

if complete "$dir"; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
# One build at a time per cache: a second caller waits here, then finds the finished directory.
exec 9>"$dir.lock"
if ! flock -n 9; then
	say "another build of the same binaries is running; waiting for it ($dir.lock)"
	flock 9
fi
if complete "$dir"; then
	echo "$dir"
	exit 0
fi

tmp=$(mktemp -d "$cache/.kube-build.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

say "building ${binaries[*]} $version from $tools"
say "into $dir"
say "this takes about 15 minutes the first time on 2 cores, and is cached afterwards"
start=$SECONDS
# One go build for all seven: the packages they share (client-go, apiserver, most of
# k8s.io/kubernetes/pkg) are compiled once, and the links run in parallel. GOFLAGS from the
# caller (hack/test.sh sets -trimpath) is kept; -mod=readonly: go.sum is committed.
(cd "$tools" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -ldflags="$ldflags" -o "$tmp/" "${packages[@]}") >&2
complete "$tmp" || { say "the build finished but $tmp lacks one of ${binaries[*]}"; exit 1; }

# A stale, incomplete directory (a build from before this script existed) is moved aside first.
if [[ -e $dir ]]; then
	rm -rf "$dir.old"
	mv "$dir" "$dir.old"
	rm -rf "$dir.old"
fi
# rename(2) of a directory is atomic: readers see either nothing or every binary.
mv -T "$tmp" "$dir"
say "built in $((SECONDS - start)) s"
echo "$dir"
