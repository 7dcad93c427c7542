#!/bin/bash
# Real wrangler (npm) through `cftoken exec`, against the emulator, which
# enforces data/api-operations.tsv's groups: kv namespace create, r2 bucket
# create, d1 create, deploy of a module Worker with KV, R2 and D1 bindings, a
# workers.dev route and a zone route, versions upload, deployments list,
# kv key put/get/list and d1 execute --remote all succeed with a profile
# holding the groups they need; every call wrangler made was one the
# emulator serves, answered as the schema says, with the minted token.
#   test_wrangler_deploy.sh BUILD_DIR     (run under with-emulator.sh)
set -u
if [ -z "${CFTEST_IN_SESSION:-}" ]; then
	CFTEST_IN_SESSION=1 exec keyctl session - "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
front=$1/helper/cftoken
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/wrangler_project.sh"
cftoken() { ${CFTEST_WRAP:-} "$front" "$@"; }

wrangler=$("$here/../install-wrangler.sh") || { echo "1..0 # SKIP wrangler 4 cannot be installed here"; exit 0; }
account=0123456789abcdef0123456789abcdef
dir=$CFTEST_WORK/wrangler-deploy
mkdir -p "$dir/home" "$dir/project/src"
export XDG_RUNTIME_DIR=$dir/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
export CFTOKEN_CONFIG=$dir/config CFTOKEN_CACHE=kernel
cat >"$CFTOKEN_CONFIG" <<CONF
[defaults]
api_url = $CFTEST_API_URL
ca_file = $CFTEST_CA
account = $account
[profile deploy]
permissions = Workers Scripts Write, Workers KV Storage Write, Workers R2 Storage Write, D1 Write, Workers Routes Write, Zone Read, Account Settings Read
zones = example.com
ttl = 1h
[profile no-d1]
permissions = Workers Scripts Write, Workers KV Storage Write, Workers R2 Storage Write, Account Settings Read
ttl = 1h
CONF
parent=$(seed_value parent)
printf '%s\n' "$parent" | cftoken login >/dev/null
ok $? "login"

# The account's workers.dev subdomain (wrangler asks for one otherwise),
# set through the API with the parent token, which holds Workers Scripts Write.
set_subdomain "$parent" "$account"
ok $? "the account's workers.dev subdomain is set"
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null

# wrangler reads CLOUDFLARE_API_BASE_URL and trusts the test CA through
# NODE_EXTRA_CA_CERTS; a private HOME keeps it from any real login.
run_wrangler() {
	(cd "$dir/project" && HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL \
		NODE_EXTRA_CA_CERTS=$CFTEST_CA WRANGLER_SEND_METRICS=false CI=true \
		cftoken exec --profile "${profile:-deploy}" -- "$wrangler" "$@" 2>&1)
}

