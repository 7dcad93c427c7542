#!/bin/bash
# The everyday helper against the emulator: login, a cold get that mints,
# warm get/exec/env from the kernel keyring with no API call and no heavy
# library loaded, real `git credential fill`, renewal that deletes the old
# token, 32 parallel cold gets that mint once, erase, bad input, logout.
#   test_helper.sh BUILD_DIR        (run under with-emulator.sh)
# It runs in a new anonymous session keyring, as under `su` without
# pam_keyinit: cftoken must link @u itself to keep its keys readable.
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken
# (api_calls: tap.sh) The work after exec's hand-over runs in a detached
# process: wait for its request (at most 60 s, a bound on a hang, not a
# measure), then count.
calls_after_handover() {
	local i
	for i in $(seq 1 600); do
		[ "$(api_calls "$1")" -ge 1 ] && break
		sleep 0.1
	done
	api_calls "$1"
}

# lived_out ID: by the emulator's log and clock, no DELETE of token ID came
# before its expires_on, and every request it made before then was answered.
lived_out() {
	{ $CFTEST_EMUCTL GET /__emu/tokens; $CFTEST_EMUCTL GET /__emu/log; } | $py -c '
import datetime, json, sys
text, decoder = sys.stdin.read(), json.JSONDecoder()
tokens, end = decoder.raw_decode(text)
log, _ = decoder.raw_decode(text[end:].lstrip())
at = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
expires = at(next(t["expires_on"] for t in tokens if t["id"] == sys.argv[1]))
early = [e for e in log if at(e["time"]) < expires and (
	(e["method"] == "DELETE" and e["path"].endswith("/" + sys.argv[1])) or
	(e["token_id"] == sys.argv[1] and e["status"] != 200))]
sys.exit(1 if early else 0)' "$1"
}

test_workdir helper
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
profile = deploy

[profile deploy]
preset = workers-deploy
ttl = 1h

[profile burst]
permissions = Zone Read
ttl = 30m

[profile erasable]
permissions = Zone Read
hosts = git.example.com

[profile zoned]
permissions = DNS Write
zones = example.com

[profile short]
permissions = Zone Read
ttl = 10s

[profile brief]
permissions = Zone Read
ttl = 3s

[profile team]
permissions = Zone Read
hosts = code.example.com/team

[profile dnsgit]
permissions = DNS Write
zones = example.com
hosts = dns.example.net

[profile once]
permissions = Zone Read
ttl = 30m

[profile blink]
permissions = Zone Read
ttl = 3s
CONF
# the same with one misspelt permission, for doctor
{ cat "$CFTOKEN_CONFIG"; printf '[profile typo]\npermissions = Workers Script Write\n'; } >"$dir/config.typo"
{ cat "$CFTOKEN_CONFIG"; printf '[profile nozone]\npermissions = DNS Read\nzones = nosuch.example\n'; } >"$dir/config.nozone"
get_request=$'protocol=https\nhost=api.cloudflare.com\n\n'

# The front end carries nothing a warm request does not need.
# (a sanitizer build adds its runtimes, which are not ours to judge)
linked() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
	grep -vE '^lib(asan|ubsan)\.' | sort | tr '\n' ' '; }
needed=$(linked "$front")
ok $([ "$needed" = "libc.so.6 libkeyutils.so.1 " ]; echo $?) "cftoken links only libc and libkeyutils ($needed)"
needed=$(linked "$build/helper/cftoken-l2")
ok $([ "$needed" = "libc.so.6 libdbus-1.so.3 libkeyutils.so.1 " ]; echo $?) \
	"cftoken-l2 adds libdbus alone: no libcurl, jansson, GLib or libsecret ($needed)"
# exec --proxy's forwarder: libmicrohttpd, in the backend and nowhere else.
needed=$(linked "$build/helper/cftoken-backend")
ok $([ "$needed" = "libc.so.6 libcurl.so.4 libglib-2.0.so.0 libjansson.so.4 libkeyutils.so.1 libmicrohttpd.so.12 " ]; echo $?) \
	"cftoken-backend links libmicrohttpd beside libcurl, jansson and GLib ($needed)"
# libsecret (with GIO and GObject) is loaded on first use of the Secret
# Service, not linked (lib/cache/libsecret_loader.h).
needed=$(linked "$build/pam/cftoken-pam-worker")
ok $([ "$needed" = "libc.so.6 libcurl.so.4 libglib-2.0.so.0 libjansson.so.4 libkeyutils.so.1 " ]; echo $?) \
	"cftoken-pam-worker links neither libmicrohttpd nor libsecret ($needed)"

# Not logged in yet.
out=$(printf '%s' "$get_request" | cftoken get 2>&1); rc=$?
ok $((rc != 3)) "get before login: exit 3"
contains "$out" "cftoken login" ; ok $? "saying to run cftoken login"
ok "$(api_calls 'POST /client/v4/accounts')" "and nothing was created"

out=$(cftoken doctor 2>&1); rc=$?
ok $((rc != 1)) "doctor before login: exit 1"
contains "$out" "cftoken login" ; ok $? "saying to run cftoken login"
contains "$out" "ok   kernel keyring" ; ok $? "after checking the kernel keyring"

out=$(echo 0123456789abcdef0123456789abcdef01234 | cftoken login 2>&1); rc=$?
ok $((rc != 2)) "login refuses a Global API Key"
out=$(seed_value parent | cftoken login 2>&1); rc=$?
ok $rc "login with the parent token from standard input"
contains "$out" "is active" ; ok $? "which was verified first"

