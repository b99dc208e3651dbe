#!/usr/bin/env bash
# hack/release.sh VERSION: what `make release VERSION=vX.Y.Z` runs. Writes _output/release/:
#   herald_VERSION_{linux_amd64,linux_arm64,darwin_arm64}.tar.gz  the binary, LICENSE, NOTICE, README, CHANGELOG
#   herald_VERSION_oci.tar          the multi-arch image (linux/amd64, linux/arm64) as an OCI layout tarball
#   herald_VERSION_sbom.cdx.json    CycloneDX SBOM of the linux/amd64 binary
#   herald-VERSION.tgz              the Helm chart, appVersion and the default image tag VERSION
#   checksums.txt                   SHA-256 of every file above
# Every file's time is the commit's (SOURCE_DATE_EPOCH), so one commit gives the same artefacts.
# docs/releasing.md says what to do before (CHANGELOG, make pin) and after (push).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GO=${GO:-go}
VERSION=${1:-}
fail() { echo "make release: $*" >&2; exit 1; }

[[ $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
	fail "VERSION=${VERSION:-(empty)} is not vMAJOR.MINOR.PATCH[-PRERELEASE]: run make release VERSION=v0.1.0"
grep -qE "^## \[$VERSION\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" CHANGELOG.md ||
	fail "CHANGELOG.md has no section \"## [$VERSION] - YYYY-MM-DD\": date the top section (it reads Unreleased until the release; docs/releasing.md)"
pinned=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' deploy/helm/herald/Chart.yaml)
[ "$pinned" = "$VERSION" ] ||
	fail "the chart and manifests are pinned to $pinned, not $VERSION: run make pin VERSION=$VERSION and commit (docs/releasing.md)"

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	echo "make release: warning: the work tree has uncommitted changes; the artefacts will not match commit $COMMIT" >&2
fi

out=$root/_output/release
rm -rf "$out"
mkdir -p "$out/build"
t0=$SECONDS
stamp() { echo "make release: $* ($((SECONDS - t0)) s)" >&2; }

for platform in linux/amd64 linux/arm64 darwin/arm64; do
	os=${platform%/*} arch=${platform#*/}
	name=herald_${VERSION}_${os}_${arch}
	dir=$out/build/$name
	mkdir -p "$dir"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath \
		-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE" \
		-o "$dir/herald" ./cmd/herald
	cp LICENSE NOTICE README.md CHANGELOG.md "$dir/"
	tar -C "$out/build" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		-cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
	stamp "$name.tar.gz"
done

$GO run -C hack/release ./cmd/image build -version "$VERSION" -revision "$COMMIT" -created "$SOURCE_DATE_EPOCH" \
	-binary "linux/amd64=$out/build/herald_${VERSION}_linux_amd64/herald" \
	-binary "linux/arm64=$out/build/herald_${VERSION}_linux_arm64/herald" \
	-out "$out/herald_${VERSION}_oci.tar" >&2
stamp "herald_${VERSION}_oci.tar"

$GO run -C hack/release ./cmd/sbom -version "$VERSION" \
	-binary "$out/build/herald_${VERSION}_linux_amd64/herald" >"$out/herald_${VERSION}_sbom.cdx.json"
stamp "herald_${VERSION}_sbom.cdx.json"

helm=$(hack/helm.sh)
"$helm" package deploy/helm/herald --version "$VERSION" --app-version "$VERSION" -d "$out" >&2
image=$("$helm" template herald "$out/herald-$VERSION.tgz" | sed -n 's/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
[ "${image##*:}" = "$VERSION" ] || fail "the packaged chart's image is $image, not tagged $VERSION"
stamp "herald-$VERSION.tgz (image $image)"

rm -rf "$out/build"
(cd "$out" && sha256sum -- * >checksums.txt)
stamp "done: $out"
ls -l "$out" >&2
