#!/bin/bash
# Real wrangler (npm) through `cftoken exec`, against the emulator, which
# enforces data/api-operations.tsv's groups: kv namespace create and list,
# r2 bucket create and list, d1 create and list, deploy of a module Worker
# with KV, R2 and D1 bindings, a workers.dev route and a zone route,
# versions upload, deployments list, secret put/list/delete, kv key
# put/get/list and d1 execute --remote all succeed with a profile holding
# the groups they need; every call wrangler made was one the emulator
# serves, answered as the schema says, with the token cftoken minted.
# With --proxy, the same commands run through `exec --proxy`'s forwarder,
# and wrangler never holds a token: while the emulator holds the first
# deploy's upload, wrangler's /proc/PID/environ and a core of each of its
# processes are taken; they and all wrangler printed are scanned for every
# token value the emulator holds (tests/leaks/find-values.sh).
#   test_wrangler_deploy.sh BUILD_DIR [--proxy]     (run under with-emulator.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/preamble.sh"
in_test_session "$0" "$@"
front=$1/helper/cftoken
. "$here/wrangler_project.sh"

proxy=${2:-}
wrangler=$("$here/../install-wrangler.sh") || { echo "1..0 # SKIP wrangler 4 cannot be installed here"; exit 0; }
worker=cftoken-deploy-test
test_workdir wrangler-deploy
mkdir -p "$dir/home" "$dir/project/src"
export CFTOKEN_CACHE=kernel
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
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
# NODE_EXTRA_CA_CERTS (exec --proxy gives it the forwarder's URL instead);
# a private HOME keeps it from any real login.  All it prints (cftoken's
# lines too) is also kept in $dir/wrangler.out, for the scan.
run_wrangler() {
	local rc
	(cd "$dir/project" && HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL \
		NODE_EXTRA_CA_CERTS=$CFTEST_CA WRANGLER_SEND_METRICS=false CI=true \
		cftoken exec $proxy --profile "${profile:-deploy}" -- ${node_flags:+node $node_flags} \
		"$wrangler" "$@" \
		>"$dir/last.out" 2>&1)
	rc=$?
	cat "$dir/last.out" >>"$dir/wrangler.out"
	cat "$dir/last.out"
	return $rc
}

# look_at_held_wrangler METHOD PATH RUNNER: has the emulator hold
# wrangler's request (a delay fault), and while wrangler waits for the
# answer keeps in $dir/held the environment of each process it runs as
# (every process in the project directory but cftoken's own) and a core
# of each of its Node.js processes; then lets the request go.  RUNNER is
# the background job that runs wrangler: if it ends first, nothing was held.
look_at_held_wrangler() {
	local held=0 p pid exe node project helpers
	node=$(readlink -f "$(command -v node)")
	project=$(readlink -f "$dir/project")
	helpers=$(readlink -f "$(dirname "$front")")
	mkdir -p "$dir/held"
	$CFTEST_EMUCTL POST /__emu/faults \
		"{\"method\": \"$1\", \"path\": \"$2\", \"kind\": \"delay\", \"delay_ms\": 90000}" >/dev/null
	while kill -0 "$3" 2>/dev/null; do
		held=$($CFTEST_EMUCTL GET /__emu/faults |
			$py -c 'import json,sys; print(sum(r["holding"] for r in json.load(sys.stdin)))')
		[ "$held" = 1 ] && break
		sleep 0.05
	done
	echo "$held" >"$dir/held/count"
	if [ "$held" = 1 ]; then
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/cwd" 2>/dev/null)" = "$project" ] || continue
			exe=$(readlink "$p/exe" 2>/dev/null)
			[ -n "$exe" ] && [ "${exe#"$helpers"/}" = "$exe" ] || continue
			pid=${p#/proc/}
			cat "$p/environ" >"$dir/held/environ.$pid" 2>/dev/null
			[ "$exe" = "$node" ] || continue
			echo "$pid" >>"$dir/held/node"
			command -v gdb >/dev/null || continue
			gcore -o "$dir/held/core" "$pid" >"$dir/held/gcore.$pid.log" 2>&1 ||
				echo "$pid" >>"$dir/held/gcore-failed"
		done
	fi
	$CFTEST_EMUCTL POST /__emu/faults/release >/dev/null
	$CFTEST_EMUCTL DELETE /__emu/faults >/dev/null
}

