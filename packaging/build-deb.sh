#!/bin/bash
# Builds the Debian packages from a clean copy of the tree, then lintian.
#   packaging/build-deb.sh [OUTDIR]      (default: build-deb/)
# Prints where the .deb files are; fails if the build or lintian (errors)
# fails.  Warnings lintian reports are printed; packaging/README.md says
# which ones are kept, and why.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/build-deb}" && cd "${1:-$top/build-deb}" && pwd)
work=$(mktemp -d /tmp/cftoken-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$top/packaging/make-tarball.sh" "$work/cftoken.tar.gz" cftoken
tar -C "$work" -xzf "$work/cftoken.tar.gz"
cp -r "$work/cftoken/packaging/debian" "$work/cftoken/debian"

(cd "$work/cftoken" &&
	DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -60 "$work/build.log"
	echo "build-deb: dpkg-buildpackage failed" >&2
	exit 1
}

changes=$(ls "$work"/*.changes)
lint=0
lintian --fail-on error --display-info "$changes" >"$work/lintian.log" 2>&1 || lint=$?
sed 's/^/lintian: /' "$work/lintian.log"
rm -rf "$out"/*.deb "$out/dbgsym"
mkdir "$out/dbgsym"
cp "$work"/*-dbgsym_*.deb "$out/dbgsym/"
rm "$work"/*-dbgsym_*.deb
cp "$work"/*.deb "$out"/
cp "$work/lintian.log" "$out/lintian.log"
ls "$out"/*.deb
exit "$lint"