out=$(cftoken doctor 2>&1); rc=$?
ok $rc "doctor after login: everything works"
contains "$out" "ok   parent token" ; ok $? "the parent token verifies"
contains "$out" "ok   profile deploy" ; ok $? "and the deploy profile's permissions resolve"
contains "$out" "ok   create right" ; ok $? "and the parent may create tokens"
(umask 077; seed_value read-only >"$dir/ro.token")
out=$(cftoken doctor --token-file "$dir/ro.token" 2>&1); rc=$?
ok $((rc != 1)) "doctor with a parent that may not create tokens: exit 1"
contains "$out" "FAIL create right" ; ok $? "saying so"
contains "$out" "Account API Tokens Write" ; ok $? "and naming the permission it lacks"
out=$(CFTOKEN_CONFIG=$dir/config.typo cftoken doctor 2>&1); rc=$?
ok $((rc != 1)) "doctor with a misspelt permission: exit 1"
contains "$out" "FAIL profile typo" ; ok $? "naming the profile"
contains "$out" "Workers Scripts Write" ; ok $? "and the closest real name"
out=$(CFTOKEN_CONFIG=$dir/config.nozone cftoken doctor 2>&1); rc=$?
ok $((rc != 1)) "doctor with a zone the parent cannot see: exit 1"
contains "$out" "FAIL profile nozone" ; ok $? "naming the profile"
contains "$out" "no zone nosuch.example" ; ok $? "and the zone"

# Cold get: one mint.
before=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
out=$(printf '%s' "$get_request" | cftoken get 2>&1); rc=$?
ok $rc "a cold get succeeds"
contains "$out" "username=$account" ; ok $? "answering the account as username"
contains "$out" "password_expiry_utc=" ; ok $? "and password_expiry_utc"
tok=$(password_of <<<"$out")
ok $([ "${#tok}" -ge 40 ]; echo $?) "with a token as password"
after=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
ok $([ $((after - before)) -eq 1 ]; echo $?) "after exactly one create request"
out=$(printf '%s\n' "$tok" | cftoken verify --token-file - 2>&1); rc=$?
ok $rc "the token it gave verifies"
names=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys; print("\n".join(t["name"] for t in json.load(sys.stdin) if not t["deleted"]))')
contains "$names" "cftoken deploy " ; ok $? "its name carries the profile, user, host and date"

# The L1 key: readable by its user, with the token's expiry as timeout.
# perm: possessor view+read+write+search+setattr (0x2f), user
# view+read+search (0x0b), group and others nothing.
# (the key holding this token: earlier runs may have left others)
tkey=""
for k in $(keyctl show @u | awk -v d="cftoken:$(id -u):$account:deploy:" 'index($0, d) {print $1}'); do
	keyctl pipe "$k" 2>/dev/null | grep -qF "token=$tok" && tkey=$k
done
perm=$(keyctl rdescribe "$tkey" | cut -d';' -f4)
ok $([ "$perm" = "2f0b0000" ]; echo $?) "the token key is user view+read+search only (perm $perm)"
timeout_left=$(awk -v k="$(printf '%08x' "$tkey")" '$1 == k {print $4}' /proc/keys)
ok $([ -n "$timeout_left" ] && [ "$timeout_left" != perm ]; echo $?) "and expires on its own (in $timeout_left)"