out=$(run_wrangler kv namespace create my-kv); rc=$?
ok $rc "wrangler kv namespace create"
kv=$(printf '%s\n' "$out" | sed -n 's/.*"id": "\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
ok $([ ${#kv} -eq 32 ]; echo $?) "... prints the namespace's id ($kv)"
out=$(run_wrangler kv namespace list); rc=$?
ok $([ $rc -eq 0 ] && [ -n "$kv" ] && contains "$out" "\"$kv\""; echo $?) "wrangler kv namespace list shows it"
out=$(run_wrangler r2 bucket create my-bucket); rc=$?
ok $rc "wrangler r2 bucket create"
out=$(run_wrangler r2 bucket list); rc=$?
ok $([ $rc -eq 0 ] && contains "$out" "my-bucket"; echo $?) "wrangler r2 bucket list shows it"
out=$(run_wrangler d1 create my-db); rc=$?
ok $rc "wrangler d1 create"
db=$(printf '%s\n' "$out" | sed -n 's/.*"database_id": "\([0-9a-f-]\{36\}\)".*/\1/p' | head -1)
ok $([ ${#db} -eq 36 ]; echo $?) "... prints the database's id ($db)"
out=$(run_wrangler d1 list); rc=$?
ok $([ $rc -eq 0 ] && [ -n "$db" ] && contains "$out" "$db"; echo $?) "wrangler d1 list shows it"

write_project "$dir/project" "$worker" "$account" "$kv" "$db"
if [ -n "$proxy" ]; then
	# The first deploy runs while its upload is held, for a look at
	# wrangler.  (V8 reserves address space for each WebAssembly memory,
	# undici's HTTP parser's among them: 10 GiB, guard pages included.
	# gcore writes the reserved ranges out as zeros, 11 GB in 45 s; with
	# these flags the reservation is 128 MiB, and a core 1 GB.)
	node_flags="--disable-wasm-trap-handler --wasm-max-mem-pages=2048" \
		run_wrangler deploy >"$dir/deploy.out" &
	runner=$!
	look_at_held_wrangler PUT "/workers/scripts/$worker\$" "$runner"
	wait "$runner"; rc=$?
	out=$(cat "$dir/deploy.out")
else
	out=$(run_wrangler deploy); rc=$?
fi
ok $rc "wrangler deploy (a new Worker: one upload)"
contains "$out" "$worker.example.workers.dev"; ok $? "... on workers.dev"
contains "$out" "api.example.com/*"; ok $? "... and on the zone route"
stored=$($CFTEST_EMUCTL GET /__emu/scripts | $py -c '
import json, sys
print(" ".join(s["name"] for s in json.load(sys.stdin) if s["account_id"] == sys.argv[1]))' "$account")
ok $([[ " $stored " == *" $worker "* ]]; echo $?) "... the emulator holds the Worker (scripts: $stored)"
if [ -n "$proxy" ]; then
	# What wrangler held while it waited for its upload: the stand-in,
	# never a token.
	held=$(cat "$dir/held/count" 2>/dev/null)
	ok $([ "$held" = 1 ]; echo $?) "the emulator held the deploy's upload while wrangler waited (${held:-0})"
	given=$(sed 's|^|'"$dir"'/held/environ.|' "$dir/held/node" 2>/dev/null | xargs -r cat |
		tr '\0' '\n' | sed -n 's/^\(CLOUDFLARE_API_TOKEN\|CLOUDFLARE_API_BASE_URL\)=/\1 /p' | sort -u)
	standin=$(printf '%s\n' "$given" | sed -n 's/^CLOUDFLARE_API_TOKEN //p')
	base=$(printf '%s\n' "$given" | sed -n 's/^CLOUDFLARE_API_BASE_URL //p')
	nodes=$(wc -l <"$dir/held/node" 2>/dev/null)
	ok $([[ $standin =~ ^[A-Za-z0-9_-]{40}$ ]] && [[ $base =~ ^http://127\.0\.0\.1:[0-9]+/client/v4$ ]] &&
		[ "${nodes:-0}" -ge 1 ]; echo $?) \
		"wrangler's Node.js processes (${nodes:-0}) have one stand-in and the forwarder's URL ($base)"
	# (gcore comes with gdb: on a machine with gdb, a core that could not
	# be taken fails the check)
	if command -v gdb >/dev/null; then
		cores=("$dir"/held/core.*)
		failed_cores=$(cat "$dir/held/gcore-failed" 2>/dev/null)
		ok $([ -z "$failed_cores" ] && [ -s "${cores[0]}" ] && [ ${#cores[@]} = "${nodes:-0}" ]; echo $?) \
			"gcore took a core of each (${#cores[@]})"
		[ -z "$failed_cores" ] || cat "$dir"/held/gcore.*.log | tail -5 | sed 's/^/#   /'
		# (the scan's own check: it finds the stand-in in each core)
		[ -z "$standin" ] || printf '%s\n' "$standin" >"$dir/held/standin"
		found=$("$here/../leaks/find-values.sh" "$dir/held/standin" "${cores[@]}" | wc -l)
		ok $([ "$found" = ${#cores[@]} ]; echo $?) "the scan finds the stand-in in every core ($found)"
	else
		ok 0 "# SKIP a core of wrangler: no gdb (tests/install-deps.sh installs it)"
		ok 0 "# SKIP a core of wrangler: no gdb"
		cores=()
	fi
	hits=$("$here/../leaks/find-values.sh" "$CFTEST_VALUES_LOG" "$dir"/held/environ.* "${cores[@]}"); rc=$?
	ok $rc "no token value the emulator holds ($(sort -u "$CFTEST_VALUES_LOG" | wc -l)) is in wrangler's environment or its cores"
	[ -z "$hits" ] || printf '#   in %s\n' $hits
	rm -f "$dir"/held/core.*
fi
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
secret_text="a secret through cftoken"
secrets_of_worker() {  # the Worker's secrets as the emulator holds them: NAME:SHA-256
	$CFTEST_EMUCTL GET /__emu/scripts | $py -c '
import json, sys
print(" ".join("%s:%s" % (x["name"], x["value_sha256"]) for s in json.load(sys.stdin)
               if s["name"] == sys.argv[1] for x in s["secrets"]))' "$worker"
}
out=$(printf '%s' "$secret_text" | run_wrangler secret put GREETING_KEY); rc=$?
ok $([ $rc -eq 0 ] && [ "$(secrets_of_worker)" = \
	"GREETING_KEY:$(printf '%s' "$secret_text" | sha256sum | cut -d' ' -f1)" ]; echo $?) \
	"wrangler secret put: the Worker holds the secret, its text as sent"
out=$(run_wrangler secret list); rc=$?
ok $([ $rc -eq 0 ] && contains "$out" "GREETING_KEY" && ! grep -qF "$secret_text" <<<"$out"; echo $?) \
	"wrangler secret list names it (not its text)"
out=$(run_wrangler secret delete GREETING_KEY); rc=$?
ok $([ $rc -eq 0 ] && [ -z "$(secrets_of_worker)" ]; echo $?) "wrangler secret delete removes it"
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
    if e["status"] == 401:
        print("unauthenticated: " + show(e))
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
tap_row "none came without a token the emulator knows (401)" \
	$(printf '%s\n' "$report" | sed -n 's/^unauthenticated: //p' | tr ' ' '_')
tap_row "every answer matched the official schema where it has the operation" \
	$(printf '%s\n' "$report" | sed -n 's/^schema: //p' | tr ' ' '_')
tap_row "the parent token served only cftoken's mint" \
	$(printf '%s\n' "$report" | sed -n 's/^parent: //p' | tr ' ' '_')
tokens=$(printf '%s\n' "$report" | sed -n 's/^tokens=//p')
# The tokens cftoken minted for the profile: by their name, and the
# SHA-256 of their values (the emulator never shows a value).
minted=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c '
import json, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("cftoken deploy "):
        print(t["id"], t["value_sha256"])')
minted_ids=$(printf '%s\n' "$minted" | cut -d' ' -f1 | grep . | sort | paste -sd' ')
ok $([ -n "$minted_ids" ] && [ "$tokens" = "$minted_ids" ]; echo $?) \
	"every call was made with a token cftoken minted for the profile ($tokens; minted: $minted_ids)"
if [ -n "$proxy" ]; then
	# The scans look for those tokens too.
	missing=$(printf '%s\n' "$minted" | $py -c '
import hashlib, sys
held = {hashlib.sha256(v.strip().encode()).hexdigest() for v in open(sys.argv[1]) if v.strip()}
print(" ".join(t[0] for t in map(str.split, sys.stdin) if len(t) == 2 and t[1] not in held))' \
		"$CFTEST_VALUES_LOG")
	ok $([ -n "$minted_ids" ] && [ -z "$missing" ]; echo $?) \
		"the values the scans look for include the minted tokens'${missing:+ (not: $missing)}"
fi

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
if [ -n "$proxy" ]; then
	# All wrangler printed, cftoken's lines with it: not one token.
	ok $(! grep -q 'cftoken: forwarder: 401' "$dir/wrangler.out"; echo $?) \
		"the forwarder refused none of wrangler's requests (401)"
	hits=$("$here/../leaks/find-values.sh" "$CFTEST_VALUES_LOG" "$dir/wrangler.out"); rc=$?
	ok $([ $rc -eq 0 ] && [ -s "$dir/wrangler.out" ]; echo $?) \
		"no token value the emulator holds is in wrangler's output ($(wc -l <"$dir/wrangler.out") lines)"
fi
cftoken logout >/dev/null
tap_done
