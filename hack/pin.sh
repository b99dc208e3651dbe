#!/usr/bin/env bash
# hack/pin.sh VERSION: what `make pin VERSION=vX.Y.Z` runs before a release. Points the chart
# (version and appVersion, hence the default image tag), deploy/kubernetes, the kustomize base
# and the README's install commands at VERSION. deploy/pin_test.go checks they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-}
[[ $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
	echo "make pin: VERSION=${VERSION:-(empty)} is not vMAJOR.MINOR.PATCH[-PRERELEASE]" >&2
	exit 1
}
image=ghcr.io/heraldproject/herald
sed -i -E "s/^version: .*/version: $VERSION/; s/^appVersion: .*/appVersion: \"$VERSION\"/" deploy/helm/herald/Chart.yaml
sed -i -E "s|image: $image:[^ ]*|image: $image:$VERSION|" deploy/kubernetes/herald.yaml deploy/kustomize/base/herald.yaml
sed -i -E "s|^(    newTag: ).*|\1$VERSION|" deploy/kustomize/base/kustomization.yaml
sed -i -E "s|^VERSION=v[^ ]*( +# the release to install.*)|VERSION=$VERSION\1|" README.md
git --no-pager diff --stat 2>/dev/null || true
