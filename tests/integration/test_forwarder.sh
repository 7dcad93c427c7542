#!/bin/bash
# cftoken exec --proxy: the program gets a stand-in token and the
# forwarder's URL; the forwarder sends its requests on to the API with the
# real token, streamed both ways; anything without the stand-in gets 401,
# a path outside /client/v4 404; the program's exit status and the signals
# sent to cftoken pass through; proxy = true in a profile does the same,
# and its token is never handed over warm.
#   test_forwarder.sh BUILD_DIR     (run under with-emulator.sh)
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken
json_field() {  # json_field EXPRESSION: of the JSON on stdin ("j" is it)
	$py -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" 2>/dev/null
}

test_workdir forwarder
export CFTOKEN_CACHE=kernel
write_config() {  # write_config API_URL
	cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section "$1")
[profile deploy]
preset = workers-deploy
ttl = 1h
[profile always]
preset = workers-deploy
ttl = 1h
proxy = true
[profile kvonly]
permissions = Workers KV Storage Read
ttl = 1h
CONF
}
write_config "$CFTEST_API_URL"
seed_value parent | cftoken login >/dev/null
ok $? "login"
emu POST /__emu/scripts "{\"account_id\": \"$account\", \"name\": \"fw-worker\"}" >/dev/null
ok $? "a Worker script to hold secrets"

# The program: what it was given, and what the forwarder answered.
cat >"$dir/client.sh" <<'SH'
#!/bin/bash
# client.sh OUT: the environment's hand-over variables and a few requests
out=$1
env | grep -E '^(CLOUDFLARE_|CFTOKEN_)' | sort >"$out.env"
base=$CLOUDFLARE_API_BASE_URL
auth="Authorization: Bearer $CLOUDFLARE_API_TOKEN"
c() { curl -sS -o "$out.$1" -w '%{http_code}' "${@:2}" >"$out.$1.status" 2>"$out.$1.err"; }
c verify -H "$auth" "$base/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify"
c put -H "$auth" -X PUT -H 'Content-Type: application/json' \
	--data '{"name": "FW_SECRET", "text": "hello", "type": "secret_text"}' \
	"$base/accounts/$CLOUDFLARE_ACCOUNT_ID/workers/scripts/fw-worker/secrets"
c list -H "$auth" "$base/accounts/$CLOUDFLARE_ACCOUNT_ID/workers/scripts/fw-worker/secrets"
c none "$base/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify"
c wrong -H "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"$base/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify"
c outside -H "$auth" "${base%/client/v4}/client/v3/accounts"
c dotdot -H "$auth" --path-as-is "$base/../v3/accounts"
exit 0
SH
chmod +x "$dir/client.sh"

