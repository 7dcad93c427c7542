#!/bin/bash
# exec --proxy renews the token mid-run: a 90-second job with 30-second
# tokens (renewed 15 seconds before they end) never sees an answer the
# token's expiry caused, each request after the renew point carries a
# fresh token, and under cache = none a replaced token is deleted only once
# the last request carrying it has ended (a request held open across the
# renewal still verifies at its end), then every token of the run is gone.
#   test_forwarder_renewal.sh BUILD_DIR     (run under with-emulator.sh)
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken

test_workdir renewal
export CFTOKEN_CACHE=none
start_echo_upstream "$dir"
trap 'kill $echo_pid 2>/dev/null' EXIT
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section "$echo_url")
[profile short]
preset = workers-deploy
ttl = 30s
proxy = true
CONF
seed_value parent | cftoken login >/dev/null
ok $? "login"

# The job: a verify every second for 90 seconds, one line each (HTTP
# status, the token id the API verified, its status); and one request held
# open from the start until the job has seen the token change.
cat >"$dir/job.sh" <<'SH'
#!/bin/bash
out=$1
auth="Authorization: Bearer $CLOUDFLARE_API_TOKEN"
first=
curl -sS -N -H "$auth" "$CLOUDFLARE_API_BASE_URL/__echo/hold?until=$out.renewed&account=$CLOUDFLARE_ACCOUNT_ID" \
	>"$out.hold" 2>"$out.hold.err" &
held=$!
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
	curl -sS -w ' %{http_code}\n' -H "$auth" \
		"$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify" |
		/usr/bin/python3 -c 'import json,sys
body, status = sys.stdin.read().rsplit(" ", 1)
try:
    r = json.loads(body)["result"] or {}
except ValueError:
    r = {}
print(status.strip(), r.get("id", "-"), r.get("status", "-"))' >>"$out.verify"
	id=$(tail -1 "$out.verify" | cut -d' ' -f2)
	[ -z "$first" ] && first=$id
	[ "$id" != "$first" ] && [ "$id" != - ] && touch "$out.renewed"
	sleep 1
done
touch "$out.renewed"
wait "$held"
SH
chmod +x "$dir/job.sh"
cftoken --verbose exec -- "$dir/job.sh" "$dir/job" 2>"$dir/job.stderr"
ok $? "a 90-second job through exec --proxy with 30-second tokens ends well"
problems=()
while read -r status id state; do
	[ "$status" = 200 ] && [ "$state" = active ] || problems+=("a verify answered $status, token $id $state")
done <"$dir/job.verify"
tap_row "every verify of the job was answered 200, by an active token ($(wc -l <"$dir/job.verify") requests)" "${problems[@]}"
ids=$(cut -d' ' -f2 "$dir/job.verify" | uniq)
ok $([ "$(sort -u <<<"$ids" | wc -l)" -ge 4 ]; echo $?) \
	"the job's requests carried $(sort -u <<<"$ids" | wc -l) tokens in turn (at least 4 in 90 s)"
ok $([ "$(wc -l <<<"$ids")" = "$(sort -u <<<"$ids" | wc -l)" ]; echo $?) \
	"each one from its renewal on, never an older one again"
first=$(head -1 <<<"$ids")
verdict=$(tail -1 "$dir/job.hold")
ok $([ "$(json_status=$($py -c 'import json,sys; v=json.loads(sys.argv[1]); print(v["status"], v["answer"]["result"]["id"])' "$verdict" 2>/dev/null); echo "$json_status")" = "200 $first" ]; echo $?) \
	"a request held open across the renewal still carried a live token at its end (first token $first)"
left=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
ids = set(sys.argv[1].split())
print(" ".join(t["id"] for t in json.load(sys.stdin) if t["id"] in ids and not t["deleted"]))' "$ids")
ok $([ -z "$left" ]; echo $?) "cache none: every token of the run was deleted once unused (left: ${left:-none})"
ok $(! grep -q 'warning' "$dir/job.stderr"; echo $?) "no warning on cftoken's stderr"
contains "$(cat "$dir/job.stderr")" "requests from now on carry token" ; ok $? "--verbose says when requests move to a new token"
cftoken logout >/dev/null 2>&1
kill "$echo_pid" 2>/dev/null
tap_done
