#!/bin/bash
# The README's first command: installs what is needed, builds cftoken and
# shows the main job end to end against the bundled API emulator: create,
# verify, list and revoke a token, then `cftoken login` and a real
# `wrangler whoami` run through `cftoken exec` (the real API needs a
# Cloudflare account; see the README for using one).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" != "--steps" ]; then
	tests/install-deps.sh
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	echo "Built build/helper/cftoken.  Starting the API emulator on 127.0.0.1."
	# A session keyring of its own, so the demo's keys stay out of yours;
	# and none an earlier emulator on the same port left is taken as its.
	forget=$top/build/tests/integration/forget_api
	[ -x "$forget" ] && export CFTEST_FORGET_API=$forget
	exec keyctl session - tests/integration/with-emulator.sh "$top/build/demo" \
		"$top/tests/demo.sh" --steps
fi

# --steps: inside with-emulator.sh, which says where the emulator is.
export PATH="$top/build/helper:$PATH"
export CLOUDFLARE_API_BASE_URL="$CFTEST_API_URL"  # the real API is the default
export CFTOKEN_CA_FILE="$CFTEST_CA"                # the emulator's test CA
export XDG_RUNTIME_DIR="$CFTEST_WORK/run"          # lock files
mkdir -m 700 "$XDG_RUNTIME_DIR"
parent="$CFTEST_WORK/parent.token"
(umask 077; /usr/bin/python3 -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == "parent"))' "$CFTEST_SEED" >"$parent")

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo
echo "A parent token (one allowed to create tokens) is in $parent, mode 0600."
step cftoken verify --token-file "$parent"
cftoken verify --token-file "$parent"

step cftoken create --token-file "$parent" --permission '"Workers Scripts Write"' \
	--permission '"Zone Read"' --ttl 1h '|' cftoken verify --token-file -
out=$(cftoken create --token-file "$parent" --permission "Workers Scripts Write" \
	--permission "Zone Read" --ttl 1h | cftoken verify --token-file -)
echo "$out"
id=$(sed -n 's/^token \([0-9a-f]\{32\}\) is active.*/\1/p' <<<"$out")

step cftoken list --token-file "$parent"
cftoken list --token-file "$parent"

step cftoken revoke --token-file "$parent" "$id"
cftoken revoke --token-file "$parent" "$id"

# The everyday job: log in once, then every run gets a least-privilege
# token minted for it, cached in the keyring and renewed before it expires.
export CFTOKEN_CONFIG="$CFTEST_WORK/config"
cat >"$CFTOKEN_CONFIG" <<CONF
[defaults]
account = 0123456789abcdef0123456789abcdef
[profile workers-deploy]
preset = workers-deploy
ttl = 8h
CONF
echo
echo "Configuration ($CFTOKEN_CONFIG):"
sed 's/^/    /' "$CFTOKEN_CONFIG"
step cftoken login '<' "$parent"
cftoken login <"$parent"

if wrangler=$(tests/install-wrangler.sh 2>/dev/null); then
	export NODE_EXTRA_CA_CERTS="$CFTEST_CA" WRANGLER_SEND_METRICS=false HOME="$CFTEST_WORK"
	step cftoken exec --profile workers-deploy -- wrangler whoami
	cftoken exec --profile workers-deploy -- "$wrangler" whoami
else
	echo "(wrangler 4 needs Node.js >= 20.3: showing the environment it would get)"
	step cftoken exec --profile workers-deploy -- env
	cftoken exec --profile workers-deploy -- env | grep -E '^(CLOUDFLARE_ACCOUNT_ID|CFTOKEN_EXPIRES_ON)='
fi
step 'printf "protocol=https\nhost=api.cloudflare.com\n\n" | cftoken --profile workers-deploy get   # from the cache, no API call'
printf 'protocol=https\nhost=api.cloudflare.com\n\n' | cftoken --profile workers-deploy get |
	sed 's/^password=.*/password=<the same token, from the kernel keyring>/'
step cftoken logout
cftoken logout
echo
echo "Done: tokens created, verified, listed and revoked; then a wrangler run with"
echo "a minted workers-deploy token, and a warm git-protocol answer from the cache."
