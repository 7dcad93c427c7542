#!/bin/bash
# Real wrangler (npm) through `cftoken exec`: wrangler whoami against the
# emulator succeeds, and the emulator saw wrangler use the very token
# cftoken minted.
#   test_wrangler.sh BUILD_DIR     (run under with-emulator.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/preamble.sh"
in_test_session "$0" "$@"
front=$1/helper/cftoken

wrangler=$("$here/../install-wrangler.sh") || { echo "1..0 # SKIP wrangler 4 cannot be installed here"; exit 0; }
test_workdir wrangler
mkdir -p "$dir/home"
export CFTOKEN_CACHE=kernel
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
[profile workers-deploy]
preset = workers-deploy
ttl = 1h
CONF
$py -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == "parent"))' "$CFTEST_SEED" | cftoken login >/dev/null
ok $? "login"

# wrangler reads CLOUDFLARE_API_BASE_URL and trusts the test CA through
# NODE_EXTRA_CA_CERTS; a private HOME keeps it from any real login.
run_wrangler() {
	HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL NODE_EXTRA_CA_CERTS=$CFTEST_CA \
		WRANGLER_SEND_METRICS=false CI=true \
		cftoken exec --profile workers-deploy -- "$wrangler" whoami 2>&1
}
out=$(run_wrangler); rc=$?
ok $rc "cftoken exec -- wrangler whoami succeeds"
contains "$out" "Account API Token" ; ok $? "wrangler sees an account API token"
contains "$out" "$account" ; ok $? "of the account"
contains "$out" "Example Account" ; ok $? "by name"

minted=$(cftoken env --profile workers-deploy --format json |
	$py -c 'import json,sys; print(json.load(sys.stdin)["CLOUDFLARE_API_TOKEN"])' |
	"$front" verify --token-file - --account "$account" | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
ok $([ ${#minted} -eq 32 ]; echo $?) "the minted token's id is known"
seen=$($CFTEST_EMUCTL GET /__emu/log | $py -c '
import json, sys
log = json.load(sys.stdin)
print(" ".join(sorted({e["token_id"] or "-" for e in log if e["path"] in ("/client/v4/user/tokens/verify", "/client/v4/accounts")})))')
ok $([ "$seen" = "$minted" ]; echo $?) "the emulator saw wrangler authenticate with exactly that token ($seen)"

creates() { $CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["method"] == "POST"))'; }
before=$(creates)
out=$(run_wrangler); rc=$?
ok $rc "a second wrangler run succeeds"
ok $(($(creates) - before)) "with the cached token: no new create"

# exec --proxy: wrangler holds a stand-in and talks to the forwarder,
# which reaches the emulator with the minted token.
run_proxied() {
	HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL NODE_EXTRA_CA_CERTS=$CFTEST_CA \
		WRANGLER_SEND_METRICS=false CI=true \
		cftoken exec --proxy --profile workers-deploy -- "$wrangler" "$@" 2>&1
}
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
out=$(run_proxied whoami); rc=$?
ok $rc "cftoken exec --proxy -- wrangler whoami succeeds"
contains "$out" "$account" ; ok $? "wrangler sees the account through the forwarder"
out=$(run_proxied secret list --name my-worker); rc=$?
ok $rc "cftoken exec --proxy -- wrangler secret list succeeds"
contains "$out" "[]" ; ok $? "and lists my-worker's secrets (none)"
seen=$($CFTEST_EMUCTL GET /__emu/log | $py -c '
import json, sys
print(" ".join(sorted({e["token_id"] or "-" for e in json.load(sys.stdin)})))')
ok $([ "$seen" = "$minted" ]; echo $?) "every request wrangler made reached the emulator with the minted token ($seen)"
cftoken logout >/dev/null
tap_done