out=$(run_wrangler kv namespace create my-kv); rc=$?
ok $rc "wrangler kv namespace create"
kv=$(printf '%s\n' "$out" | sed -n 's/.*"id": "\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
ok $([ ${#kv} -eq 32 ]; echo $?) "... prints the namespace's id ($kv)"
out=$(run_wrangler r2 bucket create my-bucket); rc=$?
ok $rc "wrangler r2 bucket create"
out=$(run_wrangler d1 create my-db); rc=$?
ok $rc "wrangler d1 create"
db=$(printf '%s\n' "$out" | sed -n 's/.*"database_id": "\([0-9a-f-]\{36\}\)".*/\1/p' | head -1)
ok $([ ${#db} -eq 36 ]; echo $?) "... prints the database's id ($db)"

write_project "$dir/project" cftoken-deploy-test "$account" "$kv" "$db"
out=$(run_wrangler deploy); rc=$?
ok $rc "wrangler deploy (a new Worker: one upload)"
contains "$out" "cftoken-deploy-test.example.workers.dev"; ok $? "... on workers.dev"
contains "$out" "api.example.com/*"; ok $? "... and on the zone route"
out=$(run_wrangler deploy); rc=$?
ok $rc "wrangler deploy again (an existing Worker: version, deployment, settings)"
contains "$out" "Current Version ID"; ok $? "... names the deployed version"
# Off workers.dev: the deploy turns the toggle off; the next one, in step
# with it, looks the route's zone up by name and checks the zone's routes
# for another Worker's (wrangler does that only then).
sed -i 's/"workers_dev": true/"workers_dev": false/' "$dir/project/wrangler.json"
out=$(run_wrangler deploy); rc=$?
ok $rc "wrangler deploy with workers_dev = false turns workers.dev off"
since=$($CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(max([e["seq"] for e in json.load(sys.stdin)] + [0]))')
out=$(run_wrangler deploy); rc=$?
zone_calls=$($CFTEST_EMUCTL GET /__emu/log | $py -c '
import json, re, sys
print(" ".join(sorted({"%s:%s" % (re.sub(r"[0-9a-f]{32}", "ID", e["path"]), e["status"])
                       for e in json.load(sys.stdin)
                       if e["seq"] > int(sys.argv[1]) and "/zones" in e["path"]})))' "$since")
ok $([ $rc -eq 0 ] && [ "$zone_calls" = "/client/v4/zones/ID/workers/routes:200 /client/v4/zones:200" ]
	echo $?) "... then finds the route's zone by name and checks its routes ($zone_calls)"
out=$(run_wrangler versions upload); rc=$?
ok $rc "wrangler versions upload"
out=$(run_wrangler deployments list); rc=$?
ok $rc "wrangler deployments list"
contains "$out" "(100%)"; ok $? "... shows a version at 100%"
out=$(run_wrangler kv key put --remote --binding KV greeting hello); rc=$?
ok $rc "wrangler kv key put --remote"
out=$(run_wrangler kv key get --remote --binding KV greeting); rc=$?
ok $([ $rc -eq 0 ] && contains "$out" "hello"; echo $?) "wrangler kv key get --remote gives the value back"
out=$(run_wrangler kv key list --remote --binding KV); rc=$?
ok $([ $rc -eq 0 ] && contains "$out" '"greeting"'; echo $?) "wrangler kv key list --remote"
out=$(run_wrangler d1 execute my-db --remote --command \
	"CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('sql through cftoken'); SELECT body FROM notes")
rc=$?
ok $([ $rc -eq 0 ] && contains "$out" "sql through cftoken"; echo $?) "wrangler d1 execute --remote --command runs real SQL"

# What the emulator saw: each call one it serves (no 404 7000 / 405 7001),
# none refused for its groups, every answer as the schema says, and all
# made with the one token cftoken minted for the profile. cftoken's own
# calls (the mint: the token endpoints, /zones) go with the parent token.
parent_id=$($CFTEST_EMUCTL GET /__emu/tokens |
	$py -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin) if t["name"] == "parent"))')
report=$($CFTEST_EMUCTL GET /__emu/log | $py -c '
import json, re, sys
log = [e for e in json.load(sys.stdin) if e["path"].startswith("/client/v4/")]
for e in log:
    if e["token_id"] == sys.argv[1] and not re.match(r"^/client/v4/(accounts/[0-9a-f]+/tokens|zones$)",
                                                     e["path"]):
        print("parent: %s %s" % (e["method"], e["path"]))
log = [e for e in log if e["token_id"] != sys.argv[1]]
def show(e):
    return "%s %s -> %s %s" % (e["method"], e["path"], e["status"], e["error_codes"])
print("calls=%d" % len(log))
for e in log:
    if set(e["error_codes"]) & {7000, 7001}:
        print("unserved: " + show(e))
    if e["status"] == 403:
        print("refused: " + show(e))
    if e["schema_errors"]:
        print("schema: " + show(e) + " " + "; ".join(e["schema_errors"][:2]))
print("tokens=" + " ".join(sorted({e["token_id"] or "-" for e in log})))
print("operations=%d" % len({e["operation"] for e in log if e["operation"]}))
' "$parent_id")
printf '%s\n' "$report" | sed 's/^/# /'
calls=$(printf '%s\n' "$report" | sed -n 's/^calls=//p')
ok $([ "${calls:-0}" -gt 20 ]; echo $?) "the emulator logged wrangler's calls ($calls)"
tap_row "every call wrangler made is one the emulator serves" \
	$(printf '%s\n' "$report" | sed -n 's/^unserved: //p' | tr ' ' '_')
tap_row "no call was refused for its permission groups" \
	$(printf '%s\n' "$report" | sed -n 's/^refused: //p' | tr ' ' '_')
tap_row "every answer matched the official schema where it has the operation" \
	$(printf '%s\n' "$report" | sed -n 's/^schema: //p' | tr ' ' '_')
tap_row "the parent token served only cftoken's mint" \
	$(printf '%s\n' "$report" | sed -n 's/^parent: //p' | tr ' ' '_')
tokens=$(printf '%s\n' "$report" | sed -n 's/^tokens=//p')
minted=$(cftoken env --profile deploy --format json |
	$py -c 'import json,sys; print(json.load(sys.stdin)["CLOUDFLARE_API_TOKEN"])' |
	"$front" verify --token-file - --account "$account" | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
ok $([ ${#minted} -eq 32 ] && [ "$tokens" = "$minted" ]; echo $?) \
	"every call was made with the token cftoken minted ($tokens)"

# The groups matter: a profile without D1 Write cannot create a database,
# and the emulator says why as Cloudflare does (403 10000).
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
out=$(profile=no-d1 run_wrangler d1 create other-db); rc=$?
ok $([ $rc -ne 0 ] && contains "$out" "Authentication error"; echo $?) \
	"wrangler d1 create fails with a profile that lacks D1 Write"
refused=$($CFTEST_EMUCTL GET /__emu/log | $py -c '
import json, sys
print(" ".join("%s:%s:%s" % (e["method"], e["status"], e["error_codes"][0])
               for e in json.load(sys.stdin) if e["path"].endswith("/d1/database")))')
ok $([ "$refused" = "POST:403:10000" ]; echo $?) "... refused by the emulator: 403 10000 ($refused)"
cftoken logout >/dev/null
tap_done
