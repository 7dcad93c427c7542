#!/bin/bash
# The source as a clean clone has it, plus work not yet committed and
# never the build directories, as DIRNAME/ in a tarball:
#   packaging/make-tarball.sh OUT.tar.gz [DIRNAME]   (default cftoken-VERSION)
# The Debian and RPM builds both start from it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$top/meson.build")
name=${2:-cftoken-$version}
cd "$top"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - --transform "s|^|$name/|" -czf "$out"
else
	tar --exclude='./build*' --exclude=./.git --transform "s|^\.|$name|" -czf "$out" .
fi
