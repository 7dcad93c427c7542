#!/bin/bash
# The README's first command: installs what is needed, builds cftoken and
# shows the main job end to end against the bundled API emulator (the real
# API needs a Cloudflare account; see the README for using one).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" != "--steps" ]; then
	tests/install-deps.sh
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	echo "Built build/helper/cftoken.  Starting the API emulator on 127.0.0.1."
	exec tests/integration/with-emulator.sh "$top/build/demo" "$top/tests/demo.sh" --steps
fi

# --steps: inside with-emulator.sh, which says where the emulator is.
export PATH="$top/build/helper:$PATH"
export CLOUDFLARE_API_BASE_URL="$CFTEST_API_URL"  # the real API is the default
export CFTOKEN_CA_FILE="$CFTEST_CA"                # the emulator's test CA
parent="$CFTEST_WORK/parent.token"
(umask 077; /usr/bin/python3 -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == "parent"))' "$CFTEST_SEED" >"$parent")

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo
echo "A parent token (one allowed to create tokens) is in $parent, mode 0600."
step cftoken verify --token-file "$parent"
cftoken verify --token-file "$parent"

step cftoken create --token-file "$parent" --permission '"Workers Scripts Write"' \
	--permission '"Zone Read"' --ttl 1h '|' cftoken verify
out=$(cftoken create --token-file "$parent" --permission "Workers Scripts Write" \
	--permission "Zone Read" --ttl 1h | cftoken verify)
echo "$out"
id=$(sed -n 's/^token \([0-9a-f]\{32\}\) is active.*/\1/p' <<<"$out")

step cftoken list --token-file "$parent"
cftoken list --token-file "$parent"

step cftoken revoke --token-file "$parent" "$id"
cftoken revoke --token-file "$parent" "$id"

step cftoken list --token-file "$parent"
cftoken list --token-file "$parent"
echo
echo "Done: a least-privilege token was created, verified, listed and revoked."