emu DELETE /__emu/log >/dev/null
out=$(cftoken exec --proxy --profile deploy -- "$dir/client.sh" "$dir/a" 2>"$dir/a.stderr"); rc=$?
ok $rc "exec --proxy runs the program"
real=$(cftoken env --profile deploy --format json | json_field 'j["CLOUDFLARE_API_TOKEN"]')
minted=$(printf '%s' "$real" | "$front" verify --token-file - --account "$account" |
	sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
ok $([ ${#minted} -eq 32 ]; echo $?) "the profile's minted token is known ($minted)"
base=$(sed -n 's/^CLOUDFLARE_API_BASE_URL=//p' "$dir/a.env")
standin=$(sed -n 's/^CLOUDFLARE_API_TOKEN=//p' "$dir/a.env")
ok $([[ $base =~ ^http://127\.0\.0\.1:[0-9]+/client/v4$ ]]; echo $?) \
	"the program's CLOUDFLARE_API_BASE_URL is the forwarder's ($base)"
ok $([[ $standin =~ ^[A-Za-z0-9_-]{40}$ ]]; echo $?) "its CLOUDFLARE_API_TOKEN is shaped like a token"
ok $([ -n "$real" ] && [ "$standin" != "$real" ] && ! grep -qF "$real" "$dir/a.env"; echo $?) \
	"and is not the token: the program's environment holds no token"
ok $(grep -q "^CLOUDFLARE_ACCOUNT_ID=$account\$" "$dir/a.env"; echo $?) "CLOUDFLARE_ACCOUNT_ID is the account"
ok $(! grep -q '^CFTOKEN_EXPIRES_ON=' "$dir/a.env"; echo $?) "no CFTOKEN_EXPIRES_ON: the stand-in lasts the run"

ok $([ "$(cat "$dir/a.verify.status")" = 200 ]; echo $?) "verify through the forwarder: 200"
ok $([ "$(json_field 'j["result"]["id"]' <"$dir/a.verify")" = "$minted" ]; echo $?) \
	"the API verified the minted token, not the stand-in"
seen=$(emu GET /__emu/log | $py -c '
import json, sys
print(" ".join(sorted({e["token_id"] or "-" for e in json.load(sys.stdin) if "/workers/" in e["path"] or e["path"].endswith("/tokens/verify")})))')
ok $([ "$seen" = "$minted" ]; echo $?) "every forwarded request reached the emulator with the minted token ($seen)"
ok $([ "$(cat "$dir/a.put.status")" = 200 ]; echo $?) "a secret PUT with a body through the forwarder: 200"
ok $([ "$(json_field '[s["name"] for s in j["result"]]' <"$dir/a.list")" = "['FW_SECRET']" ]; echo $?) \
	"and the secrets list through the forwarder shows it"
ok $([ "$(cat "$dir/a.none.status")" = 401 ]; echo $?) "no credential: 401"
ok $([ "$(json_field 'j["errors"][0]["code"]' <"$dir/a.none")" = 10000 ]; echo $?) \
	"with Cloudflare's authentication error"
ok $([ "$(cat "$dir/a.wrong.status")" = 401 ]; echo $?) "a credential that is not the stand-in: 401"
ok $([ "$(grep -c 'cftoken: forwarder: 401' "$dir/a.stderr")" = 2 ]; echo $?) \
	"each 401 is a line on cftoken's stderr"
ok $([ "$(cat "$dir/a.outside.status")" = 404 ]; echo $?) "a path outside /client/v4/: 404"
ok $([ "$(cat "$dir/a.dotdot.status")" = 404 ]; echo $?) "a path that climbs out of /client/v4/ with ..: 404"
ok $(! grep -qF "$standin" "$dir/a.stderr"; echo $?) "the stand-in is in no line of cftoken's"
ok $(! grep -qF "$real" "$dir/a.stderr"; echo $?) "nor the token"

# A core of the program, taken after it used the API through the
# forwarder: the stand-in is there (its environment), the token is not.
if command -v gcore >/dev/null; then
	cat >"$dir/core.py" <<'PY'
import os, sys, time, urllib.request
out = sys.argv[1]
rq = urllib.request.Request(os.environ["CLOUDFLARE_API_BASE_URL"] + "/accounts/%s/tokens/verify"
                            % os.environ["CLOUDFLARE_ACCOUNT_ID"],
                            headers={"Authorization": "Bearer " + os.environ["CLOUDFLARE_API_TOKEN"]})
answer = urllib.request.urlopen(rq).read()
with open(out + ".standin", "w") as f:
    f.write(os.environ["CLOUDFLARE_API_TOKEN"])
with open(out + ".pid.new", "w") as f:
    f.write(str(os.getpid()))
os.rename(out + ".pid.new", out + ".pid")
while not os.path.exists(out + ".done"):
    time.sleep(0.05)
PY
	cftoken exec --proxy --profile deploy -- $py "$dir/core.py" "$dir/c" 2>/dev/null &
	waiter=$!
	for _ in $(seq 1 600); do [ -s "$dir/c.pid" ] && break; sleep 0.05; done
	gcore -o "$dir/core" "$(cat "$dir/c.pid")" >/dev/null 2>&1
	touch "$dir/c.done"
	wait "$waiter"
	core=$(ls "$dir"/core.* 2>/dev/null | head -1)
	ok $([ -s "$core" ] && [ -s "$dir/c.standin" ] && grep -qaFf "$dir/c.standin" "$core"; echo $?) \
		"a core of the program after its API call holds the stand-in (the scan finds a value)"
	ok $([ -s "$core" ] && ! grep -qaF "$real" "$core"; echo $?) "but not the token"
	rm -f "$dir"/core.*
else
	ok 0 "# SKIP a core of the program: no gcore (gdb)"
	ok 0 "# SKIP a core of the program: no gcore (gdb)"
fi

# Another user can reach the port but not the stand-in.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_other() { setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups -- "$@"; }
	cat >"$dir/other.sh" <<'SH'
#!/bin/sh
# other.sh OUT: the program's own pid, as another user tries to read its
# environment and use the forwarder
out=$1
printf '%s\n' "$CLOUDFLARE_API_BASE_URL" >"$out.base"
printf '%s\n' "$$" >"$out.pid.new" && mv "$out.pid.new" "$out.pid"
while [ ! -e "$out.done" ]; do sleep 0.05; done
SH
	chmod +x "$dir/other.sh"
	chmod 755 "$dir"
	cftoken exec --proxy --profile deploy -- "$dir/other.sh" "$dir/o" 2>"$dir/o.stderr" &
	waiter=$!
	for _ in $(seq 1 600); do [ -s "$dir/o.pid" ] && break; sleep 0.05; done
	pid=$(cat "$dir/o.pid" 2>/dev/null)
	stolen=$(as_other sh -c "tr '\\0' '\\n' </proc/$pid/environ" 2>/dev/null | sed -n 's/^CLOUDFLARE_API_TOKEN=//p')
	ok $([ -n "$pid" ] && [ -z "$stolen" ]; echo $?) "another user cannot read the program's environment"
	status=$(as_other curl -sS -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer ${stolen:-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA}" \
		"$(cat "$dir/o.base")/accounts/$account/tokens/verify")
	ok $([ "$status" = 401 ]; echo $?) "and gets 401 from the forwarder ($status)"
	touch "$dir/o.done"
	wait "$waiter"
	ok $? "the program ends, and cftoken with it"
else
	ok 0 "# SKIP another user: needs root (setpriv to nobody)"
	ok 0 "# SKIP another user: needs root"
	ok 0 "# SKIP another user: needs root"
fi

# The exit status and the signals.
cftoken exec --proxy --profile deploy -- sh -c 'exit 7'; rc=$?
ok $((rc != 7)) "the program's exit status passes through ($rc)"
cftoken exec --proxy --profile deploy -- "$dir/no-such-program" 2>/dev/null; rc=$?
ok $((rc != 127)) "a missing program: 127 ($rc)"
cftoken exec --proxy --profile deploy -- sh -c 'kill -TERM $$' 2>/dev/null; rc=$?
ok $((rc != 143)) "a program killed by SIGTERM: cftoken ends as it did ($rc)"
rm -f "$dir/sig.ready" "$dir/sig.got"
# (not through the function: $! is then cftoken's own pid)
${CFTEST_WRAP:-} "$front" exec --proxy --profile deploy -- sh -c \
	'trap "echo TERM >\"$0.got\"; exit 5" TERM; echo >"$0.ready"; while :; do sleep 0.05; done' \
	"$dir/sig" 2>/dev/null &
runner=$!
for _ in $(seq 1 600); do [ -e "$dir/sig.ready" ] && break; sleep 0.05; done
kill -TERM "$runner"
wait "$runner"; rc=$?
ok $([ "$(cat "$dir/sig.got" 2>/dev/null)" = TERM ]; echo $?) "SIGTERM sent to cftoken reaches the program"
ok $((rc != 5)) "and cftoken exits as the program did ($rc)"

# proxy = true in the profile: exec is exec --proxy, also warm.
for i in 1 2; do
	got=$(cftoken exec --profile always -- sh -c 'printf %s "$CLOUDFLARE_API_BASE_URL"')
	ok $([[ $got == http://127.0.0.1:* ]]; echo $?) "proxy = true: exec run $i goes through the forwarder ($got)"
done
cftoken env --profile always >/dev/null
got=$(cftoken exec --profile always -- sh -c 'printf %s "$CLOUDFLARE_API_BASE_URL"')
ok $([[ $got == http://127.0.0.1:* ]]; echo $?) "and after env cached its token, still ($got)"
got=$(cftoken exec --profile deploy -- sh -c 'printf %s "$CLOUDFLARE_API_BASE_URL"')
ok $([ -z "$got" ]; echo $?) "a profile without it: exec hands the token over as before"
out=$(cftoken env --proxy --profile deploy 2>&1); rc=$?
ok $((rc != 2)) "--proxy is exec's alone: exit 2"

# Streaming, against an upstream that shows what the emulator cannot:
# bodies of any size, and a client that goes away.
start_echo_upstream "$dir"
trap 'kill $echo_pid 2>/dev/null' EXIT
write_config "$echo_url"
seed_value parent | cftoken login >/dev/null
ok $? "login at the echoing upstream (it passes the API on)"
head -c 5000000 /dev/urandom >"$dir/5mb"
cat >"$dir/stream.sh" <<'SH'
#!/bin/sh
# stream.sh OUT BODY UPSTREAM_PID UPSTREAM_EVENTS
out=$1
auth="Authorization: Bearer $CLOUDFLARE_API_TOKEN"
curl -sS -X PUT -H "$auth" -H 'X-Cftest: passed' -H 'Connection: keep-alive, X-Cftest-Gone' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$2" \
	"$CLOUDFLARE_API_BASE_URL/__echo/upload?a=1&b=%2F" >"$out.upload"
curl -sS -X POST -H "$auth" -H 'Transfer-Encoding: chunked' --data-binary "@$2" \
	"$CLOUDFLARE_API_BASE_URL/__echo/upload" >"$out.chunked"
curl -sS -H "$auth" "$CLOUDFLARE_API_BASE_URL/__echo/bytes?n=5000000" | sha256sum >"$out.bytes"
# Hangs up once the answer has begun: its first byte.
curl -sSN -H "$auth" "$CLOUDFLARE_API_BASE_URL/__echo/slow" 2>/dev/null | head -c 1 >/dev/null
# Hangs up in the middle of its upload (50 s at this rate), once the
# upstream has its headers.
curl -sS -X PUT -H "$auth" --limit-rate 100k --data-binary "@$2" \
	"$CLOUDFLARE_API_BASE_URL/__echo/upload?announce" >/dev/null 2>&1 &
uploader=$!
for _ in $(seq 1 600); do grep -qx 'receiving upload' "$4" 2>/dev/null && break; sleep 0.1; done
kill "$uploader"
wait "$uploader"
# (the upstream notes both ends in $4, or never: it is stopped next)
for _ in $(seq 1 100); do
	grep -q '^upload:' "$4" 2>/dev/null && grep -q '^slow:' "$4" && break
	sleep 0.1
done
# The API goes away (echo_upstream.py's pid is $3): 502, from the forwarder.
kill "$3"
while kill -0 "$3" 2>/dev/null; do sleep 0.05; done
curl -sS -o "$out.gone" -w '%{http_code}' -H "$auth" "$CLOUDFLARE_API_BASE_URL/accounts" >"$out.gone.status"
exit 0
SH
chmod +x "$dir/stream.sh"
cftoken exec --proxy --profile deploy -- "$dir/stream.sh" "$dir/s" "$dir/5mb" "$echo_pid" \
	"$dir/echo.events" 2>"$dir/s.stderr"
ok $? "exec --proxy against the echoing upstream"
want=$(sha256sum <"$dir/5mb" | cut -d' ' -f1)
ok $([ "$(json_field 'j["result"]["sha256"]' <"$dir/s.upload")" = "$want" ]; echo $?) \
	"a 5 MB PUT body reaches the API intact"
ok $([ "$(json_field 'j["result"]["query"]' <"$dir/s.upload")" = "a=1&b=%2F" ]; echo $?) \
	"with its query as sent"
real=$(cftoken env --profile deploy --format json | json_field 'j["CLOUDFLARE_API_TOKEN"]')
ok $([ -n "$real" ] && [ "$(json_field 'j["result"]["bearer_sha256"]' <"$dir/s.upload")" = \
	"$(printf %s "$real" | sha256sum | cut -d' ' -f1)" ]; echo $?) \
	"with the profile's token in place of the stand-in"
ok $([ "$(json_field 'j["result"]["x_cftest"]' <"$dir/s.upload")" = passed ]; echo $?) \
	"the program's own headers pass"
ok $([ "$(json_field '"connection" in j["result"]["headers"]' <"$dir/s.upload")" = False ]; echo $?) \
	"hop-by-hop ones do not"
ok $([ "$(json_field 'j["result"]["sha256"]' <"$dir/s.chunked")" = "$want" ]; echo $?) \
	"a chunked POST body of 5 MB reaches the API intact"
ok $([ "$(cut -d' ' -f1 "$dir/s.bytes")" = "$($py -c 'import hashlib,sys
p = bytes(i % 251 for i in range(251))
print(hashlib.sha256((p * (5000000 // 251 + 1))[:5000000]).hexdigest())')" ]; echo $?) \
	"a 5 MB chunked answer reaches the program intact"
ok $(grep -qx 'slow: cancelled' "$dir/echo.events" 2>/dev/null; echo $?) \
	"a client that hangs up while the answer comes cancels the call to the API"
ok $(grep -qx 'upload: cut short' "$dir/echo.events" 2>/dev/null; echo $?) \
	"one that hangs up in the middle of its upload too: the API gets no whole body"
ok $([ "$(cat "$dir/s.gone.status")" = 502 ] &&
	[ "$(json_field 'j["success"]' <"$dir/s.gone")" = False ]; echo $?) \
	"an API that cannot be reached: 502, with Cloudflare's error shape"
ok $(grep -q 'cftoken: forwarder: 502 for GET /client/v4/accounts' "$dir/s.stderr"; echo $?) \
	"and a line on cftoken's stderr"
cftoken logout >/dev/null 2>&1
write_config "$CFTEST_API_URL"

# The API's own answers pass unchanged, and the forwarder retries nothing:
# the program decides (a retried write could be done twice).
cat >"$dir/faults.sh" <<'SH'
#!/bin/bash
out=$1
c() { curl -sS -o "$out.$1" -D "$out.$1.headers" -w '%{http_code}' -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" \
	"$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify" >"$out.$1.status" 2>"$out.$1.err"
	echo $? >"$out.$1.rc"; }
for f in 429 503 truncated reset; do
	$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
	case $f in
	429) rule='{"path": "/tokens/verify$", "kind": "status", "status": 429, "headers": {"Retry-After": "7"}}' ;;
	503) rule='{"path": "/tokens/verify$", "kind": "status", "status": 503}' ;;
	*) rule="{\"path\": \"/tokens/verify\$\", \"kind\": \"$f\"}" ;;
	esac
	$CFTEST_EMUCTL POST /__emu/faults "$rule" >/dev/null
	c "$f"
	$CFTEST_EMUCTL GET /__emu/log | /usr/bin/python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["path"].endswith("/tokens/verify")))' >"$out.$f.calls"
done
SH
chmod +x "$dir/faults.sh"
cftoken exec --proxy --profile deploy -- "$dir/faults.sh" "$dir/f" 2>"$dir/f.stderr"
ok $([ "$(cat "$dir/f.429.status")" = 429 ] && grep -qi '^Retry-After: 7' "$dir/f.429.headers"; echo $?) \
	"a 429 reaches the program as the API sent it, Retry-After included"
ok $([ "$(cat "$dir/f.429.calls")" = 1 ]; echo $?) "after one request: the forwarder does not retry it"
ok $([ "$(cat "$dir/f.503.status")" = 503 ] && [ "$(cat "$dir/f.503.calls")" = 1 ]; echo $?) \
	"a 503 reaches the program too, after one request"
ok $([ "$(cat "$dir/f.truncated.rc")" != 0 ]; echo $?) \
	"an answer the API broke off is broken off for the program too, never passed as whole (curl: $(cat "$dir/f.truncated.rc"))"
ok $(grep -q "^cftoken: forwarder: 200 for GET /client/v4/accounts/$account/tokens/verify cut off: could not reach the Cloudflare API (" \
	"$dir/f.stderr"; echo $?) "and cftoken says so on its stderr"
ok $([ "$(cat "$dir/f.reset.status")" = 502 ]; echo $?) "a connection the API reset: 502"
# A refusal explained: a profile without the Workers Scripts groups gets
# the emulator's 403 unchanged, and cftoken says on its stderr, one line
# per refused request, which groups would allow it and what to add.
cat >"$dir/refused.sh" <<'SH'
#!/bin/bash
out=$1
c() { curl -sS -o "$out.$1" -w '%{http_code}' -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" \
	"${@:2}" >"$out.$1.status" 2>"$out.$1.err"; }
c list "$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/workers/scripts/fw-worker/secrets"
c put -X PUT -H 'Content-Type: application/json' \
	--data '{"name": "FW_SECRET", "text": "no", "type": "secret_text"}' \
	"$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/workers/scripts/fw-worker/secrets"
c kv "$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/tokens/verify"
SH
chmod +x "$dir/refused.sh"
cftoken exec --proxy --profile kvonly -- "$dir/refused.sh" "$dir/r" 2>"$dir/r.stderr"
ok $? "exec --proxy with a profile that lacks the Workers Scripts groups"
kvtoken=$(cftoken env --profile kvonly --format json | json_field 'j["CLOUDFLARE_API_TOKEN"]')
printf 'Authorization: Bearer %s' "$kvtoken" | curl -sS --cacert "$CFTEST_CA" -H @- \
	-o "$dir/r.direct" "$CFTEST_API_URL/accounts/$account/workers/scripts/fw-worker/secrets"
ok $([ "$(cat "$dir/r.list.status")" = 403 ] && [ "$(cat "$dir/r.put.status")" = 403 ] &&
	[ "$(cat "$dir/r.kv.status")" = 200 ]; echo $?) \
	"the program gets the API's 403s (and its 200 for what the profile may do)"
ok $([ -s "$dir/r.direct" ] && cmp -s "$dir/r.direct" "$dir/r.list"; echo $?) \
	"the 403's body is the API's, byte for byte"
cat >"$dir/r.want" <<'LINES'
cftoken: GET /accounts/{account_id}/workers/scripts/{script_name}/secrets needs one of "Workers Tail Read", "Workers Scripts Write", "Workers Scripts Read"; profile kvonly lacks them all: add "Workers Scripts Read" to permissions =
cftoken: PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets needs "Workers Scripts Write"; profile kvonly lacks it: add it to permissions =
LINES
ok $(diff "$dir/r.want" "$dir/r.stderr" >&2; echo $?) \
	"cftoken's stderr: exactly one line per 403, naming the groups and the fix"
ok $([ -n "$kvtoken" ] && ! grep -qF "$kvtoken" "$dir/r.stderr"; echo $?) "no token in those lines"
cftoken logout >/dev/null 2>&1
tap_done
