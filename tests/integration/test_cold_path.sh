#!/bin/bash
# The cold path at its floor (issue 17), against the emulator: one request,
# the create, before a cold get's answer reaches its reader; a 5xx on the
# create retried until it succeeds, with one token left; a replaced token
# that keeps working until it expires; the account's cap, full of cftoken's
# own replaced tokens, never failing a mint; exec's work after the
# hand-over in a process that is not the program's child.
#   test_cold_path.sh BUILD_DIR        (run under with-emulator.sh)
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken

test_workdir cold
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
cache = kernel

[profile warm]
permissions = Zone Read
ttl = 1h

[profile cold]
permissions = Zone Read
ttl = 1h

[profile retry]
permissions = Zone Read
ttl = 1h

[profile capped]
permissions = Zone Read
ttl = 1h

[profile blink]
permissions = Zone Read
ttl = 4s
CONF
get_request=$'protocol=https\nhost=api.cloudflare.com\n\n'
seed_value parent | cftoken login >/dev/null 2>&1
ok $? "login with the parent token"

log_length() { emu GET /__emu/log | $py -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# live_named PROFILE: how many tokens cftoken made for PROFILE are live
live_named() { emu GET /__emu/tokens | $py -c 'import json,sys
print(sum(1 for t in json.load(sys.stdin) if not t["deleted"] and " "+sys.argv[1]+" " in t["name"]))' "$1"; }
token_state() { emu GET /__emu/tokens | $py -c 'import json,sys
t=next(t for t in json.load(sys.stdin) if t["id"]==sys.argv[1])
print("deleted" if t["deleted"] else t["status"])' "$1"; }
id_of() { cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p'; }

# --- one request before the answer -----------------------------------------
# (the first mint of the day fetched the permission groups: a later cold
# mint resolves its names from their cache)
printf '%s' "$get_request" | cftoken --profile warm get >/dev/null 2>&1
start=$(log_length)
# The reader stamps the moment the answer's first byte reaches its pipe.
answered=$( (printf '%s' "$get_request" | cftoken --profile cold get) | $py -c '
import datetime, sys
sys.stdin.buffer.read(1)
print(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
sys.stdin.buffer.read()')
before_answer=$(emu GET /__emu/log | $py -c '
import json, sys
log = json.load(sys.stdin)[int(sys.argv[1]):]
print(" ".join(e["method"] + " " + e["path"].split("/")[-1] for e in log if e["time"] < sys.argv[2]))' \
	"$start" "$answered")
ok "$([ "$before_answer" = "POST tokens" ] && echo 0 || echo 1)" \
	"a cold get: the create is the one request before the answer reaches git's pipe ($before_answer)"

# --- a 5xx on the create: retried, one token --------------------------------
# Two 503s, each after the API made the token anyway: the sweep after each
# deletes what it made, and the third create's token is the only one live.
emu POST /__emu/faults '{"method": "POST", "path": "/accounts/[0-9a-f]+/tokens$", "times": 2,
	"kind": "status", "status": 503, "apply": true}' >/dev/null
start=$(log_length)
out=$(cftoken --profile retry token 2>"$dir/retry.err"); rc=$?
creates=$(emu GET /__emu/log | $py -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)[int(sys.argv[1]):]
          if e["method"] == "POST" and e["path"].endswith("/tokens")))' "$start")
ok "$([ $rc -eq 0 ] && [ ${#out} -ge 40 ] && echo 0 || echo 1)" \
	"two 503s on the create, then success: the token is handed over"
ok "$([ "$creates" = 3 ] && [ "$(live_named retry)" = 1 ] && echo 0 || echo 1)" \
	"... from three create requests, with one token live ($creates creates, $(live_named retry) live)"
emu DELETE /__emu/faults >/dev/null

# --- a replaced token lives out its expiry ----------------------------------
# A job starts with the profile's token; a renewal replaces it (a request
# that needs a longer life); the job's token still works after it.
job_token=$(cftoken --profile capped token)
job_id=$(printf '%s\n' "$job_token" | id_of)
cftoken --profile capped --min-ttl 2h token >/dev/null
printf '%s\n' "$job_token" | cftoken verify --token-file - >/dev/null 2>&1
ok $? "a job started just before a renewal still succeeds with its token after it"
ok "$([ "$(token_state "$job_id")" = active ] && echo 0 || echo 1)" "... which is live on the API"

# --- the cap: cftoken's own leftovers never fail a mint ---------------------
# The account may hold two more tokens than it does now; every renewal
# below leaves its replaced token live, so the third would meet the cap.
held=$(account_held)
emu POST /__emu/config "{\"quota_account\": $((held + 2))}" >/dev/null
failed_mints=0
for hours in 3 4 5 6 7; do
	cftoken --profile capped --min-ttl ${hours}h token >/dev/null 2>>"$dir/cap.err" ||
		failed_mints=$((failed_mints + 1))
done
ok "$([ $failed_mints -eq 0 ] && echo 0 || echo 1)" \
	"with the account's cap 2 tokens away, 5 renewals in a row all get a token ($failed_mints failed)"
contains "$(cat "$dir/cap.err")" "the account's token cap is reached: deleted" ; ok $? \
	"... the profile's replaced tokens deleted early, and cftoken says so"
ok "$([ "$(token_state "$job_id")" = deleted ] && echo 0 || echo 1)" \
	"... the job's token among them, deleted before its expiry only for the cap"
emu POST /__emu/config '{"quota_account": 500}' >/dev/null

# --- after a reboot: the ledger is gone, the expired tokens are not ---------
# A reboot empties the runtime directory, and with it the profile's ledger
# of the tokens it replaced; they expire, and the cap counts them until
# they are deleted.  At the cap, cftoken finds the profile's expired tokens
# in the account's list, and only those.
for hours in 8 9; do
	cftoken --profile capped --min-ttl ${hours}h token >/dev/null 2>>"$dir/reboot.err"
done
ledger=$XDG_RUNTIME_DIR/cftoken/$account-capped.uncached
leftovers=$(awk '{print $3}' "$ledger" 2>/dev/null)
rm -f "$ledger"
for id in $leftovers; do
	emu PATCH "/__emu/tokens/$id" '{"expires_in": -60}' >/dev/null
done
other_id=$(cftoken --profile retry token | id_of)
emu PATCH "/__emu/tokens/$other_id" '{"expires_in": -60}' >/dev/null
held=$(account_held)
emu POST /__emu/config "{\"quota_account\": $held}" >/dev/null
cftoken --profile capped --min-ttl 10h token >/dev/null 2>"$dir/reboot.err"
ok $? "at the cap with the ledger gone (a reboot), a renewal still gets a token"
gone=0
for id in $leftovers; do [ "$(token_state "$id")" = deleted ] && gone=$((gone + 1)); done
n_left=$(echo $leftovers | wc -w)
ok "$([ "$n_left" -ge 2 ] && [ $gone -eq "$n_left" ] && echo 0 || echo 1)" \
	"... the $n_left expired tokens the lost ledger named are found in the list and deleted ($gone)"
ok "$([ "$(token_state "$other_id")" != deleted ] && echo 0 || echo 1)" \
	"... another profile's expired token is left alone"
contains "$(cat "$dir/reboot.err")" "deleted $n_left expired tokens of profile capped that no ledger named"
ok $? "... and cftoken says so"
emu POST /__emu/config '{"quota_account": 500}' >/dev/null

# --- the work after the hand-over waits for the hand-over -------------------
# expire_blink: the blink profile's token, minted now, then past its expiry
# by the clock of whole seconds with one to spare: the next mint of the
# profile replaces it and has it to delete after the hand-over.
expire_blink() {
	local id expires
	id=$(cftoken --profile blink token | id_of)
	expires=$(expires_epoch "$id")
	while [ "$(date +%s)" -le $((expires + 1)) ]; do sleep 0.2; done
	echo "$id"
}
wait_deleted() {  # a bound on a hang (60 s), not a measure
	local i
	for i in $(seq 1 600); do
		[ "$(token_state "$1")" = deleted ] && return 0
		sleep 0.1
	done
	return 1
}

# token: the answer is written and stdout closed before the work after.
# The API holds the delete's first request unanswered, so the work after
# lasts its deadline: the reader meets the end of the answer while
# cftoken still runs.
first_id=$(expire_blink)
emu POST /__emu/faults '{"method": "GET", "path": "/tokens/'"$first_id"'$", "times": 1,
	"kind": "blackhole"}' >/dev/null
# (a FIFO, not a process substitution, whose write end the shell would
# hold too; and not through the cftoken function: $! is cftoken's own pid)
rm -f "$dir/token.fifo" "$dir/token.state"
mkfifo "$dir/token.fifo"
$py -c '
import sys
sys.stdin.buffer.read()
pid = open(sys.argv[1]).read().strip()
try:
    state = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[0]
except OSError:
    state = "gone"
open(sys.argv[2], "w").write(state)' "$dir/token.pid" "$dir/token.state" <"$dir/token.fifo" &
reader=$!
${CFTEST_WRAP:-} "$front" --profile blink token >"$dir/token.fifo" &
echo $! >"$dir/token.pid"
wait $reader
wait
state=$(cat "$dir/token.state" 2>/dev/null)
ok "$(case $state in R | S | D) echo 0 ;; *) echo 1 ;; esac)" \
	"token: its reader has the whole answer while the work after the hand-over still runs (state $state)"
emu DELETE /__emu/faults >/dev/null

# One connection for all of it: the create and the work after the
# hand-over (the expired token's check and delete) share one TLS handshake.
first_id=$(expire_blink)
start=$(log_length)
cftoken --profile blink token >/dev/null
conns=$(emu GET /__emu/log | $py -c '
import json, sys
log = json.load(sys.stdin)[int(sys.argv[1]):]
print(len(log), len({e["connection"] for e in log}))' "$start")
ok "$([ "$(token_state "$first_id")" = deleted ] && [ "${conns#* }" = 1 ] && [ "${conns% *}" -ge 3 ] &&
	echo 0 || echo 1)" \
	"token: the create, then the expired token's check and delete, on one connection ($conns: requests, connections)"

# exec: the work after runs in a process of its own, started before the
# program and not its child: the program has none.
first_id=$(expire_blink)
out=$(cftoken --profile blink exec -- $py -c '
import os, time
time.sleep(0.5)
me = str(os.getpid())
kids = [p for p in os.listdir("/proc") if p.isdigit() and
        open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1] == me]
print(len(kids))'); rc=$?
ok "$([ $rc -eq 0 ] && [ "$out" = 0 ] && echo 0 || echo 1)" \
	"exec with work after the hand-over: the program has no child of cftoken's ($out)"
wait_deleted "$first_id"
ok $? "... and that work deletes the expired token the mint replaced"

tap_done