# Warm: no API call, no heavy library, the same token.
calls_before=$($CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
printf '%s' "$get_request" >"$dir/request"
# (LeakSanitizer cannot run under ptrace; the other runs check leaks)
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=openat,execve -o "$dir/strace" "$front" get <"$dir/request" >"$dir/warm" 2>&1; rc=$?
ok $rc "a warm get succeeds"
ok $([ "$(password_of <"$dir/warm")" = "$tok" ]; echo $?) "with the same token"
libs=$(grep -cE 'libcurl|libjansson|libglib|libgio|libsecret|libssl|libcrypto' "$dir/strace")
ok "$libs" "opening none of libcurl, jansson, GLib, libsecret, OpenSSL"
execs=$(grep -c 'execve(' "$dir/strace")
ok $([ "$execs" -eq 1 ]; echo $?) "in one process, no backend"
for i in $(seq 1 20); do printf '%s' "$get_request" | cftoken get >/dev/null; done
calls_after=$($CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
ok $((calls_after - calls_before)) "21 warm gets made no API call"

# exec and env hand over the same token.
out=$(cftoken exec -- sh -c 'printf "%s|%s|%s" "$CLOUDFLARE_API_TOKEN" "$CLOUDFLARE_ACCOUNT_ID" "$CFTOKEN_EXPIRES_ON"'); rc=$?
ok $rc "exec runs the program"
ok $([ "${out%%|*}" = "$tok" ]; echo $?) "with CLOUDFLARE_API_TOKEN set to the cached token"
contains "$out" "|$account|" ; ok $? "and CLOUDFLARE_ACCOUNT_ID"
contains "$out" "T" ; ok $? "and CFTOKEN_EXPIRES_ON"
cftoken exec -- sh -c 'exit 7'; rc=$?
ok $((rc != 7)) "exec passes the exit status through"
cftoken exec -- /nonexistent/program 2>/dev/null; rc=$?
ok $((rc != 127)) "exec of a missing program: 127"
out=$(cftoken exec 2>&1); rc=$?
ok $((rc != 2)) "exec without a program: exit 2"
out=$(cftoken env); rc=$?
ok $rc "env prints export lines"
got=$(eval "$out"; printf '%s' "$CLOUDFLARE_API_TOKEN")
ok $([ "$got" = "$tok" ]; echo $?) "that eval sets CLOUDFLARE_API_TOKEN"
out=$(cftoken env --format fish); contains "$out" "set -gx CLOUDFLARE_API_TOKEN" ; ok $? "env --format fish"
out=$(cftoken env --format json | $py -c 'import json,sys; print(json.load(sys.stdin)["CLOUDFLARE_ACCOUNT_ID"])'); ok $([ "$out" = "$account" ]; echo $?) "env --format json"
out=$(cftoken env --format csh 2>&1); rc=$?
ok $((rc != 2)) "env --format csh: exit 2"

# Real git, through credential.helper, by absolute path and by name.
out=$(printf '%s' "$get_request" | git -c credential.helper= -c credential.helper="$front" credential fill 2>&1); rc=$?
ok $rc "git credential fill with credential.helper=/path/to/cftoken"
ok $([ "$(password_of <<<"$out")" = "$tok" ]; echo $?) "answers the cached token"
ln -sf "$(cd "$(dirname "$front")" && pwd)/cftoken" "$dir/git-credential-cftoken"
out=$(printf '%s' "$get_request" | PATH="$dir:$PATH" git -c credential.helper= -c credential.helper=cftoken credential fill 2>&1); rc=$?
ok $rc "git credential fill with credential.helper=cftoken (git-credential-cftoken)"
ok $([ "$(password_of <<<"$out")" = "$tok" ]; echo $?) "answers the same token"
out=$(cftoken capability); rc=$?
ok $([ $rc -eq 0 ] && [ "$out" = "version 0" ]; echo $?) "capability answers version 0 and no capability"
out=$(printf '%s' "$get_request" | "$dir/git-credential-cftoken" some-future-operation 2>&1); rc=$?
ok $([ $rc -eq 0 ] && [ -z "$out" ]; echo $?) "as git-credential-cftoken, an unknown operation is ignored"
out=$(printf 'protocol=https\nhost=github.com\n\n' | cftoken get 2>&1); rc=$?
ok $([ $rc -eq 0 ] && [ -z "$out" ]; echo $?) "a host that is not ours gets no answer, so git asks on"

# Only HTTPS gets an answer, from the backend and from the warm front end.
# (has, not contains: a failure must not copy a token into the log.)
has() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
# Each fill asks cftoken first, then a helper that answers anything: its
# answer means cftoken said nothing.
next_helper='!f() { test "$1" = get && printf "username=next\npassword=from-the-next-helper\n"; }; f'
fill_then_next() {  # fill_then_next INPUT [GIT-OPTION...]
	local input=$1
	shift
	printf '%s' "$input" | GIT_TERMINAL_PROMPT=0 git -c credential.helper= \
		-c credential.helper="$front" -c credential.helper="$next_helper" "$@" credential fill 2>&1
}
answered_by_next() {  # answered_by_next GIT-OUTPUT: cftoken gave no token
	[ "$(password_of <<<"$1")" = from-the-next-helper ]
}
before=$(api_calls 'POST /client/v4/accounts/')
out=$(fill_then_next $'url=http://api.cloudflare.com/client/v4\n\n')
answered_by_next "$out" ; ok $? "git over plain http: cftoken does not answer (the token would cross in clear)"
has "$out" "answers protocol=https only" ; ok $? "and says why"
out=$(fill_then_next $'protocol=smtp\nhost=api.cloudflare.com\n\n')
answered_by_next "$out" ; ok $? "protocol=smtp: no answer"
out=$(printf 'host=api.cloudflare.com\n\n' | cftoken get 2>/dev/null); rc=$?
ok $([ $rc -eq 0 ] && [ -z "$out" ]; echo $?) "a request without protocol: no answer"
# A warm route for plain http (as a cftoken that answered http left it):
# the front end refuses before it looks.
"$build/tests/integration/copy_route" "$CFTEST_API_URL" https api.cloudflare.com - \
	http api.cloudflare.com -
ok $? "(a warm route for an http request is planted)"
out=$(fill_then_next $'url=http://api.cloudflare.com\n\n')
answered_by_next "$out" ; ok $? "the warm front end does not answer http from its cache either"
out=$(printf 'protocol=http\nhost=api.cloudflare.com\n\n' | cftoken get 2>/dev/null)
ok $([ -z "$out" ]; echo $?) "nor does get, asked directly"
ok $(( $(api_calls 'POST /client/v4/accounts/') - before )) "and nothing was minted for them"

# hosts = code.example.com/team with credential.useHttpPath: whole path
# segments, and no "." or ".." segment, encoded or not.
team_fill() { fill_then_next "url=https://code.example.com/$1"$'\n\n' -c credential.useHttpPath=true; }
out=$(team_fill team/repo.git)
team_tok=$(password_of <<<"$out")
ok $([ ${#team_tok} -ge 40 ] && [ "$team_tok" != from-the-next-helper ]; echo $?) \
	"hosts = code.example.com/team answers for /team/repo.git"
out=$(team_fill team/sub/repo.git)
ok $([ "$(password_of <<<"$out")" = "$team_tok" ]; echo $?) "and for a path below it"
out=$(team_fill teamevil/repo.git)
answered_by_next "$out" ; ok $? "but not for /teamevil/repo.git (a prefix, not a segment)"
for path in team/%2e%2e/mallory/repo.git team/%2E./mallory/repo.git team/../mallory/repo.git \
	team/./repo.git team/%252e%252E/mallory/repo.git 'team/..%5cmallory/repo.git'; do
	out=$(team_fill "$path")
	answered_by_next "$out" ; ok $? "nor for /$path"
done
has "$(team_fill team/%2e%2e/mallory/repo.git)" "segment" ; ok $? "saying why"
"$build/tests/integration/copy_route" "$CFTEST_API_URL" https code.example.com team/repo.git \
	https code.example.com team/../mallory/repo.git
ok $? "(a warm route for /team/../mallory/repo.git is planted)"
out=$(team_fill team/%2e%2e/mallory/repo.git)
answered_by_next "$out" ; ok $? "the warm front end does not answer a dot-segment path from its cache"

# A token goes to a terminal only with --force (git reads it from a pipe):
# the warm front end (a cached route) and the backend alike.
out=$(script -qec "$front get <'$dir/request'" /dev/null 2>&1)
has "$out" "not printing a token to a terminal" ; ok $? "a warm get to a terminal is refused"
has "$out" "password=" ; ok $((! $?)) "and prints no token there"
out=$(script -qec "$front --profile burst get <'$dir/request'" /dev/null 2>&1)
has "$out" "not printing a token to a terminal" ; ok $? "so is a cold get, before it mints"
out=$(script -qec "$front get --force <'$dir/request'" /dev/null 2>&1)
ok $([ "$(password_of <<<"${out//$'\r'/}")" = "$tok" ]; echo $?) "get --force prints it to a terminal"

# A zone by name: the token's policy names the zone's id.
out=$(cftoken --profile zoned exec -- true 2>&1); rc=$?
ok $rc "a profile with zones = example.com mints"
policy=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c '
import json, sys
print(json.dumps([t["policies"] for t in json.load(sys.stdin) if not t["deleted"] and "zoned" in t["name"]]))')
contains "$policy" "com.cloudflare.api.account.zone.aaaa0000bbbb1111cccc2222dddd3333" ; ok $? "its policy names the zone by the id the API gave"

# list, with the parent from login: cftoken's tokens, the cached one marked.
out=$(cftoken list 2>&1); rc=$?
ok $rc "list uses the login's parent token"
# (other profiles' cached tokens are marked too, in the API's order)
cached_lines=$(grep -F " here " <<<"$out")
contains "$cached_lines" "cftoken deploy" ; ok $? "and marks the cached deploy token as here"
contains "$out" "of at most 500" ; ok $? "and counts the account's tokens against the cap"
# With no session bus the backend never loads libsecret: the Secret
# Service costs nothing where there is none.
strace -f -e trace=execve,openat -o "$dir/list.strace" "$front" list >/dev/null 2>&1
ok $([ -s "$dir/list.strace" ] && grep -q 'cftoken-backend' "$dir/list.strace" &&
	! grep -qE 'libsecret|libgio|libgobject' "$dir/list.strace"; echo $?) \
	"with no session bus, the backend opens none of libsecret, GIO, GObject"

# A cached token revoked behind cftoken's back: the tool that gets 401
# tells git, git erases it through cftoken, and the next fill mints once.
gitfill() { printf '%s' "$get_request" | git -c credential.helper= -c credential.helper="$front" credential "$@"; }
stale=$(gitfill fill | password_of)
stale_id=$(printf '%s\n' "$stale" | cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
$CFTEST_EMUCTL PATCH "/__emu/tokens/$stale_id" '{"status": "disabled"}' >/dev/null
printf '%s\n' "$stale" | cftoken verify --token-file - >/dev/null 2>&1
ok $(( $? != 3 )) "the token revoked behind cftoken's back is refused by the API"
before=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
printf 'protocol=https\nhost=api.cloudflare.com\nusername=%s\npassword=%s\n\n' "$account" "$stale" |
	git -c credential.helper= -c credential.helper="$front" credential reject
ok $? "git credential reject (the tool got 401) succeeds"
fresh=$(gitfill fill | password_of)
after=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
ok $([ -n "$fresh" ] && [ "$fresh" != "$stale" ] && [ $((after - before)) -eq 1 ]; echo $?) "the next fill drops it and mints exactly once"
printf '%s\n' "$fresh" | cftoken verify --token-file - >/dev/null 2>&1
ok $? "and the new token works"
tok=$fresh

# Renewal: a token that must last longer than the cached one is replaced;
# the replaced one lives out its expiry (a job started with it finishes),
# and no request but the create comes before the new token is handed over.
old_id=$(printf '%s\n' "$tok" | cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
verbose=$(cftoken --verbose exec -- true 2>&1)
contains "$verbose" "cache auto (the default): no Secret Service answers" ; ok $? "--verbose says which cache is used, and why"
contains "$verbose" "from the kernel keyring (L1)" ; ok $? "and which level answered"
out=$(cftoken --verbose exec --min-ttl 2h -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>"$dir/renew.err"); rc=$?
ok $rc "exec --min-ttl 2h with a 1-hour token cached"
contains "$(cat "$dir/renew.err")" "a new token minted" ; ok $? "--verbose says it minted"
contains "$(cat "$dir/renew.err")" "replaces token $old_id, which stays valid until it expires" ; ok $? "and which token it replaced"
ok $([ -n "$out" ] && [ "$out" != "$tok" ]; echo $?) "hands over a new token"
printf '%s\n' "$tok" | cftoken verify --token-file - >/dev/null 2>&1
ok $? "the replaced token still works: a job started with it finishes"
deleted=$(api_calls "DELETE /client/v4/accounts/$account/tokens/$old_id")
ok $([ "$deleted" -eq 0 ]; echo $?) "and it is not deleted at the renewal"
tok=$out

# Expiry: a token within its renew margin (here half of a 10 s TTL: room
# enough for a slow valgrind run) is replaced by the next request; the old
# one lives out its last seconds, and the first mint after it has expired
# deletes it, after handing over its own token.
short1=$(cftoken --profile short exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"')
short1_id=$(printf '%s\n' "$short1" | cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
short1_expires=$(expires_epoch "$short1_id")
sleep 6
before=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
short2=$(cftoken --profile short exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"')
after=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
ok $([ -n "$short2" ] && [ "$short2" != "$short1" ] && [ $((after - before)) -eq 1 ]; echo $?) \
	"a token within its renew margin is replaced by one new mint"
printf '%s\n' "$short1" | cftoken verify --token-file - >/dev/null 2>&1
# Judged by the emulator's own clock, whatever the speed of this run: no
# DELETE of it came before its expires_on, and the verify made before then
# was answered 200 (a slow run, valgrind's, may renew only after it expired:
# then the work after that hand-over deletes it at once, as it should).
ok $(lived_out "$short1_id"; echo $?) "the replaced one is not deleted: it lives out its expiry"
# (past its expiry by the clock of whole seconds, and one more: then the
# next mint's work after the hand-over deletes it)
while [ "$(date +%s)" -le $((short1_expires + 1)) ]; do sleep 0.2; done
cftoken --profile short --min-ttl 1h exec -- true
ok $([ "$(calls_after_handover "DELETE /client/v4/accounts/$account/tokens/$short1_id")" -eq 1 ] &&
	lived_out "$short1_id"; echo $?) \
	"the first mint after it expired deletes it, once, after the hand-over, not before its expiry"

# A token key that timed out with its token (nobody asked during the renew
# window) lingers, expired, until the kernel collects it: the next request
# still mints, caches, and deletes the expired token on the API.
brief1_id=$(cftoken --verbose --profile brief exec -- true 2>&1 | sed -n 's/.*: token \([0-9a-f]\{32\}\) from.*/\1/p')
sleep 4
out=$(cftoken --profile brief exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>&1); rc=$?
ok $([ $rc -eq 0 ] && [ ${#out} -ge 40 ]; echo $?) "after the cached token expired unused, exec gets a new one"
ok $([ "$(calls_after_handover "DELETE /client/v4/accounts/$account/tokens/$brief1_id")" -eq 1 ]; echo $?) \
	"and the expired token is deleted on the API (its id kept without the secret)"

# 32 parallel cold gets of a new profile: one create.  (Fewer under
# valgrind, where 32 processes on two cores would outlast the lock's wait.)
burst=${CFTEST_BURST:-32}
before=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
for i in $(seq 1 "$burst"); do
	(printf '%s' "$get_request" | cftoken --profile burst get >"$dir/burst.$i" 2>&1) &
done
wait
after=$(api_calls 'POST /client/v4/accounts/'$account'/tokens')
ok $([ $((after - before)) -eq 1 ]; echo $?) "$burst parallel cold gets caused one create ($((after - before)))"
distinct=$(cat "$dir"/burst.* | password_of | sort -u | wc -l)
answered=$(cat "$dir"/burst.* | password_of | wc -l)
ok $([ "$distinct" -eq 1 ] && [ "$answered" -eq "$burst" ]; echo $?) "and all $burst answered the same token"

# erase drops the token git reports as refused; the next get mints anew.
erase_req=$'protocol=https\nhost=git.example.com\n\n'
first=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ -n "$first" ]; echo $?) "hosts = maps git.example.com to a profile"
printf 'protocol=https\nhost=git.example.com\npassword=%s\n\n' "$first" | cftoken erase; rc=$?
ok $rc "erase succeeds"
second=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ -n "$second" ] && [ "$second" != "$first" ]; echo $?) "after erase, get mints a new token"

# store adopts a token a tool hands back, once the API verifies it; a
# renewal replaces it in the cache but never deletes it on the API.
parent_file=$dir/parent.token
(umask 077; seed_value parent >"$parent_file")
handed=$(cftoken create --token-file "$parent_file" --permission "Zone Read" --ttl 2h \
	--name "handed over" 2>/dev/null)
printf 'protocol=https\nhost=git.example.com\npassword=%s\n\n' "$handed" | cftoken store; rc=$?
ok $rc "store of a token another tool hands back"
got=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ "$got" = "$handed" ]; echo $?) "is adopted: get answers it"
cftoken --profile erasable exec --min-ttl 5h -- true
printf '%s\n' "$handed" | cftoken verify --token-file - >/dev/null 2>&1
ok $? "a renewal does not delete an adopted token on the API"
got=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ -n "$got" ] && [ "$got" != "$handed" ]; echo $?) "but replaces it in the cache"
out=$(printf 'protocol=https\nhost=git.example.com\npassword=%s\n\n' "$stale" | cftoken store 2>&1); rc=$?
ok $((rc != 3)) "store of a token the API refuses: exit 3"
got=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ "$got" != "$stale" ]; echo $?) "and it is not cached"

# store adopts only a Cloudflare token, never the parent, and only one
# that may do no more than the profile's own tokens; git shows why.
approve() {  # approve HOST PASSWORD: git credential approve through cftoken
	printf 'protocol=https\nhost=%s\nusername=x\npassword=%s\n\n' "$1" "$2" |
		git -c credential.helper= -c credential.helper="$front" credential approve 2>&1
}
verifies=$(api_calls 'GET /client/v4/accounts/'$account'/tokens/verify')
ghp=ghp_$(printf 'A1b2C3d4E5f6G7h8I9j0%.0s' 1 2 | head -c 36)
out=$(approve git.example.com "$ghp")
contains "$out" "does not look like a Cloudflare API token" ; ok $? "store of a GitHub ghp_ token: refused, saying why"
ok $(( $(api_calls 'GET /client/v4/accounts/'$account'/tokens/verify') - verifies )) \
	"and it never reached the API"
printf 'protocol=https\nhost=git.example.com\npassword=%s\n\n' "$ghp" | cftoken store 2>/dev/null
ok $(($? == 0)) "cftoken store exits non-zero on a refusal"
parent_value=$(seed_value parent)
out=$(approve git.example.com "$parent_value")
contains "$out" "not adopting the parent token" ; ok $? "store of the parent token: refused"
broad=$(cftoken create --token-file "$parent_file" --permission "Zone Read" \
	--permission "Workers Scripts Write" --ttl 2h --name "broader" 2>/dev/null)
out=$(approve git.example.com "$broad")
contains "$out" "may do more than profile erasable mints" ; ok $? "store of a token broader than the profile: refused"
contains "$out" "Workers Scripts Write" ; ok $? "naming the permission that does not fit"
got=$(printf '%s' "$erase_req" | cftoken get | password_of)
ok $([ -n "$got" ] && [ "$got" != "$ghp" ] && [ "$got" != "$parent_value" ] && [ "$got" != "$broad" ]; echo $?) \
	"none of them is cached: get answers the profile's own token"
out=$(cftoken exec --profile erasable -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"')
ok $([ "$out" = "$got" ]; echo $?) "and exec hands over that one too"
# a zone-limited profile: the token must be limited to that zone as well
every_zone=$(cftoken create --token-file "$parent_file" --permission "DNS Write" --ttl 2h 2>/dev/null)
out=$(approve dns.example.net "$every_zone")
contains "$out" "may do more than profile dnsgit mints" ; ok $? "store of a token on every zone for a one-zone profile: refused"
one_zone=$(cftoken create --token-file "$parent_file" --permission "DNS Write" --zone example.com \
	--ttl 2h 2>/dev/null)
out=$(approve dns.example.net "$one_zone"); rc=$?
got=$(printf 'protocol=https\nhost=dns.example.net\n\n' | cftoken get | password_of)
ok $([ "$got" = "$one_zone" ]; echo $?) "store of a token limited to the profile's zone: adopted"

# Bad input: a clear error, a non-zero exit, nothing minted.
before=$(api_calls 'POST /client/v4/accounts/')
out=$(printf 'protocol=https\nhost=api.cloud\0flare.com\n\n' | cftoken get 2>&1); rc=$?
ok $((rc != 2)) "a NUL byte: exit 2"
contains "$out" "NUL" ; ok $? "named in the message"
out=$( (printf 'protocol=https\nhost='; head -c 5000 /dev/zero | tr '\0' a; printf '\n\n') | cftoken get 2>&1); rc=$?
ok $((rc != 2)) "an over-long line: exit 2"
contains "$out" "longer than" ; ok $? "named in the message"
out=$( (for i in $(seq 1 200); do echo "x$i=y"; done; echo) | cftoken get 2>&1); rc=$?
ok $((rc != 2)) "too many lines: exit 2"
out=$(printf 'protocol https\n\n' | cftoken get 2>&1); rc=$?
ok $((rc != 2)) "a line without '=': exit 2"
out=$(printf 'protocol=https\nhost=api.cloudflare.com\nfuture_attribute=1\ncapability[]=authtype\n\n' | cftoken get 2>&1); rc=$?
ok $rc "unknown attributes are ignored"
contains "$out" "password=" ; ok $? "and the answer still comes"
case "$out" in *"capability[]"*) ok 1 "no capability is claimed that cftoken lacks" ;; *) ok 0 "no capability is claimed that cftoken lacks" ;; esac
after=$(api_calls 'POST /client/v4/accounts/')
ok $((after - before)) "bad input created nothing"

out=$(cftoken --profile nosuch exec -- true 2>&1); rc=$?
ok $((rc != 2)) "an unknown profile: exit 2"
contains "$out" "no [profile nosuch]" ; ok $? "named in the message"

# cache = none keeps nothing, and leaves nothing behind on the account.
held() {  # held PROFILE [all]: tokens of the profile the account still holds
	# (expired ones count against its cap until deleted); all: ever made
	$CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
print(sum(1 for t in json.load(sys.stdin) if t["name"].startswith("cftoken " + sys.argv[1] + " ")
	and (len(sys.argv) > 2 or not t["deleted"])))' "$@"
}
by_sha() {  # by_sha SHA256 FIELD...: the fields of the token with that value
	$CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys,datetime
t=[t for t in json.load(sys.stdin) if t["value_sha256"] == sys.argv[1]]
if not t: print("none"); sys.exit()
t=t[0]; d=lambda k: datetime.datetime.fromisoformat(t[k].replace("Z", "+00:00"))
# cftoken asks for now + ttl by its clock, a moment before the API issues
# it: the life is the ttl less that moment
life=(d("expires_on") - d("issued_on")).total_seconds()
t["ttl"]="%d min" % round(life / 60) if life > 0 else "none"
t["groups"]=",".join(sorted(g["name"] for p in t["policies"] for g in p["permission_groups"]))
print(" ".join(str(t[k]).lower() for k in sys.argv[2:]))' "$@"
}
sha_of_token='printf %s "$CLOUDFLARE_API_TOKEN" | sha256sum | cut -d" " -f1'
# exec: cftoken stays the program's parent and deletes the token at its exit
: >"$dir/none.sha"
for i in 1 2 3 4 5; do
	CFTOKEN_CACHE=none cftoken --profile once exec -- sh -c "$sha_of_token" >>"$dir/none.sha" 2>"$dir/none.err"
done
gone=0
while read -r sha; do [ "$(by_sha "$sha" deleted)" = true ] && gone=$((gone + 1)); done <"$dir/none.sha"
problems=()
[ "$(sort -u "$dir/none.sha" | wc -l)" = 5 ] || problems+=("not 5 distinct tokens: $(cat "$dir/none.sha")")
[ "$gone" = 5 ] || problems+=("only $gone of 5 deleted")
tap_row "cache none: 5 exec runs, each token deleted when its program exited" "${problems[@]}"
CFTOKEN_CACHE=none cftoken --profile once exec -- "$dir/no-such-program" 2>/dev/null; rc=$?
ok $((rc != 127)) "cache none, a program that cannot run: 127 (got $rc)"
ok "$(held once)" "no token of the profile is left on the account"
out=$(CFTOKEN_CACHE=none cftoken --profile once exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN" | "$0" verify --token-file -' "$front" 2>&1); rc=$?
ok $rc "while the program runs, its token works"
out=$(CFTOKEN_CACHE=none cftoken --profile once exec -- sh -c "$sha_of_token; exit 7" 2>&1); rc=$?
ok $((rc != 7)) "the program's exit status is cftoken's (7, got $rc)"
ok "$([ "$(by_sha "$out" deleted ttl)" = "true 30 min" ] && echo 0 || echo 1)" \
	"its token had the profile's ttl (30m) and is deleted"
out=$(CFTOKEN_CACHE=none cftoken --profile once exec -- sh -c "$sha_of_token; kill -TERM \$\$" 2>&1); rc=$?
ok $((rc != 143)) "a program killed by SIGTERM: cftoken ends the same way (143, got $rc)"
ok "$([ "$(by_sha "$out" deleted)" = true ] && echo 0 || echo 1)" "and its token is deleted"
rm -f "$dir/running.sha"
CFTOKEN_CACHE=none ${CFTEST_WRAP:-} "$front" --profile once exec -- \
	sh -c "$sha_of_token >\"\$0.new\" && mv \"\$0.new\" \"\$0\" && exec sleep 300" "$dir/running.sha" 2>/dev/null &
runner=$!
for _ in $(seq 1 600); do [ -s "$dir/running.sha" ] && break; sleep 0.1; done
kill -TERM "$runner"
wait "$runner"; rc=$?
ok $((rc != 143)) "SIGTERM sent to cftoken alone is passed on to the program (143, got $rc)"
ok "$([ -s "$dir/running.sha" ] && [ "$(by_sha "$(cat "$dir/running.sha")" deleted)" = true ] && echo 0 || echo 1)" \
	"and the token is deleted when it ends"
# token and env: short-lived, and said so
sha=$(CFTOKEN_CACHE=none cftoken --profile once token 2>"$dir/none.err" | tr -d '\n' | sha256sum | cut -d' ' -f1)
contains "$(cat "$dir/none.err")" "cache none: token" ; ok $? "token with cache none says its token is not kept"
contains "$(cat "$dir/none.err")" "at most 15 minutes" ; ok $? "... and how long it lasts"
ok "$([ "$(by_sha "$sha" ttl)" = "15 min" ] && echo 0 || echo 1)" "it lasts 15 minutes, not the profile's 30"
sha=$(CFTOKEN_CACHE=none cftoken --profile once env 2>"$dir/none.err" | sed -n "s/^export CLOUDFLARE_API_TOKEN='\(.*\)'$/\1/p" |
	tr -d '\n' | sha256sum | cut -d' ' -f1)
ok "$([ "$(by_sha "$sha" ttl)" = "15 min" ] && contains "$(cat "$dir/none.err")" "at most 15 minutes" && echo 0 || echo 1)" \
	"env too"
# blink_expired: waits until the API holds every blink token as expired
blink_expired() {
	for _ in $(seq 1 600); do
		$CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
sys.exit(any(t["name"].startswith("cftoken blink ") and not t["deleted"] and t["effective_status"] != "expired" for t in json.load(sys.stdin)))' && return
		sleep 0.1
	done
}
# account_full: the account's cap set to the tokens it holds now
account_full() { $CFTEST_EMUCTL POST /__emu/config "{\"quota_account\": $(account_held)}" >/dev/null; }
# deleted_of ID: "[True]" or "[False]", as the API holds token ID
deleted_of() { $CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys; print([t["deleted"] for t in json.load(sys.stdin) if t["id"] == sys.argv[1]])' "$1"; }
# expired ones are deleted before the next mint: the account's cap never fills
for i in 1 2 3; do CFTOKEN_CACHE=none cftoken --profile blink token >/dev/null 2>&1; done
# (under valgrind one may expire before the next is made, which then deletes it)
ok "$([ "$(held blink all)" = 3 ] && echo 0 || echo 1)" "3 uncached tokens of a 3 s profile"
blink_expired
account_full
out=$(CFTOKEN_CACHE=none cftoken --profile blink token 2>&1 >/dev/null); rc=$?
ok $rc "with the account full, the next uncached mint still succeeds"
ok "$([ "$(held blink)" = 1 ] && echo 0 || echo 1)" "the expired ones were deleted first ($(held blink) left)"
$CFTEST_EMUCTL POST /__emu/config '{"quota_account": 500}' >/dev/null
# the list is a file the user's programs can write: only what the API holds
# as expired is deleted, whatever the list says
live=$(cftoken create --token-file "$parent_file" --permission "Zone Read" --ttl 1h --name "not uncached" \
	2>&1 >/dev/null | grep -oE '[0-9a-f]{32}' | head -1)
echo "1 a $live" >>"$XDG_RUNTIME_DIR/cftoken/$account-blink.uncached"
CFTOKEN_CACHE=none cftoken --profile blink token >/dev/null 2>&1
deleted=$(deleted_of "$live")
ok "$([ "$deleted" = "[False]" ] && echo 0 || echo 1)" "a live token listed as expired is not deleted ($deleted)"
# A reboot empties the runtime directory, and the list with it; the tokens
# it named still count against the cap once expired.  At the cap they are
# found in the account's list instead (only the profile's, only expired).
for i in 1 2; do CFTOKEN_CACHE=none cftoken --profile blink token >/dev/null 2>&1; done
rm -f "$XDG_RUNTIME_DIR/cftoken/$account-blink.uncached"
blink_expired
before=$(held blink)
account_full
out=$(CFTOKEN_CACHE=none cftoken --profile blink token 2>&1 >/dev/null); rc=$?
$CFTEST_EMUCTL POST /__emu/config '{"quota_account": 500}' >/dev/null
ok $rc "with the list gone (a reboot) and the account full, the next uncached mint still succeeds"
# (before: at least the last; under valgrind a mint takes longer than the
# 3 s a token lasts, and each deletes the one before it from the list)
ok "$([ "$before" -ge 1 ] && [ "$(held blink)" = 1 ] && echo 0 || echo 1)" \
	"... the expired ones ($before) found in the account's list and deleted ($(held blink) left)"
deleted=$(deleted_of "$live")
ok "$([ "$deleted" = "[False]" ] && echo 0 || echo 1)" "... and the live token of another name left alone ($deleted)"

# A profile edited since its token was minted: the next request gets a
# token of what the profile grants now, never the cached one; an edit that
# grants nothing new or less (the renew margin) keeps it.
printf '\n[profile edited]\npermissions = Workers Scripts Write, Workers Routes Write\nttl = 1h\n' >>"$CFTOKEN_CONFIG"
first=$(cftoken --profile edited exec -- sh -c "$sha_of_token")
printf 'renew_margin = 10m\n' >>"$CFTOKEN_CONFIG"
same=$(cftoken --profile edited exec -- sh -c "$sha_of_token")
ok $([ -n "$first" ] && [ "$same" = "$first" ]; echo $?) "an edit that changes no grant (the renew margin) keeps the cached token"
sed -i 's/^permissions = Workers Scripts Write, Workers Routes Write$/permissions = Workers Scripts Write/' \
	"$CFTOKEN_CONFIG"
narrower=$(cftoken --verbose --profile edited exec -- sh -c "$sha_of_token" 2>"$dir/edited.err")
ok $([ "$narrower" != "$first" ] && [ "$(by_sha "$narrower" groups deleted)" = "workers scripts write false" ]; echo $?) \
	"a narrower profile: the next exec gets a token of what it grants now ($(by_sha "$narrower" groups deleted))"
contains "$(cat "$dir/edited.err")" "profile edited was edited since its token" ; ok $? "... and says why"
# (the replaced token lives out its expiry, as any renewed token does: a
# program still running with it keeps working)
ok $([ "$(by_sha "$first" groups deleted)" = "workers routes write,workers scripts write false" ]; echo $?) \
	"... the token it replaces is left to its expiry ($(by_sha "$first" groups deleted))"
again=$(cftoken --profile edited exec -- sh -c "$sha_of_token")
ok $([ "$again" = "$narrower" ]; echo $?) "... and the new one is what the cache serves from then on"

# The token is in no process's command line, and in no stderr here.
leak=$(cat "$dir"/burst.* "$dir/warm" 2>/dev/null | grep -v "^password=" | grep -cF "$tok" || true)
ok "$leak" "no output but the answers' password= lines carries a token"

# revoke clears the caches: a revoked token is never handed out again.
cur=$(printf '%s' "$get_request" | cftoken get | password_of)
cur_id=$(printf '%s\n' "$cur" | cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
cftoken revoke --token-file "$parent_file" "$cur_id" >/dev/null
ok $? "revoke of the cached token"
next=$(printf '%s' "$get_request" | cftoken get | password_of)
ok $([ -n "$next" ] && [ "$next" != "$cur" ]; echo $?) "then get hands out a new token, never the revoked one"

# roll replaces the cached value: get answers the new one.
next_id=$(printf '%s\n' "$next" | cftoken verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p')
rolled=$(cftoken roll --token-file "$parent_file" "$next_id" 2>"$dir/roll.err"); rc=$?
ok $rc "roll of the cached token"
contains "$(cat "$dir/roll.err")" "the cached copy holds the new one" ; ok $? "says the cache was updated"
after_roll=$(printf '%s' "$get_request" | cftoken get | password_of)
ok $([ -n "$rolled" ] && [ "$after_roll" = "$rolled" ]; echo $?) "then get answers the rolled value, never the replaced one"
next=$rolled

# What a cache or a note names never steers a deletion: the record of the
# token a renewal replaces names another token of the account, and a note
# of a failed create names it too.  cftoken deletes a token by such an id
# or name only when the API shows it is one cftoken made for the profile.
victim=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
print(next(t["id"] for t in json.load(sys.stdin) if t["name"] == "read-only"))')
victim_live() { $CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
print(next(not t["deleted"] for t in json.load(sys.stdin) if t["id"] == sys.argv[1]))' "$victim"; }
cftoken --profile burst exec -- true 2>/dev/null
forged=0
for k in $(keyctl show @u | awk '/ cftoken:/ {print $1}'); do
	payload=$(keyctl pipe "$k" 2>/dev/null)
	# (this API's: tests running beside this one keep burst tokens too)
	case $payload in *$'\nprofile=burst\napi='"$CFTEST_API_URL"$'\n'*) ;; *) continue ;; esac
	sed "s/^id=.*/id=$victim/; s/^renew_at=.*/renew_at=1/; s/^expires=.*/expires=2/" <<<"$payload" |
		keyctl pupdate "$k" && forged=$((forged + 1))
done
printf '0 a read-only\n' >"$XDG_RUNTIME_DIR/cftoken/$account-burst.orphans"
# (token: the work after its hand-over runs in this process, whose stderr
# the test reads; the forged record says the token it names has expired)
cftoken --profile burst token >/dev/null 2>"$dir/steer.err"; rc=$?
ok "$([ "$rc" = 0 ] && [ "$forged" -ge 1 ] && echo 0 || echo 1)" \
	"a cached record and a note that name another token: the profile's token is renewed ($forged keys forged)"
ok "$([ "$(victim_live)" = True ] && echo 0 || echo 1)" "... and the token they name is not deleted"
contains "$(cat "$dir/steer.err")" "not as cftoken names the tokens of profile burst" ; ok $? "... and cftoken says why"

holding() {  # how many of this user's cftoken keys hold the token $1
	local k c=0
	for k in $(keyctl show @u | awk '/ cftoken:/ {print $1}'); do
		keyctl pipe "$k" 2>/dev/null | grep -qF "token=$1" && c=$((c + 1))
	done
	echo "$c"
}
ok $([ "$(holding "$next")" -ge 1 ]; echo $?) "the kernel keyring holds the new token"
out=$(cftoken logout); rc=$?
ok $rc "logout succeeds"
contains "$out" "forgotten" ; ok $? "and says so"
contains "$out" "cached token" ; ok $? "and that it dropped the cached tokens"
ok "$(holding "$next")" "no kernel key holds a minted token after logout"
out=$(cftoken --profile burst --min-ttl 5h exec -- true 2>&1); rc=$?
ok $((rc != 3)) "after logout, minting needs cftoken login again (exit 3)"

schema=$($CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["schema_errors"]))')
ok "$schema" "every request and answer followed the OpenAPI schema"
tap_done
