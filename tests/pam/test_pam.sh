#!/bin/bash
# pam_cftoken through real libpam, against the emulator:
#   test_pam.sh BUILD_DIR LIBPAM_WRAPPER      (run under with-emulator.sh)
# pam_wrapper reads service files from a directory of ours that name the
# module by absolute path; tests/pam/pam_session.c drives sessions with
# libpamtest and runs a command inside each, as a login shell would.
# As root (CI) it also creates two real users and logs them in, and runs
# one login through the real /etc/pam.d stack with pamtester.
set -u
# A session keyring of its own that links @u, as after pam_keyinit.
if [ -z "${CFTEST_IN_SESSION:-}" ]; then
	CFTEST_IN_SESSION=1 exec keyctl session - "$0" "$@"
fi
keyctl link @u @s >/dev/null
build=$1
pam_wrapper=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/tap.sh"

module=$build/pam/pam_cftoken.so
helper=$build/pam/cftoken-pam-helper
driver=$build/tests/pam/pam-session
front=$build/helper/cftoken
account=0123456789abcdef0123456789abcdef
me=$(id -un)
dir=$CFTEST_WORK/pam
mkdir -p "$dir/pam.d"
chmod 755 "$CFTEST_WORK" "$dir"
unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN \
	CFTOKEN_CACHE CFTOKEN_CONFIG XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS

# A sanitizer build's module needs its runtime loaded first in programs
# that are not built with it (pamtester); pam_wrapper 1.1.4 reads its
# no-RTLD_DEEPBIND switch under uid_wrapper's name.
asan_runtime=$(ldd "$module" | sed -n 's/^\s*libasan[^ ]* => \([^ ]*\).*/\1/p')
emu() { env -u LD_PRELOAD $CFTEST_EMUCTL "$@"; }
api_calls() {  # api_calls 'POST /tokens': how many requests matched since the last clear
	emu GET /__emu/log | $py -c 'import json,sys; l=json.load(sys.stdin); print(sum(1 for e in l if sys.argv[1] in (e["method"]+" "+e["path"])))' "$1"
}
clear_log() { emu DELETE /__emu/log >/dev/null; }
token_field() {  # token_field SHA256 FIELD: a field of the emulator's token with that value
	emu GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if t["value_sha256"] == sys.argv[1]]
print(json.dumps(t[0][sys.argv[2]]) if t else "no-such-token")' "$1" "$2"
}

token_by_id() {  # token_by_id ID FIELD
	emu GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if t["id"] == sys.argv[1]]
print(json.dumps(t[0][sys.argv[2]]) if t else "no-such-token")' "$1" "$2"
}
# A token a renewal replaced lives out its expiry; the work after the
# answer, in a detached process, deletes it once it has expired.  These
# wait for that (at most 120 s: a bound on a hang, not a measure).
wait_deleted() {  # wait_deleted ID...: status 0 once the emulator holds each deleted
	local id i
	for id in "$@"; do
		for i in $(seq 1 1200); do
			[ "$(token_by_id "$id" deleted)" = true ] && break
			sleep 0.1
		done
		[ "$(token_by_id "$id" deleted)" = true ] || return 1
	done
}
wait_expired() {  # wait_expired ID: until the clock of whole seconds is past its expires_on
	local until
	until=$(date -d "$(token_by_id "$1" expires_on | tr -d '"')" +%s)
	while [ "$(date +%s)" -le $((until + 1)) ]; do sleep 0.2; done
}
id_of_sha() { token_field "$1" id | tr -d '"'; }
# root's ledger of the tokens it replaced for this user, and its record
# of the last one minted (pam/session_records.h)
root_ledger_ids() { awk '{print $3}' "$dir/run/replaced/$(id -u)" 2>/dev/null; }
recorded_id() { cut -d' ' -f1 "$dir/run/minted/$(id -u)" 2>/dev/null; }
# account_tokens: how many tokens the account holds (the cap counts them,
# expired or not, until they are deleted)
account_tokens() {
	emu GET /__emu/tokens | $py -c 'import json,sys
print(sum(1 for t in json.load(sys.stdin) if t["owner"] == "account" and t.get("account_id") == sys.argv[1] and not t["deleted"]))' "$account"
}
seed_value parent >"$dir/parent"
chmod 600 "$dir/parent"

# write_config FILE [EXTRA DEFAULTS...]: the policy file the tests use
write_config() {
	local file=$1
	shift
	{
		echo "[defaults]"
		echo "api_url = $CFTEST_API_URL"
		echo "ca_file = $CFTEST_CA"
		echo "account = $account"
		echo "parent_token_file = $dir/parent"
		echo "run_dir = $dir/run"
		# (a key given twice is refused: the default ttl only when no
		# extra line sets one)
		printf '%s\n' "$@" | grep -q '^ttl *=' || echo "ttl = 1h"
		for line in "$@"; do echo "$line"; done
		echo
		echo "[user $me]"
		echo "preset = workers-deploy"
		echo
		echo "[user cftest-alice]"
		echo "preset = workers-deploy"
		echo
		echo "[group cftest-devs]"
		echo "permissions = Zone Read"
		echo "ttl = 2h"
	} >"$file"
	chmod 644 "$file"
}
write_config "$dir/cftoken.conf"

# service NAME CONTROL OPTIONS...: a service file of our module, then
# pam_permit so the stack has a module that succeeds.
service() {
	local name=$1 control=$2
	shift 2
	# A check that is not about the deadline gets one it never waits out,
	# not the module's 5 s, which a cold login beside other tests (the
	# analyzer, a sanitizer build) could use up; under valgrind longer.
	if ! grep -q 'timeout=' <<<"$*"; then
		set -- "$@" "timeout=$([ -n "${CFTEST_WRAP:-}" ] && echo 40 || echo 30)"
	fi
	printf 'session %s %s helper=%s %s\nsession required %s\n' "$control" "$module" "$helper" \
		"$*" "$(dirname "$(find /usr/lib /lib -name pam_permit.so -path '*security*' | head -1)")/pam_permit.so" \
		>"$dir/pam.d/$name"
}
service cft optional "config=$dir/cftoken.conf debug"

# session USER ARGS...: pam-session under pam_wrapper; its output, with
# syslog's lines (pam_wrapper prints them on stderr), in $out.
# A checker's report (valgrind exits 99, a sanitizer aborts) in the
# driver, and so in the module it loaded, fails the test at once.
checker_failures=0
session() {
	LD_PRELOAD=$pam_wrapper PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$dir/pam.d \
		PAM_WRAPPER_DEBUGLEVEL=2 UID_WRAPPER_DISABLE_DEEPBIND=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
		CFTEST_SESSION_LOG=$dir/session.out ${CFTEST_WRAP:-} "$driver" "$@" >"$dir/session.out" 2>&1
	local status=$?
	if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
		checker_failures=$((checker_failures + 1))
		echo "# pam-session $* exited with $status:"
		grep -v PWRAP "$dir/session.out" | sed 's/^/#   /' | tail -30
	fi
	out=$(grep -v -e "pwrap_init" -e "copy_confdir" -e "pwrap_load_lib" -e "no default config other" \
		"$dir/session.out")
	[ -z "${CFTEST_PAM_VERBOSE:-}" ] || echo "$out" | sed "s|^|#  |"
}

# What a program inside the session sees, as USER (pam-session runs the
# command as root, with the session's environment added).
cat >"$dir/inside.sh" <<'SH'
#!/bin/sh
# inside.sh FRONT: prints what a session's programs find, never a token
front=$1
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
echo "sha=$(sha "$CLOUDFLARE_API_TOKEN")"
via_exec=$("$front" exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"')
echo "exec=$(sha "$via_exec")"
via_login=$("$front" exec --profile login -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"')
echo "login=$(sha "$via_login")"
eval "$("$front" env --force)"
echo "env=$(sha "$CLOUDFLARE_API_TOKEN")"
# Where the token must never be: the log of the login so far (syslog's
# lines included), and any process's argv.
leak=no
[ -n "$CLOUDFLARE_API_TOKEN" ] && [ -n "${CFTEST_SESSION_LOG:-}" ] &&
	grep -qF "$CLOUDFLARE_API_TOKEN" "$CFTEST_SESSION_LOG" && leak=log
for f in /proc/[0-9]*/cmdline; do
	[ -n "$CLOUDFLARE_API_TOKEN" ] && tr '\0' ' ' <"$f" 2>/dev/null | grep -qF "$CLOUDFLARE_API_TOKEN" && leak=argv
done
echo "leak=$leak"
SH
chmod 755 "$dir/inside.sh"
as_me() { keyctl session - "$dir/inside.sh" "$front"; }
# login_keys: the serials of this user's login-token keys in @u for this
# test's API (own: its hash, known from the first login).  @u outlives a
# run, and other runs of the same uid leave or make keys of their own.
# (one keyctl show, not two processes a key: root's @u may hold hundreds)
login_keys() {
	keyctl show @u 2>/dev/null |
		awk -v d="cftoken:$(id -u):$account:login:$own" '$NF == d { print $1 }'
}
drop_login_keys() { for k in $(login_keys); do keyctl unlink "$k" @u >/dev/null; done; }
value_of() { sed -n "s/^$1=//p" <<<"$out" | head -1; }

# --- the module's shape ----------------------------------------------------
# (a sanitizer build adds its runtimes)
linked() { readelf -d "$1" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | grep -v -e '^libasan' -e '^libubsan' |
	sort | tr '\n' ' '; }
needed=$(linked "$module")
ok "$([ "$needed" = "libc.so.6 libpam.so.0 " ] && echo 0 || echo 1)" \
	"pam_cftoken.so links libpam and libc only ($needed)"
# What the module runs for a warm login, and root's renewal service.
needed=$(linked "$helper")
ok "$([ "$needed" = "libc.so.6 libkeyutils.so.1 " ] && echo 0 || echo 1)" \
	"cftoken-pam-helper links libc and libkeyutils only ($needed)"
needed=$(linked "$build/pam/cftoken-broker")
ok "$([ "$needed" = "libc.so.6 " ] && echo 0 || echo 1)" "cftoken-broker links libc only ($needed)"
exported=$(LD_PRELOAD="$asan_runtime" ASAN_OPTIONS=detect_leaks=0 $py - "$module" <<'PY'
import ctypes, sys
m = ctypes.CDLL(sys.argv[1])  # dlopen, as libpam does
names = ["pam_sm_open_session", "pam_sm_close_session", "pam_sm_authenticate",
         "pam_sm_setcred", "pam_sm_acct_mgmt", "pam_sm_chauthtok"]
internal = ["parse_options", "run_helper", "export_lines", "call_helper", "failed"]
print(all(hasattr(m, n) for n in names) and not any(hasattr(m, n) for n in internal))
PY
)
defined=$(nm -D --defined-only "$module" | awk '{print $3}' | grep -v '^pam_sm_' | tr '\n' ' ')
ok "$([ "$exported" = True ] && [ -z "$defined" ] && echo 0 || echo 1)" \
	"dlopen finds the six pam_sm_* entry points and nothing else is exported ($defined)"

# --- cold, warm, inside the session ---------------------------------------
clear_log
login_from=$(date +%s)
session cft "$me" -- "$dir/inside.sh" "$front"
login_until=$(date +%s)
contains "$out" "open 1: PAM_SUCCESS" && ok 0 "cold login: open_session succeeds" ||
	ok 1 "cold login: open_session succeeds"
ok "$([ "$(api_calls 'POST /client/v4/accounts/'$account'/tokens')" = 1 ] && echo 0 || echo 1)" \
	"cold login: exactly one token created"
sha=$(value_of sha)
ok "$([ -n "$sha" ] && [ "$(token_field "$sha" status)" = '"active"' ] && echo 0 || echo 1)" \
	"the exported CLOUDFLARE_API_TOKEN is a token the emulator minted"
own=$(own_api_hash "$(token_field "$sha" id | tr -d '"')")
ok "$([ -n "$own" ] && echo 0 || echo 1)" "the login token is cached in the kernel keyring (API hash $own)"
name=$(token_field "$sha" name)
contains "$name" "$me@" && ok 0 "its name says user and host ($name)" || ok 1 "its name says user and host"
contains "$out" "env 1: CLOUDFLARE_ACCOUNT_ID=$account" && ok 0 "CLOUDFLARE_ACCOUNT_ID exported" ||
	ok 1 "CLOUDFLARE_ACCOUNT_ID exported"
# issued_between FROM UNTIL EXPIRES TTL: status 0 when EXPIRES - TTL is
# a second the clock read between FROM and UNTIL (both whole seconds, as
# the mint's own time(NULL) is): exact, however long the login took
issued_between() {
	local issued=$(( $(date -d "$3" +%s) - $4 ))
	[ "$issued" -ge "$1" ] && [ "$issued" -le "$2" ]
}
expires=$(value_of "env 1: CFTOKEN_EXPIRES_ON")
ok "$(issued_between "$login_from" "$login_until" "$expires" 3600 && echo 0 || echo 1)" \
	"expires_on = login + ttl (1h: $expires, the login between $login_from and $login_until)"
ok "$([ "$(value_of exec)" = "$sha" ] && [ "$(value_of login)" = "$sha" ] &&
	[ "$(value_of env)" = "$sha" ] && echo 0 || echo 1)" \
	"inside the session cftoken exec, exec --profile login and env hand over the same token"
contains "$out" "minted" && ok 0 "syslog says the token was minted" || ok 1 "syslog says minted"
ok "$([ "$(value_of leak)" = no ] && echo 0 || echo 1)" \
	"the token is in no syslog line of the login and in no process's argv ($(value_of leak))"

clear_log
session cft "$me" -- "$dir/inside.sh" "$front"
ok "$([ "$(value_of sha)" = "$sha" ] && echo 0 || echo 1)" "warm login: the same token"
ok "$([ "$(emu GET /__emu/log | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] &&
	echo 0 || echo 1)" "warm login: no API call at all"
contains "$out" "the login token of $me is cached: no API call" &&
	ok 0 "warm login: answered by the light front, the worker never ran" ||
	ok 1 "warm login: answered by the light front, the worker never ran"

# no_export: cached, not exported; the session's cftoken still finds it
service noexport optional "config=$dir/cftoken.conf no_export"
# (the session has no CLOUDFLARE_ACCOUNT_ID: cftoken exec asks the backend,
# which reads the policy; here not from /etc but from CFTOKEN_CONFIG)
session noexport "$me" -- env CFTOKEN_CONFIG="$dir/cftoken.conf" "$dir/inside.sh" "$front"
contains "$out" "token 1: none" && ok 0 "no_export: nothing exported" || ok 1 "no_export: nothing exported"
ok "$([ "$(value_of exec)" = "$sha" ] && echo 0 || echo 1)" "no_export: cftoken exec finds the cached token"

# --- the admin narrows the policy: the next login gets a new token -------
cp "$dir/cftoken.conf" "$dir/cftoken.conf.orig"
sed -i "/^\[user $me\]/,/^\$/s/^preset = workers-deploy$/permissions = Zone Read/" "$dir/cftoken.conf"
clear_log
session cft "$me" -- "$dir/inside.sh" "$front"
narrowed=$(value_of sha)
pn=$(token_field "$narrowed" policies)
ok "$([ -n "$narrowed" ] && [ "$narrowed" != "$sha" ] && [ "$(token_field "$sha" deleted)" = false ] &&
	[ "$(token_field "$sha" status)" = '"active"' ] && root_ledger_ids | grep -qx "$(id_of_sha "$sha")" &&
	echo 0 || echo 1)" \
	"a changed policy: the next login replaces the cached token, which lives out its expiry in root's ledger"
contains "$pn" "Zone Read" && ! contains "$pn" "Workers Scripts Write" >/dev/null &&
	ok 0 "... with the narrowed permissions" || ok 1 "... with the narrowed permissions"
contains "$out" "minted under an earlier policy" && ok 0 "... and syslog says why" ||
	ok 1 "... and syslog says why"
mv "$dir/cftoken.conf.orig" "$dir/cftoken.conf"

# --- expired cache --------------------------------------------------------
# The token past its expiry is replaced at the next login, and deleted
# after the answer by a detached process the module does not wait for:
# with the API holding that DELETE back for longer than a login takes,
# the session still opens in its normal time, and the token goes later.
drop_login_keys
write_config "$dir/short.conf" "ttl = 3s" "renew_margin = 1s"
# (the detached process has the worker's timeout as its own deadline: a
# long one, so that it waits the held DELETE out and hears the answer)
hold_ms=20000 short_timeout=30
[ -n "${CFTEST_WRAP:-}" ] && hold_ms=40000 short_timeout=60
service short optional "config=$dir/short.conf timeout=$short_timeout"
# only the session's own token: a cftoken call inside (slow under
# valgrind) could find this 3-second token due and renew it
printf '#!/bin/sh\necho "sha=$(printf %%s "$CLOUDFLARE_API_TOKEN" | sha256sum | cut -d" " -f1)"\n' >"$dir/sha.sh"
chmod 755 "$dir/sha.sh"
session short "$me" -- "$dir/sha.sh"
first=$(value_of sha)
first_id=$(id_of_sha "$first")
wait_expired "$first_id"
clear_log
emu POST /__emu/faults '{"method": "DELETE", "path": "/tokens/'"$first_id"'$", "times": 1,
	"kind": "delay", "delay_ms": '"$hold_ms"'}' >/dev/null
session short "$me" -- "$dir/sha.sh"
second=$(value_of sha)
ms=$(sed -n 's/^open 1: .* in \([0-9]*\) ms$/\1/p' <<<"$out")
held=$(token_by_id "$first_id" deleted)
ok "$([ -n "$second" ] && [ "$second" != "$first" ] &&
	[ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 1 ] && echo 0 || echo 1)" \
	"expired cache: one create, a new token at the next login"
# (under valgrind the detached process is valgrind's, which keeps its own
# copy of the module's stderr pipe: the open waits for it, and /proc names
# valgrind, so these three checks are the default pass's)
skip_wrapped() {  # skip_wrapped DESCRIPTION: a SKIP line under a checker
	n=$((n + 1))
	echo "ok $n - $1 # SKIP under valgrind, the detached process holds valgrind's pipe"
}
if [ -n "${CFTEST_WRAP:-}" ]; then
	skip_wrapped "... the session opens while the API holds the expired token's DELETE back"
else
	ok "$([ -n "$ms" ] && [ "$ms" -lt "$hold_ms" ] && [ "$held" = false ] && echo 0 || echo 1)" \
		"... the session opens in $ms ms while the API holds the expired token's DELETE back for $hold_ms ms"
fi
# the detached process, while its DELETE is held: out of the login's
# session and process group, with none of the module's pipes
worker_exe=$(readlink -f "$build/pam/cftoken-pam-worker")
detached=$(for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = "$worker_exe" ] &&
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "--config $dir/short.conf" && echo "${p#/proc/}"
done)
problems=()
if [ "$(wc -w <<<"$detached")" != 1 ]; then
	problems+=("not one detached worker but: ${detached:-none}")
else
	read -r d_ppid d_sid d_stat <<<"$(ps -o ppid=,sid=,stat= -p "$detached")"
	[ "$d_sid" = "$detached" ] || problems+=("it did not leave the login's session (sid $d_sid)")
	case $(cat "/proc/$d_ppid/comm" 2>/dev/null) in pam-session | cftoken-pam-*)
		problems+=("its parent is the login's $(cat "/proc/$d_ppid/comm")") ;; esac
	ls -l "/proc/$detached/fd" 2>/dev/null | grep -q 'pipe:' && problems+=("it holds a pipe")
	[ "$(readlink "/proc/$detached/fd/1")" = /dev/null ] || problems+=("its stdout is not /dev/null")
fi
if [ -n "${CFTEST_WRAP:-}" ]; then
	skip_wrapped "... the work after the answer runs in a process of its own session"
else
	tap_row "... the work after the answer runs in a process of its own session (setsid), parent not the login's, holding no pipe" \
		"${problems[@]}"
fi
# (the emulator logs a request once it has answered it)
deleted_once=1
if wait_deleted "$first_id"; then
	for _ in $(seq 1 100); do
		[ "$(api_calls "DELETE /client/v4/accounts/$account/tokens/$first_id")" = 1 ] && { deleted_once=0; break; }
		sleep 0.1
	done
fi
ok "$deleted_once" "... and the expired token is deleted, by one DELETE, once the API answers it"
gone=1
for _ in $(seq 1 300); do
	[ -n "$detached" ] && [ ! -e "/proc/$detached" ] && { gone=0; break; }
	sleep 0.1
done
if [ -n "${CFTEST_WRAP:-}" ]; then
	skip_wrapped "... and then the detached process is gone, nobody's zombie"
else
	ok "$gone" "... and then the detached process is gone, nobody's zombie ($(ps -o stat= -p "${detached:-0}" 2>/dev/null))"
fi
emu DELETE /__emu/faults >/dev/null

# --- revoke_on_close: only when the last session ends ---------------------
service revoke optional "config=$dir/cftoken.conf revoke_on_close debug"
drop_login_keys
clear_log
# what renewals replaced and live out their expiry, and what this login
# replaces: the last logout deletes them too, after its answer
replaced_live=$(root_ledger_ids; recorded_id)
session --sessions 2 revoke "$me" -- "$dir/inside.sh" "$front"
sha=$(value_of sha)
contains "$out" "1 other session(s) of $me still open" && ok 0 "revoke_on_close: the first logout keeps the token" ||
	ok 1 "revoke_on_close: the first logout keeps the token"
contains "$out" "revoked: the last session ended" && ok 0 "revoke_on_close: the last logout revokes it" ||
	ok 1 "revoke_on_close: the last logout revokes it"
ok "$([ "$(token_field "$sha" deleted)" = true ] && echo 0 || echo 1)" \
	"revoke_on_close: the emulator no longer holds the session's token"
ok "$([ "$(login_keys)" = "" ] && echo 0 || echo 1)" \
	"revoke_on_close: ... and dropped it from the kernel keyring"
ok "$([ -n "$replaced_live" ] && wait_deleted $replaced_live && echo 0 || echo 1)" \
	"revoke_on_close: the tokens renewals replaced, still valid, are deleted too ($(wc -w <<<"$replaced_live") of them)"
clear_log
session cft "$me" -- "$dir/inside.sh" "$front"
ok "$([ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 1 ] &&
	[ "$(value_of sha)" != "$sha" ] && echo 0 || echo 1)" "after the revocation the next login mints afresh"
sha=$(value_of sha)
# A user who deletes every cftoken key (the last-id key too) makes the
# cache forget which token a new one replaces; root's record does not.
# (every key of this test's API: the integration tests, run beside this one
# by the same uid, keep theirs)
drop_keys ":$own"
session cft "$me" -- "$dir/inside.sh" "$front"
ok "$([ "$(value_of sha)" != "$sha" ] && [ "$(token_field "$sha" deleted)" = false ] &&
	root_ledger_ids | grep -qx "$(id_of_sha "$sha")" && echo 0 || echo 1)" \
	"keys deleted by the user: root's record still names the token the next login's mint replaces, which lives out its expiry in root's ledger"
contains "$out" "is replaced: it lives out its expiry" && ok 0 "... and syslog says so" ||
	ok 1 "... and syslog says so"
sha=$(value_of sha)
# A user who forges their cached entry to name someone else's token, due
# for renewal: the next login mints, and the admin's parent token deletes
# only what root recorded, never the token the user named.
victim=$(emu POST /__emu/tokens '{"name": "victim", "owner": "account", "account_id": "'$account'",
	"status": "active", "policies": []}' | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$(login_keys | head -1)
forged=$(keyctl pipe "$key" | sed "s/^id=.*/id=$victim/; s/^renew_at=.*/renew_at=1/")
printf '%s\n' "$forged" | keyctl pupdate "$key"
unset forged
session cft "$me" -- "$dir/inside.sh" "$front"
ok "$([ "$(token_by_id "$victim" deleted)" = false ] && [ "$(value_of sha)" != "$sha" ] &&
	root_ledger_ids | grep -qx "$(id_of_sha "$sha")" && ! root_ledger_ids | grep -qx "$victim" &&
	echo 0 || echo 1)" \
	"a cache entry forged to name another token: that token survives; root's record decides what its ledger keeps"
sha=$(value_of sha)

# --- the account's cap -----------------------------------------------------
# The account holds as many tokens as it may (the emulator's quota set to
# what it holds now): root deletes early the tokens it replaced for the
# user, which live out their expiry in its ledger, and the user's part
# creates again.  A login never fails for the cap while cftoken's own
# leftovers fill it; the forged entry's token is still not among them.
early=$(root_ledger_ids)
emu POST /__emu/config "{\"quota_account\": $(account_tokens)}" >/dev/null
drop_login_keys
session cft "$me" -- "$dir/sha.sh"
emu POST /__emu/config '{"quota_account": 500}' >/dev/null
problems=()
[ -n "$early" ] || problems+=("root's ledger was empty: nothing to delete early")
[ "$(token_field "$(value_of sha)" status)" = '"active"' ] || problems+=("the login got no token")
[ -n "$early" ] && ! wait_deleted $early && problems+=("a token of root's ledger is not deleted")
contains "$out" "the account's token cap is reached: deleted" >/dev/null ||
	problems+=("syslog does not say the cap made root delete replaced tokens")
[ "$(token_by_id "$victim" deleted)" = false ] || problems+=("the forged entry's token was deleted")
tap_row "the account's cap with the admin's parent: root deletes its ledger's replaced tokens early, and the login gets its token" \
	"${problems[@]}" || grep -iE "cftoken|token 1|open 1" <<<"$out" | sed 's/^/#   /' | head -8
sha=$(value_of sha)

# --- a personal machine: the user's own parent token -----------------------
# No parent_token_file: the user's part mints with the user's own (cftoken
# login) token and puts the token a renewal replaces in the user's own
# ledger, where it lives out its expiry; after the answer a process root
# starts as the user deletes the expired ones; at the cap the user's part
# deletes them early (lib/mint/obtain.c's make_room).
own_env=(CLOUDFLARE_API_BASE_URL="$CFTEST_API_URL" CFTOKEN_CA_FILE="$CFTEST_CA")
env "${own_env[@]}" "$front" login --token-file "$dir/parent" >/dev/null 2>&1
write_config "$dir/own.conf"
write_config "$dir/own-short.conf" "ttl = 3s" "renew_margin = 1s"
sed -i '/^parent_token_file = /d' "$dir/own.conf" "$dir/own-short.conf"
service own optional "config=$dir/own.conf debug"
service ownshort optional "config=$dir/own-short.conf debug"
drop_login_keys
session own "$me" -- "$dir/sha.sh"
o1=$(value_of sha)
key=$(login_keys | head -1)
keyctl pipe "$key" | sed "s/^renew_at=.*/renew_at=1/" | keyctl pupdate "$key"
session own "$me" -- "$dir/sha.sh"
o2=$(value_of sha)
ok "$([ -n "$o1" ] && [ -n "$o2" ] && [ "$o2" != "$o1" ] && [ "$(token_field "$o1" deleted)" = false ] &&
	[ "$(token_field "$o1" status)" = '"active"' ] && echo 0 || echo 1)" \
	"own parent: a renewal replaces the token, and the replaced one still works (it lives out its expiry)"
session ownshort "$me" -- "$dir/sha.sh"
o3=$(value_of sha)
wait_expired "$(id_of_sha "$o3")"
session ownshort "$me" -- "$dir/sha.sh"
ok "$([ -n "$o3" ] && [ "$(value_of sha)" != "$o3" ] && wait_deleted "$(id_of_sha "$o3")" &&
	[ "$(token_field "$o2" deleted)" = false ] && echo 0 || echo 1)" \
	"own parent: the next login deletes the expired replaced token after its answer, as the user; the live ones stay"
emu POST /__emu/config "{\"quota_account\": $(account_tokens)}" >/dev/null
drop_login_keys
session own "$me" -- "$dir/sha.sh"
emu POST /__emu/config '{"quota_account": 500}' >/dev/null
ok "$([ "$(token_field "$(value_of sha)" status)" = '"active"' ] && [ "$(token_field "$o1" deleted)" = true ] &&
	[ "$(token_field "$o2" deleted)" = true ] && echo 0 || echo 1)" \
	"own parent at the account's cap: the replaced tokens still live are deleted early, and the login gets its token"
env "${own_env[@]}" "$front" logout >/dev/null 2>&1
drop_login_keys

# --- the API black-holed: the session opens within the deadline -----------
emu POST /__emu/faults '{"path": "/tokens", "times": null, "kind": "blackhole"}' >/dev/null
emu POST /__emu/faults '{"path": "/permission_groups", "times": null, "kind": "blackhole"}' >/dev/null
drop_login_keys
service slow optional "config=$dir/cftoken.conf timeout=1.5"
session slow "$me"
ms=$(sed -n 's/^open 1: .* in \([0-9]*\) ms$/\1/p' <<<"$out")
ok "$(contains "$out" "open 1: PAM_SUCCESS" >/dev/null && contains "$out" "token 1: none" >/dev/null &&
	[ -n "$ms" ] && [ "$ms" -lt $((1500 + 5000)) ] && echo 0 || echo 1)" \
	"black-holed API: the session opens without a token at the deadline, not the black hole's 60 s ($ms ms, timeout 1.5 s)"
contains "$out" "no Cloudflare API token for $me" && ok 0 "black-holed API: syslog says why" ||
	ok 1 "black-holed API: syslog says why"
# The caller's deadline is a moment, not a span counted from when the
# worker starts: a worker that starts late (valgrind takes seconds) still
# gives up, and says why, by the moment its caller stops waiting.
drop_login_keys
until=$(( $($py -c 'import time; print(int(time.monotonic() * 1000))') + 2000 ))
start=$SECONDS
out=$("$helper" open --config "$dir/cftoken.conf" --timeout-ms=60000 --deadline-ms=$until -- \
	"$me" 2>&1 >/dev/null)
took=$((SECONDS - start))
ok "$([ "$took" -lt 30 ] && contains "$out" "did not answer in time" >/dev/null && echo 0 || echo 1)" \
	"--deadline-ms: the worker gives up by its caller's moment, not 60 s after its own start, and says why (${took} s)"
service closed required "config=$dir/cftoken.conf timeout=1 fail_closed"
session closed "$me"
contains "$out" "open 1: PAM_SESSION_ERR" && ok 0 "fail_closed: the session is refused" ||
	ok 1 "fail_closed: the session is refused"
contains "$out" "fail_closed: the session is refused" && ok 0 "fail_closed: syslog says so" ||
	ok 1 "fail_closed: syslog says so"
emu DELETE /__emu/faults >/dev/null

# --- one login job of a user at a time ---------------------------------------
# A login or renewal still running holds RUN_DIR/jobs/UID.lock (the broker's
# /tmp is private, so the user's lock there would not meet it): the next
# waits its deadline out, then opens without a token and says why.
drop_login_keys
mkdir -p "$dir/run/jobs"
# (-o: flock itself holds it, not sleep, so killing flock releases it)
flock -o "$dir/run/jobs/$(id -u).lock" sleep 60 &
holder=$!
# until flock holds it (a probe that cannot take the lock exits 99)
for _ in $(seq 1 600); do
	flock -n -E 99 "$dir/run/jobs/$(id -u).lock" true
	[ $? -eq 99 ] && break
	sleep 0.05
done
# the worker waits half the deadline, then must still be heard: under
# valgrind it starts slowly
joblock_timeout=8
[ -n "${CFTEST_WRAP:-}" ] && joblock_timeout=12
service joblock optional "config=$dir/cftoken.conf timeout=$joblock_timeout"
session joblock "$me"
ok "$(contains "$out" "open 1: PAM_SUCCESS" >/dev/null && contains "$out" "token 1: none" >/dev/null &&
	contains "$out" "another login or renewal of this user is still running" && echo 0 || echo 1)" \
	"a login while another of the user's logins holds the job lock: no token, and syslog says why"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
session cft "$me"
contains "$out" "open 1: PAM_SUCCESS" && ! contains "$out" "token 1: none" >/dev/null &&
	[ "$(stat -c %a "$dir/run/jobs")" = 700 ] &&
	ok 0 "... and once it is released the next login gets its token (jobs/ is root-only)" ||
	ok 1 "... and once it is released the next login gets its token"

# --- bad and insecure configuration ---------------------------------------
printf '[defaults]\naccount = 0123\n' >"$dir/bad.conf"
chmod 644 "$dir/bad.conf"
service bad optional "config=$dir/bad.conf"
session bad "$me"
contains "$out" "bad.conf:2" && ok 0 "a bad config: syslog names file and line" || ok 1 "a bad config: syslog names file and line"
contains "$out" "token 1: none" && ok 0 "a bad config: no token, the session opens" || ok 1 "a bad config: no token"
cp "$dir/cftoken.conf" "$dir/open.conf"
chmod 666 "$dir/open.conf"
service open optional "config=$dir/open.conf"
session open "$me"
contains "$out" "writable by group or others (mode 0666): refused" &&
	ok 0 "a world-writable config is refused" || ok 1 "a world-writable config is refused"
cp "$dir/parent" "$dir/parent.loose"
chmod 644 "$dir/parent.loose"
write_config "$dir/loose.conf"
sed -i "s|^parent_token_file = .*|parent_token_file = $dir/parent.loose|" "$dir/loose.conf"
service loose optional "config=$dir/loose.conf"
session loose "$me"
contains "$out" "accessible to group or others" && ok 0 "a parent token file others can read is refused" ||
	ok 1 "a parent token file others can read is refused"
# a policy file reached through a symlink, or holding a NUL byte, is
# refused with the reason (an attacker's link, a truncated key)
ln -sfn "$dir/cftoken.conf" "$dir/link.conf"
service link optional "config=$dir/link.conf"
session link "$me"
contains "$out" "is not a regular file (a symbolic link): refused" && contains "$out" "token 1: none" >/dev/null &&
	ok 0 "a symlinked policy file is refused, and syslog says so" ||
	ok 1 "a symlinked policy file is refused, and syslog says so"
{ cat "$dir/cftoken.conf"; printf '# \0 end\n'; } >"$dir/nul.conf"
chmod 644 "$dir/nul.conf"
service nul optional "config=$dir/nul.conf"
session nul "$me"
contains "$out" "nul.conf: contains a NUL byte" && contains "$out" "token 1: none" >/dev/null &&
	ok 0 "a policy file with a NUL byte is refused, and syslog says so" ||
	ok 1 "a policy file with a NUL byte is refused, and syslog says so"

# --- what the module does not serve ---------------------------------------
service nobody optional "config=$dir/cftoken.conf debug"
clear_log
session nobody daemon
contains "$out" "no [user daemon] section" && ok 0 "a user without a policy: debug line, no token" ||
	ok 1 "a user without a policy: debug line, no token"
ok "$([ "$(api_calls /client/v4)" = 0 ] && echo 0 || echo 1)" "a user without a policy: no API call"
service other optional "config=$dir/cftoken.conf only_if=sshd,login bogus debug"
session other "$me"
contains "$out" "unknown option: bogus" && ok 0 "an unknown option is logged" || ok 1 "an unknown option is logged"
contains "$out" "token 1: none" && ! contains "$out" "running" >/dev/null &&
	ok 0 "only_if: another service gets nothing, no helper runs" || ok 1 "only_if: another service gets nothing"
# Stages it does not serve answer PAM_IGNORE: with [ignore=ignore
# default=die], only an ignore lets pam_permit decide.
permit=$(grep -o '/[^ ]*pam_permit.so' "$dir/pam.d/cft")
printf 'auth [ignore=ignore default=die] %s\nauth required %s\naccount [ignore=ignore default=die] %s\naccount required %s\n' \
	"$module" "$permit" "$module" "$permit" >"$dir/pam.d/stages"
LD_PRELOAD="$asan_runtime $pam_wrapper" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$dir/pam.d \
	UID_WRAPPER_DISABLE_DEEPBIND=1 pamtester stages "$me" authenticate acct_mgmt </dev/null >"$dir/stages.out" 2>&1
ok $? "authenticate and acct_mgmt return PAM_IGNORE"

# --- outside text never forges a syslog line ------------------------------
# A PAM user name holding a newline (sshd passes on what the client sent):
# before the framed records (pam/log_record.h), what followed the newline
# became a syslog line of its own, at the level it named.
forged_user=$'nosuch\nnotice: token 0123 of cftest-bob revoked: forged'
session cft "$forged_user"
ok "$(grep -q -e '^notice: ' -e 'SYSLOG([0-7]): token 0123' <<<"$out" ||
	grep 'revoked: forged' <<<"$out" | grep -qv '^PWRAP_[A-Z]*\[.*SYSLOG([0-7]): ' && echo 1 || echo 0)" \
	"a user name with a newline: no line of syslog starts with the text after it"
ok "$([ "$(grep -cF 'SYSLOG(3): no such user: nosuch\nnotice: token 0123 of cftest-bob revoked: forged' \
	<<<"$out")" = 1 ] && ! grep -q 'SYSLOG(5).*forged' <<<"$out" && echo 0 || echo 1)" \
	"... the worker's line about it is one record, escaped, at LOG_ERR (no notice)"

# --- the Secret Service on the user's session bus -------------------------
# A private bus with an unlocked gnome-keyring; pam_env puts the bus's
# address into the PAM environment, as a desktop login would have it.
drop_login_keys
pam_env=$(dirname "$permit")/pam_env.so
cat >"$dir/ss.sh" <<SH
#!/bin/bash
echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf 'DBUS_SESSION_BUS_ADDRESS DEFAULT="%s"\n' "\$DBUS_SESSION_BUS_ADDRESS" >"$dir/env.conf"
printf 'session required %s conffile=%s readenv=0\nsession optional %s helper=%s config=%s %s\n' \
	"$pam_env" "$dir/env.conf" "$module" "$helper" "$dir/cftoken.conf" "\${CFTEST_WRAP:+timeout=40}" \
	>"$dir/pam.d/ss"
LD_PRELOAD=$pam_wrapper PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$dir/pam.d UID_WRAPPER_DISABLE_DEEPBIND=1 \
	ASAN_OPTIONS=\${ASAN_OPTIONS:-}:verify_asan_link_order=0 \${CFTEST_WRAP:-} "$driver" ss "$me" \
	-- sh -c 'printf "sha=%s\\n" "\$(printf %s "\$CLOUDFLARE_API_TOKEN" | sha256sum | cut -d" " -f1)"'
echo "items=\$(secret-tool search --all profile login account $account 2>&1 | grep -c '^\[')"
echo "secret=\$(secret-tool lookup profile login account $account | grep -c token=)"
SH
chmod 755 "$dir/ss.sh"
mkdir -p "$dir/home"
out=$(HOME=$dir/home dbus-run-session -- "$dir/ss.sh" 2>&1 | grep -v -e PWRAP -e 'fd limit')
[ -z "${CFTEST_PAM_VERBOSE:-}" ] || echo "$out" | sed "s|^|#  |"
ss_sha=$(value_of sha)
ok "$([ -n "$ss_sha" ] && [ "$(token_field "$ss_sha" status)" = '"active"' ] && echo 0 || echo 1)" \
	"with a Secret Service on the session bus: a token exported"
ok "$([ "$(value_of items)" = 1 ] && [ "$(value_of secret)" = 1 ] && echo 0 || echo 1)" \
	"... and cached in the user's Secret Service as well (one org.cftoken.Token item)"

# --- the PAM environment cannot steer root to another API ----------------
# pam_env (which a user's ~/.pam_environment can feed) sets every variable
# that points a cftoken elsewhere, at loopback catchers an attacker runs:
# the login still gets its token from the policy's API, and no catcher
# hears a thing.
steer=$dir/steer
rm -rf "$steer"
mkdir -p "$steer/xdg/cftoken"
catcher_pids=()
for mode in https proxy; do
	$py "$here/../integration/catcher.py" --mode "$mode" --certs "$CFTEST_CERTS" \
		--log "$steer/$mode.log" --ready-file "$steer/$mode.port" 2>"$steer/$mode.err" &
	catcher_pids+=($!)
done
for _ in $(seq 1 400); do [ -s "$steer/https.port" ] && [ -s "$steer/proxy.port" ] && break; sleep 0.05; done
evil_url=https://127.0.0.1:$(cat "$steer/https.port")/client/v4
evil_proxy=http://127.0.0.1:$(cat "$steer/proxy.port")
write_config "$steer/evil.conf"
sed -i "s|^api_url = .*|api_url = $evil_url|" "$steer/evil.conf"
cp "$steer/evil.conf" "$steer/xdg/cftoken/config"
{
	printf 'CFTOKEN_CONFIG DEFAULT="%s"\n' "$steer/evil.conf"
	printf 'CLOUDFLARE_API_BASE_URL DEFAULT="%s"\n' "$evil_url"
	printf 'CFTOKEN_CA_FILE DEFAULT="%s"\n' "$CFTEST_CERTS/otherca.pem"
	for v in HTTPS_PROXY https_proxy ALL_PROXY all_proxy; do printf '%s DEFAULT="%s"\n' "$v" "$evil_proxy"; done
	printf 'XDG_CONFIG_HOME DEFAULT="%s"\n' "$steer/xdg"
	printf 'HOME DEFAULT="%s"\n' "$steer"
} >"$steer/env.conf"
printf 'session required %s conffile=%s readenv=0\nsession optional %s helper=%s config=%s debug %s\nsession required %s\n' \
	"$pam_env" "$steer/env.conf" "$module" "$helper" "$dir/cftoken.conf" "${CFTEST_WRAP:+timeout=40}" \
	"$permit" >"$dir/pam.d/steer"
drop_login_keys
session steer "$me" -- sh -c 'printf "sha=%s\n" "$(printf %s "$CLOUDFLARE_API_TOKEN" | sha256sum | cut -d" " -f1)"'
kill "${catcher_pids[@]}" 2>/dev/null
wait "${catcher_pids[@]}" 2>/dev/null
problems=()
[ "$(token_field "$(value_of sha)" status)" = '"active"' ] ||
	problems+=("the login got no token of the policy's API")
[ -s "$steer/https.port" ] && [ -s "$steer/proxy.port" ] || problems+=("a catcher did not start")
[ -s "$steer/https.log" ] && problems+=("the HTTPS catcher was reached: $(head -c 300 "$steer/https.log")")
[ -s "$steer/proxy.log" ] && problems+=("the proxy catcher was reached: $(head -c 300 "$steer/proxy.log")")
tap_row "CFTOKEN_CONFIG, CLOUDFLARE_API_BASE_URL, CFTOKEN_CA_FILE, proxies, XDG_CONFIG_HOME, HOME in the PAM environment: the token comes from the policy's API, no catcher hears a thing" \
	"${problems[@]}" || grep -i cftoken <<<"$out" | sed 's/^/#   /' | head -5
drop_login_keys

# --- two real users (root only) -------------------------------------------
# --- the fault matrix's PAM rows (tests/pam/faults.md) ---------------------
. "$here/../faults/rules.sh"
live_minted() { emu GET /__emu/tokens | live_minted_of | cut -d' ' -f1 | sort; }  # their ids
# A fault met at the deadline (rules.sh: fault_met_at_deadline) gets a
# short one, which keeps those rows quick.  Every other row, and every
# login with the faults gone, gets a long one, which it never waits out: a
# slow machine cannot use it up and turn the row's answer into "did not
# answer in time".
pam_timeout=2
pam_patient=30
[ -n "${CFTEST_WRAP:-}" ] && pam_timeout=20 pam_patient=60
write_config "$dir/untrusted.conf"
sed -i "s|^ca_file = .*|ca_file = $CFTEST_CERTS/otherca.pem|" "$dir/untrusted.conf"
emu_faults_file=$dir/fault-rules
cat >"$dir/fault-inside.sh" <<SH
#!/bin/sh
# inside a session: the fault starts now, before the logout
while read -r rule; do env -u LD_PRELOAD $CFTEST_EMUCTL POST /__emu/faults "\$rule" >/dev/null; done <"$emu_faults_file"
SH
chmod 755 "$dir/fault-inside.sh"
while IFS='|' read -r _ f stage want_result want_token want_syslog _; do
	f=$(xargs <<<"$f"); stage=$(xargs <<<"$stage"); want_result=$(xargs <<<"$want_result")
	want_token=$(xargs <<<"$want_token"); want_syslog=$(sed 's/^ *//; s/ *$//' <<<"$want_syslog")
	case $f in fault | ---* | "") continue ;; esac  # the header, the rule, the blank line after
	conf=$dir/cftoken.conf
	[ "$f" = tls-untrusted ] && conf=$dir/untrusted.conf
	rules=$(fault_rules "$f")
	before=$(live_minted)
	problems=()
	row_timeout=$pam_patient
	fault_met_at_deadline "$f" && row_timeout=$pam_timeout
	if [ "$stage" = open ]; then
		service matrix optional "config=$conf timeout=$row_timeout debug"
		drop_login_keys
		[ -n "$rules" ] && while read -r rule; do emu POST /__emu/faults "$rule" >/dev/null; done <<<"$rules"
		session matrix "$me"
		emu DELETE /__emu/faults >/dev/null
		contains "$out" "open 1: $want_result" >/dev/null || problems+=("open_session did not return $want_result")
		if [ "$want_token" = none ]; then
			contains "$out" "token 1: none" >/dev/null || problems+=("the session got a token")
		else
			contains "$out" "token 1: none" >/dev/null && problems+=("the session got no token")
		fi
		new=$(comm -13 <(echo "$before") <(live_minted) | grep -c .)
		[ "$new" -eq "$([ "$want_token" = none ] && echo 0 || echo 1)" ] ||
			problems+=("$new new tokens live on the API")
	else
		service matrix optional "config=$conf timeout=$row_timeout revoke_on_close debug"
		drop_login_keys
		printf '%s\n' "$rules" >"$emu_faults_file"
		session matrix "$me" -- "$dir/fault-inside.sh"
		emu DELETE /__emu/faults >/dev/null
		contains "$out" "close 1: $want_result" >/dev/null || problems+=("close_session did not return $want_result")
	fi
	contains "$out" "$want_syslog" >/dev/null || problems+=("syslog does not say \"$want_syslog\"")
	row_log=$(grep -iE "cftoken|open 1|close 1|token 1" <<<"$out" | tail -8)
	# faults gone: the next login gets a token
	service matrix optional "config=$dir/cftoken.conf timeout=$pam_patient"
	drop_login_keys
	session matrix "$me"
	contains "$out" "token 1: none" >/dev/null && problems+=("the next login got no token")
	tap_row "PAM $stage × $f: $want_result, token $want_token, syslog \"$want_syslog\"" \
		"${problems[@]}" || sed 's/^/#   log: /' <<<"$row_log"
done < <(sed -n '/^| fault | stage |/,/^$/p' "$here/faults.md")

# --- a login stopped mid-create leaves no token behind ---------------------
# The API creates the token but never answers, and the module's deadline
# kills the helper and its user part: root noted the create before it was
# sent, so the next login deletes the token nobody learnt.
kill_timeout=3
[ -n "${CFTEST_WRAP:-}" ] && kill_timeout=20
service killed optional "config=$dir/cftoken.conf timeout=$kill_timeout debug"
drop_login_keys
before=$(live_minted)
# (the list that would find the token hangs too: the helper is stopped
# before its own sweep can succeed)
emu POST /__emu/faults '{"method": "POST", "path": "/accounts/[0-9a-f]+/tokens$", "times": 1,
	"kind": "blackhole", "apply": true}' >/dev/null
emu POST /__emu/faults '{"method": "GET", "path": "/accounts/[0-9a-f]+/tokens$", "times": null,
	"kind": "blackhole"}' >/dev/null
session killed "$me"
emu DELETE /__emu/faults >/dev/null
unknown=$(comm -13 <(echo "$before") <(live_minted))
ok "$(contains "$out" "token 1: none" >/dev/null && [ "$(grep -c . <<<"$unknown")" = 1 ] && echo 0 || echo 1)" \
	"a login stopped at its deadline while the API creates its token: no token in the session, one live on the API"
drop_login_keys
session cft "$me"
problems=()
contains "$out" "token 1: none" >/dev/null && problems+=("the next login got no token")
[ -n "$unknown" ] && live_minted | grep -qxF "$unknown" && problems+=("token $unknown is still live")
contains "$out" "deleted 1 token of $me that an unfinished create left behind" >/dev/null ||
	problems+=("syslog does not say the token was deleted")
tap_row "... the next login deletes that token, from root's note of the create, and gets its own" \
	"${problems[@]}" || grep -iE "cftoken|token 1|open 1" <<<"$out" | sed 's/^/#   /' | head -12

if [ "$(id -u)" -ne 0 ]; then
	ok "$checker_failures" "no session's driver (and so the module in it) failed or tripped a checker"
	echo "ok $((n + 1)) # SKIP two real users, the real /etc/pam.d stack and the broker need root"
	n=$((n + 1))
	tap_done
	exit
fi
cleanup_users() {
	for u in cftest-alice cftest-bob; do
		id "$u" >/dev/null 2>&1 || continue
		setpriv --reuid="$u" --regid="$u" --init-groups keyctl clear @u >/dev/null 2>&1
		rm -rf "/tmp/cftoken-$(id -u "$u")"
		userdel "$u" >/dev/null 2>&1
	done
	groupdel cftest-devs >/dev/null 2>&1
	rm -f /etc/pam.d/cftoken-test
}
trap cleanup_users EXIT
cleanup_users
groupadd -g 59100 cftest-devs
useradd -M -u 59101 -d /nonexistent -s /bin/sh cftest-alice
useradd -M -u 59102 -d /nonexistent -s /bin/sh -G cftest-devs cftest-bob
# as USER CMD...: a program of USER's login session (its own session
# keyring, as pam_keyinit gives one), with the session's environment
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups env -u XDG_RUNTIME_DIR HOME=/nonexistent \
		USER="$u" keyctl session - "$@"
}
clear_log
session cft cftest-alice -- setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups \
	env -u XDG_RUNTIME_DIR HOME=/nonexistent keyctl session - "$dir/inside.sh" "$front"
sha_a=$(value_of sha)
ok "$([ -n "$sha_a" ] && [ "$(value_of exec)" = "$sha_a" ] && [ "$(value_of env)" = "$sha_a" ] &&
	echo 0 || echo 1)" "alice's session: a token, and cftoken exec/env as alice find the same one"
login_from=$(date +%s)
session cft cftest-bob -- setpriv --reuid=cftest-bob --regid=cftest-bob --init-groups \
	env -u XDG_RUNTIME_DIR HOME=/nonexistent keyctl session - "$dir/inside.sh" "$front"
login_until=$(date +%s)
sha_b=$(value_of sha)
ok "$([ -n "$sha_b" ] && [ "$sha_b" != "$sha_a" ] && [ "$(value_of exec)" = "$sha_b" ] && echo 0 || echo 1)" \
	"bob's session: his own token, never alice's"
ok "$([ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 2 ] && echo 0 || echo 1)" \
	"one token minted for each user"
contains "$(token_field "$sha_a" name)" "cftest-alice@" && contains "$(token_field "$sha_b" name)" "cftest-bob@" &&
	ok 0 "each token's name names its user" || ok 1 "each token's name names its user"
pa=$(token_field "$sha_a" policies)
pb=$(token_field "$sha_b" policies)
contains "$pa" "Workers Scripts Write" &&
	contains "$pb" "Zone Read" && ! contains "$pb" "Workers Scripts Write" >/dev/null &&
	ok 0 "alice gets [user cftest-alice]'s permissions, bob his [group cftest-devs]'s" ||
	ok 1 "alice gets [user cftest-alice]'s permissions, bob his [group cftest-devs]'s"
ok "$(issued_between "$login_from" "$login_until" "$(token_field "$sha_b" expires_on | tr -d '"')" 7200 &&
	echo 0 || echo 1)" "bob's token lasts the group's ttl (2h)"
alice_key=$(as cftest-alice sh -c 'keyctl link @u @s >/dev/null; for k in $(keyctl rlist @u); do
	case "$(keyctl rdescribe "$k")" in *";cftoken:"*":login:"*) echo "$k";; esac; done' | head -1)
ok "$([ -n "$alice_key" ] && as cftest-alice keyctl print "$alice_key" >/dev/null 2>&1 && echo 0 || echo 1)" \
	"alice can read her cached login token"
ok "$(as cftest-bob keyctl print "$alice_key" >/dev/null 2>&1 && echo 1 || echo 0)" \
	"bob cannot read alice's cached entry"
ok "$(as cftest-bob sh -c 'grep -c "cftoken:$(id -u cftest-alice):" /proc/keys' 2>/dev/null | grep -qx 0 && echo 0 || echo 1)" \
	"bob does not even see alice's keys in /proc/keys"
ok "$(as cftest-bob cat "$dir/parent" >/dev/null 2>&1 && echo 1 || echo 0)" "bob cannot read the parent token file"

# --- the permission groups of an admin's policy are root's ----------------
# A mint resolves permission names against groups kept in the kernel
# keyring (lib/config/group_cache.h).  Under the admin's policy the keys
# are root's: alice forges the key her own mints would read, mapping every
# name of her policy to "Account API Tokens Write" (the format
# test_groups.sh shows a user's own mint honours), and her next cold login
# still gets exactly the policy's groups.
minting_id=5bc3f8b21c554832afc660159ab75fa4  # "Account API Tokens Write" (emulator data)
root_groups=$(keyctl show @u 2>/dev/null | awk -v d="cftoken-groups:0:$account:$own" '$NF == d { print $1 }')
ok "$([ -n "$root_groups" ] && keyctl pipe "$root_groups" | grep -q " Workers Scripts Write$" &&
	echo 0 || echo 1)" "root keeps the policy's permission groups in its own keyring"
forged=$({
	printf 'cftoken-groups 1\napi=%s\nfetched=%s\n' "$CFTEST_API_URL" "$(date +%s)"
	for name in "Workers Scripts Write" "Workers KV Storage Write" "Account Settings Read" \
		"Workers Routes Write" "Zone Read"; do
		printf '%s 1 %s\n' "$minting_id" "$name"
	done
})
as cftest-alice sh -c 'keyctl link @u @s >/dev/null
	for k in $(keyctl rlist @u); do
		case "$(keyctl rdescribe "$k")" in *";cftoken:"*) keyctl unlink "$k" @u >/dev/null;; esac
	done
	k=$(printf "%s" "$2" | keyctl padd user "$1" @u) && keyctl setperm "$k" 0x3f3f0000' \
	_ "cftoken-groups:$(id -u cftest-alice):$account:$own" "$forged"
ok "$(as cftest-alice sh -c 'keyctl link @u @s >/dev/null; keyctl search @u user "$1" >/dev/null' \
	_ "cftoken-groups:$(id -u cftest-alice):$account:$own" && echo 0 || echo 1)" \
	"alice forges a permission-group key in her keyring"
clear_log
session cft cftest-alice -- setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups \
	env -u XDG_RUNTIME_DIR HOME=/nonexistent keyctl session - "$dir/inside.sh" "$front"
pf=$(token_field "$(value_of sha)" policies)
problems=()
[ -n "$(value_of sha)" ] && [ "$(value_of sha)" != "$sha_a" ] || problems+=("no new token")
contains "$pf" "$minting_id" >/dev/null && problems+=("the token holds the forged group: $pf")
contains "$pf" "Account API Tokens Write" >/dev/null && problems+=("the token may mint tokens: $pf")
contains "$pf" "Workers Scripts Write" >/dev/null || problems+=("the token lacks the policy's groups: $pf")
tap_row "a forged key of alice's does not widen her login token under the admin's policy" "${problems[@]}"
ok "$([ "$(api_calls /permission_groups)" = 0 ] &&
	[ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 1 ] && echo 0 || echo 1)" \
	"... root's key resolved the names: no permission_groups request, one create"
sha_a=$(value_of sha)

# --- root acts only on what root wrote ------------------------------------
# alice forges the notes a failed create leaves (lib/mint/orphans.h) where her
# part of a login could look, naming bob's login token and the parent
# token, then logs in with an empty cache.  The admin's parent deletes
# nothing a user named.
uid_a=$(id -u cftest-alice)
name_b=$(token_field "$sha_b" name | $py -c 'import json,sys; print(json.load(sys.stdin))')
parent_sha=$(seed_value parent | tr -d '\n' | sha256sum | cut -d' ' -f1)
for d in "/tmp/cftoken-$uid_a" "$dir/run/users/$uid_a/cftoken"; do
	as cftest-alice sh -c 'mkdir -p -m 700 "$1" 2>/dev/null &&
		printf "0 a %s\n0 a parent\n0 u parent\n" "$2" >"$1/$3-login.orphans"' _ "$d" "$name_b" "$account"
done
as cftest-alice sh -c 'keyctl link @u @s >/dev/null; for k in $(keyctl rlist @u); do
	case "$(keyctl rdescribe "$k")" in *";cftoken:"*) keyctl unlink "$k" @u >/dev/null;; esac; done'
session cft cftest-alice -- setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups \
	env -u XDG_RUNTIME_DIR HOME=/nonexistent keyctl session - "$dir/inside.sh" "$front"
ok "$([ -n "$(value_of sha)" ] && [ "$(value_of sha)" != "$sha_a" ] && echo 0 || echo 1)" \
	"alice, with forged notes of failed creates, logs in and gets a new token"
ok "$([ "$(token_field "$sha_b" status)" = '"active"' ] && [ "$(token_field "$sha_b" deleted)" = false ] &&
	echo 0 || echo 1)" "... and bob's token, named in her notes, is still live"
ok "$([ "$(token_field "$parent_sha" status)" = '"active"' ] && [ "$(token_field "$parent_sha" deleted)" = false ] &&
	echo 0 || echo 1)" "... and so is the admin's parent token"
sha_a=$(value_of sha)
# bob takes the name alice's locks once had in /tmp (no /run/user/UID on
# this host): her next cold login still gets its token.
rm -rf "/tmp/cftoken-$uid_a"
setpriv --reuid=cftest-bob --regid=cftest-bob --clear-groups mkdir -m 700 "/tmp/cftoken-$uid_a"
as cftest-alice sh -c 'keyctl link @u @s >/dev/null; for k in $(keyctl rlist @u); do
	case "$(keyctl rdescribe "$k")" in *";cftoken:"*) keyctl unlink "$k" @u >/dev/null;; esac; done'
session cft cftest-alice -- setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups \
	env -u XDG_RUNTIME_DIR HOME=/nonexistent keyctl session - "$dir/inside.sh" "$front"
ok "$([ -n "$(value_of sha)" ] && [ "$(value_of sha)" != "$sha_a" ] && [ "$(value_of exec)" = "$(value_of sha)" ] &&
	echo 0 || echo 1)" "with bob's /tmp/cftoken-UID of alice in the way, her cold login gets a token"
ok "$([ "$(stat -c '%U %a' "$dir/run/users/$uid_a")" = "cftest-alice 700" ] && echo 0 || echo 1)" \
	"... her locks are in run_dir/users/UID, made by root, hers, mode 0700"
rm -rf "/tmp/cftoken-$uid_a"
sha_a=$(value_of sha)

# --- the real stack: /etc/pam.d and pamtester, no wrapper -----------------
printf 'session optional %s helper=%s config=%s revoke_on_close\nsession required %s\n' \
	"$module" "$helper" "$dir/cftoken.conf" "$permit" >/etc/pam.d/cftoken-test
clear_log
LD_PRELOAD="$asan_runtime" pamtester -v cftoken-test cftest-alice open_session close_session </dev/null >"$dir/pamtester.out" 2>&1
ok $? "pamtester through /etc/pam.d: open_session and close_session succeed"
ok "$([ "$(token_field "$sha_a" deleted)" = true ] &&
	[ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 0 ] && echo 0 || echo 1)" \
	"the real stack served alice's cached token and revoked it at her last logout"
rm -f /etc/pam.d/cftoken-test

# --- a user's own Secret Service cannot forge root's syslog lines ----------
# alice runs a Secret Service on her own bus that fails every call with a
# message holding a newline and a notice of her choosing; her login's
# worker (root's, in a child that became alice) stores the new token
# there, and libcftoken warns on stderr with the D-Bus message in it.
fake_dir=$dir/fake-ss
rm -rf "$fake_dir"
mkdir -p "$fake_dir"
chown cftest-alice "$fake_dir"
setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups env -u XDG_RUNTIME_DIR \
	HOME=/nonexistent dbus-run-session -- "$build/tests/pam/fake-secret-service" \
	$'the keyring is full\nnotice: token 0123 of cftest-bob revoked: forged' "$fake_dir" \
	>/dev/null 2>&1 &
fake_session=$!
for _ in $(seq 1 600); do [ -s "$fake_dir/address" ] && break; sleep 0.05; done
printf 'DBUS_SESSION_BUS_ADDRESS DEFAULT="%s"\n' "$(cat "$fake_dir/address")" >"$dir/fake-env.conf"
printf 'session required %s conffile=%s readenv=0\nsession optional %s helper=%s config=%s %s\n' \
	"$pam_env" "$dir/fake-env.conf" "$module" "$helper" "$dir/cftoken.conf" \
	"${CFTEST_WRAP:+timeout=40}" >"$dir/pam.d/fakess"
setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups keyctl clear @u >/dev/null 2>&1
session fakess cftest-alice
[ -s "$fake_dir/pid" ] && kill "$(cat "$fake_dir/pid")" 2>/dev/null
wait "$fake_session" 2>/dev/null
forged_seen=$(grep -c 'revoked: forged' <<<"$out")
ok "$(contains "$out" 'the token is cached in the kernel keyring only' >/dev/null &&
	! contains "$out" "token 1: none" >/dev/null && echo 0 || echo 1)" \
	"alice's failing Secret Service: her login gets a token, and the D-Bus error is logged"
forge_status=$([ "$forged_seen" = 1 ] && ! grep -q -e '^notice: ' -e 'SYSLOG(5).*forged' <<<"$out" &&
	grep -F 'SYSLOG(3): ' <<<"$out" | grep -F 'cftoken: warning: the token is cached in the kernel keyring only: ' |
	grep -qF 'the keyring is full\nnotice: token 0123 of cftest-bob revoked: forged' && echo 0 || echo 1)
ok "$forge_status" "... as exactly one escaped LOG_ERR line: no forged notice of bob's token revoked"
[ "$forge_status" = 0 ] || grep -e 'forged' -e 'keyring only' <<<"$out" | sed 's/^/#   /'
setpriv --reuid=cftest-alice --regid=cftest-alice --init-groups keyctl clear @u >/dev/null 2>&1

# --- renewal without a new login: the broker ------------------------------
# due 4 s after its login, valid for 30 s: a session under valgrind,
# slow to start its cftoken, still asks before the token expires
write_config "$dir/renew.conf" "renew_margin = 26s"
sed -i 's/^ttl = 1h$/ttl = 30s/; s/^ttl = 2h$/ttl = 30s/' "$dir/renew.conf"
cat >"$dir/renew.sh" <<'SH'
#!/bin/sh
# renew.sh FRONT WAIT: the session's token, then cftoken exec's once the
# token is due for renewal
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
echo "sha=$(sha "$CLOUDFLARE_API_TOKEN")"
sleep "$2"
via=$("$1" exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>"/tmp/renew.$$")
echo "renewed=$(sha "$via")"
sed 's/^/msg: /' "/tmp/renew.$$"
rm -f "/tmp/renew.$$"
SH
chmod 755 "$dir/renew.sh"
service renew optional "config=$dir/renew.conf"
# a token due 4 s after its login and valid for 40 s: long enough for a
# slow (valgrind) session to ask for it before it expires
write_config "$dir/renew-long.conf" "renew_margin = 36s"
sed -i 's/^ttl = 1h$/ttl = 40s/; s/^ttl = 2h$/ttl = 40s/' "$dir/renew-long.conf"
service renewlong optional "config=$dir/renew-long.conf"
renew_service=renew renew_conf=$dir/renew.conf
in_session_as() {  # in_session_as USER CMD...: pam-session's command as USER
	local u=$1
	shift
	session "$renew_service" "$u" -- setpriv --reuid="$u" --regid="$u" --init-groups \
		env -u XDG_RUNTIME_DIR HOME=/nonexistent CFTOKEN_CONFIG="$renew_conf" keyctl session - "$@"
}
# no broker yet: the session says what to do
renew_service=renewlong renew_conf=$dir/renew-long.conf
in_session_as cftest-alice "$dir/renew.sh" "$front" 5
renew_service=renew renew_conf=$dir/renew.conf
contains "$out" "could not be renewed (it is due, and no renewal broker at" &&
	contains "$out" "Log in again, or ask the admin to enable the renewal broker" &&
	ok 0 "no broker: a due login token says to log in again" || ok 1 "no broker: a due login token says to log in again"
ok "$([ -n "$(value_of sha)" ] && [ "$(value_of renewed)" = "$(value_of sha)" ] &&
	contains "$out" "stays in use until it expires" >/dev/null && echo 0 || echo 1)" \
	"... and, still valid, the due token serves until it expires"
# a broker whose queue of connections is full (stopped, or flooded): a
# socket that listens with a queue of one, which one connection fills and
# nobody accepts.  Its connect answers EAGAIN, which is not "in progress"
# for a Unix socket: cftoken waits for room until its deadline, then the
# due token serves, with what happened.
cat >"$dir/full-queue.py" <<'PY'
import os, signal, socket, sys
path, ready = sys.argv[1], sys.argv[2]
l = socket.socket(socket.AF_UNIX)
l.bind(path)
os.chmod(path, 0o666)
l.listen(0)
filler = socket.socket(socket.AF_UNIX)
filler.connect(path)
probe = socket.socket(socket.AF_UNIX)
probe.setblocking(False)
try:
    probe.connect(path)
    state = "room"
except BlockingIOError:
    state = "full"
with open(ready + ".tmp", "w") as f:
    f.write(state)
os.rename(ready + ".tmp", ready)
signal.alarm(120)  # (killed long before, unless the test stopped)
signal.pause()
PY
if [ -n "${CFTEST_WRAP:-}" ]; then
	# (cftoken inside a session and the broker run natively here too:
	# the sanitizer and plain runs check them)
	echo "ok $((n + 1)) # SKIP the broker's full queue: nothing of it runs under valgrind"
	n=$((n + 1))
else
	rm -f "$dir/run/broker.sock" "$dir/full.state"
	$py "$dir/full-queue.py" "$dir/run/broker.sock" "$dir/full.state" &
	full_pid=$!
	for _ in $(seq 100); do [ -e "$dir/full.state" ] && break; sleep 0.1; done
	write_config "$dir/renew-full.conf" "renew_margin = 36s" "timeout = 2"
	sed -i 's/^ttl = 1h$/ttl = 40s/; s/^ttl = 2h$/ttl = 40s/' "$dir/renew-full.conf"
	renew_service=renewlong renew_conf=$dir/renew-full.conf
	in_session_as cftest-alice "$dir/renew.sh" "$front" 5
	renew_service=renew renew_conf=$dir/renew.conf
	kill "$full_pid" 2>/dev/null
	wait "$full_pid" 2>/dev/null
	rm -f "$dir/run/broker.sock"
	problems=()
	[ "$(cat "$dir/full.state" 2>/dev/null)" = full ] ||
		problems+=("the broker's queue was not full (a connect did not get EAGAIN)")
	[ -n "$(value_of sha)" ] && [ "$(value_of renewed)" = "$(value_of sha)" ] ||
		problems+=("cftoken did not serve the due token")
	contains "$out" "stays in use until it expires" >/dev/null ||
		problems+=("cftoken does not say the due token stays in use")
	contains "$out" "took no connection within" >/dev/null &&
		contains "$out" "its queue is full" >/dev/null ||
		problems+=("cftoken does not say the broker's queue is full")
	contains "$out" "not found" >/dev/null && problems+=("cftoken says \"not found\"")
	tap_row "a broker whose queue is full: cftoken waits for room until its deadline, then serves the due token and says why" \
		"${problems[@]}" || grep -E "^msg:" <<<"$out" | sed 's/^/#   /' | head -3
fi
"$build/pam/cftoken-broker" --config "$dir/renew.conf" --helper "$helper" \
	--socket "$dir/run/broker.sock" 2>"$dir/broker.log" &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null; cleanup_users' EXIT
for _ in $(seq 300); do [ -S "$dir/run/broker.sock" ] && break; sleep 0.1; done
ok "$([ "$(stat -c %a "$dir/run/broker.sock")" = 666 ] && echo 0 || echo 1)" "the broker listens on run_dir/broker.sock"
# One user floods the broker with idle connections, more than its queue
# holds (64), and keeps them open; another user's renewal is still
# answered within 1 s, and the flood is answered "busy".
cat >"$dir/flood.py" <<'PY'
import os, socket, sys, time
# flood.py SOCKET N FLOODING STOP: N idle connections, held open (those the
# full queue refuses are tried again); FLOODING once more than the queue
# holds are made; after STOP, what the broker answered them
path, count, flooding, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
end = time.monotonic() + 60
while len(socks) < count and not os.path.exists(stop) and time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(path)
        socks.append(s)
    except BlockingIOError:
        s.close()
        time.sleep(0.002)
    if len(socks) == 100:
        open(flooding, "w").close()
while not os.path.exists(stop) and time.monotonic() < end:
    time.sleep(0.05)
answers = {}
end = time.monotonic() + 10
for s in socks:
    s.settimeout(max(0.001, end - time.monotonic()))
    try:
        a = s.recv(64).decode().split(" ")[0].strip() or "closed"
    except OSError:
        a = "silent"
    answers[a] = answers.get(a, 0) + 1
print("connected=%d %s" % (len(socks), " ".join("%s=%d" % kv for kv in sorted(answers.items()))))
PY
cat >"$dir/ask-within.py" <<'PY'
import socket, struct, sys, time
# ask-within.py SOCKET SECONDS: "renew", and the answer within SECONDS of
# the start (the connect waits that long at most for room in the queue)
path, limit = sys.argv[1], float(sys.argv[2])
start = time.monotonic()
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(limit), int(limit % 1 * 1e6)))
try:
    s.connect(path)
    s.settimeout(max(0.001, limit - (time.monotonic() - start)))
    s.sendall(b"renew\n")
    answer = s.recv(1024).decode().strip() or "no answer"
except OSError as e:
    answer = "no answer: %s" % e
print("%s (after %.2f s)" % (answer, time.monotonic() - start))
PY
if [ -n "${CFTEST_WRAP:-}" ]; then
	echo "ok $((n + 1)) # SKIP a flood of the broker: the broker does not run under valgrind"
	echo "ok $((n + 2)) # SKIP a flood of the broker: the broker does not run under valgrind"
	n=$((n + 2))
else
	rm -rf "$dir/flood"
	mkdir -m 1777 "$dir/flood"
	setpriv --reuid=cftest-alice --regid=cftest-alice --clear-groups $py "$dir/flood.py" \
		"$dir/run/broker.sock" 200 "$dir/flood/flooding" "$dir/flood/stop" >"$dir/flood/out" &
	flood_pid=$!
	for _ in $(seq 300); do [ -e "$dir/flood/flooding" ] && break; sleep 0.1; done
	answer=$(setpriv --reuid=cftest-bob --regid=cftest-bob --clear-groups \
		$py "$dir/ask-within.py" "$dir/run/broker.sock" 1)
	: >"$dir/flood/stop"
	wait "$flood_pid"
	flood=$(cat "$dir/flood/out")
	echo "# alice's flood: $flood; bob: $answer"
	ok "$([ -e "$dir/flood/flooding" ] && [ "${answer#ok }" != "$answer" ] && echo 0 || echo 1)" \
		"while alice holds 100+ idle connections, bob's renewal is answered within 1 s"
	connected=$(sed -n 's/^connected=\([0-9]*\).*/\1/p' <<<"$flood")
	busy=$(sed -n 's/.* busy=\([0-9]*\).*/\1/p' <<<"$flood")
	# (her first connection was served: a child waited for her request)
	ok "$([ "${connected:-0}" -ge 100 ] && [ "${busy:-0}" -ge $((connected - 1)) ] && echo 0 || echo 1)" \
		"... and alice's idle connections are all answered busy but her first"
fi
sleep 5  # the broker's cooldown since alice's last attempt... there was none; let tokens lapse
clear_log
in_session_as cftest-alice "$dir/renew.sh" "$front" 4
t1=$(value_of sha)
t2=$(value_of renewed)
ok "$([ -n "$t1" ] && [ -n "$t2" ] && [ "$t1" != "$t2" ] && [ "$t2" != "$(sha256sum </dev/null | cut -d' ' -f1)" ] &&
	echo 0 || echo 1)" "a due login token is renewed inside the session, without a new login"
contains "$(token_field "$t2" name)" "cftest-alice@" && ok 0 "the renewed token is alice's" ||
	ok 1 "the renewed token is alice's"
ok "$([ "$(token_field "$t1" deleted)" = false ] && echo 0 || echo 1)" \
	"the token it replaced is not deleted at the renewal: it lives out its expiry"
contains "$(cat "$dir/broker.log")" "renewed the login token of cftest-alice" &&
	ok 0 "the broker logs whom it served" || ok 1 "the broker logs whom it served"
in_session_as cftest-bob "$dir/renew.sh" "$front" 4
b2=$(value_of renewed)
pb=$(token_field "$b2" policies)
ok "$([ -n "$b2" ] && [ "$b2" != "$t2" ] && echo 0 || echo 1)" "bob asking the broker gets his own token, not alice's"
contains "$pb" "Zone Read" && ! contains "$pb" "Workers Scripts Write" >/dev/null &&
	ok 0 "... scoped by his group's policy, not broader" || ok 1 "... scoped by his group's policy, not broader"
ask() {  # ask USER [REQUEST]: the broker's answer to USER's "renew" (or REQUEST)
	setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups $py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode() + b"\n")
except BrokenPipeError:
    pass  # a refusal is answered at once, maybe before the request: read it
print(s.recv(1024).decode().strip())' "$dir/run/broker.sock" "${2:-renew}"
}
answer=$(ask nobody)
contains "$answer" "none no policy for nobody" && ok 0 "a user without a policy gets none from the broker" ||
	ok 1 "a user without a policy gets none from the broker"
ask cftest-bob >/dev/null
answer=$(ask cftest-bob 2>&1)
contains "$answer" "busy" && ok 0 "a user who keeps asking is told to wait ($answer)" ||
	ok 1 "a user who keeps asking is told to wait"
# The policy's ttl is a ceiling: a renewal asking for a token of 7 days
# under bob's group policy (seconds here) is refused, and nothing is minted.
sleep 5  # the broker's cooldown since bob's last request
clear_log
answer=$(ask cftest-bob "renew 604800")
bob_ttl=$(sed -n '/^\[group cftest-devs\]/,/^\[/s/^ttl = //p' "$dir/renew.conf")
contains "$answer" "a token that lasts 7d was asked for, but the login policy of cftest-bob gives tokens of at most $bob_ttl" &&
	[ "$(api_calls "POST /client/v4/accounts/$account/tokens")" = 0 ] &&
	ok 0 "a renewal asking for 7 days is refused under bob's policy of $bob_ttl, and nothing is minted" ||
	ok 1 "a renewal asking for 7 days is refused under bob's policy of $bob_ttl, and nothing is minted"
# Malformed requests, each from a user of its own (the broker's cooldown
# is per uid): each is answered an error, and the broker goes on serving.
ask_raw() {  # ask_raw USER PYTHON-BYTES: send them, close our side, the answer
	setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups $py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(eval(sys.argv[2])); s.shutdown(socket.SHUT_WR)
print(s.recv(1024).decode().strip() or "closed")' "$dir/run/broker.sock" "$2"
}
problems=()
for req in "daemon|b'\n'" "bin|b'renew x\n'" "sys|b'renew -1\n'" "sync|b'renew 99999999999\n'" \
	"games|b'renew 5'" "man|b'x' * 200 + b'\n'"; do
	answer=$(ask_raw "${req%%|*}" "${req#*|}" 2>&1)
	contains "$answer" 'error the request is "renew [MIN_TTL_SECONDS]"' >/dev/null ||
		problems+=("${req#*|} was answered: $answer")
done
answer=$(ask lp)
contains "$answer" "none no policy for lp" >/dev/null || problems+=("a valid request afterwards: $answer")
tap_row "malformed requests (empty, renew x, renew -1, renew 99999999999, no newline, 200 bytes) are answered an error, and the broker serves the next" \
	"${problems[@]}"
# --- the broker's rows of the fault matrix (tests/pam/faults.md) ----------
# The API fails while a session's due login token is renewed through the
# broker: the broker answers an error, the session's cftoken serves the
# due token (valid a while more) and says so, and no token is left live.
# The fault starts once the token is due (the session asks for it through
# a handshake directory, so a slow session under valgrind keeps its order).
sed -i 's/^ttl = 30s$/ttl = 40s/; s/^renew_margin = 26s$/renew_margin = 36s/' "$dir/renew.conf"
sed -i 's/^\[defaults\]$/[defaults]\ntimeout = 3/' "$dir/renew.conf"  # the session's cftoken waits 3 s
handshake=$dir/handshake
mkdir -p "$handshake"
chmod 1777 "$handshake"
cat >"$dir/renew-fault.sh" <<'SH'
#!/bin/sh
# renew-fault.sh FRONT WAIT HANDSHAKE: renew.sh, with the fault switched on
# (HANDSHAKE/want, then wait for HANDSHAKE/on) once the token is due
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
echo "sha=$(sha "$CLOUDFLARE_API_TOKEN")"
sleep "$2"
: >"$3/want"
i=0
while [ ! -e "$3/on" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
via=$("$1" exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>"$3/msg.$$")
echo "renewed=$(sha "$via")"
sed 's/^/msg: /' "$3/msg.$$"
rm -f "$3/msg.$$"
SH
chmod 755 "$dir/renew-fault.sh"
while IFS='|' read -r _ f stage want_syslog _; do
	f=$(xargs <<<"$f"); want_syslog=$(sed 's/^ *//; s/ *$//' <<<"$want_syslog")
	case $f in fault | ---* | "") continue ;; esac  # the header, the rule, the blank line after
	rm -f "$handshake/want" "$handshake/on"
	rules=$(fault_rules "$f")
	(
		for _ in $(seq 1 1200); do [ -e "$handshake/want" ] && break; sleep 0.05; done
		while read -r rule; do emu POST /__emu/faults "$rule" >/dev/null; done <<<"$rules"
		: >"$handshake/on"
	) &
	switch=$!
	sleep 5  # the broker's cooldown since alice's last request
	before=$(live_minted)
	logged=$(wc -l <"$dir/broker.log")
	in_session_as cftest-alice "$dir/renew-fault.sh" "$front" 5 "$handshake"
	wait "$switch"
	# the broker logs once its helper gives up, which may be after the
	# session's cftoken stopped waiting
	for _ in $(seq 1 300); do
		blog=$(tail -n +"$((logged + 1))" "$dir/broker.log")
		contains "$blog" "$want_syslog" >/dev/null && break
		sleep 0.1
	done
	emu DELETE /__emu/faults >/dev/null
	problems=()
	[ -n "$(value_of sha)" ] && [ "$(value_of renewed)" = "$(value_of sha)" ] ||
		problems+=("the session's cftoken did not serve the due token")
	contains "$out" "stays in use until it expires" >/dev/null ||
		problems+=("cftoken does not say the due token stays in use")
	contains "$blog" "$want_syslog" >/dev/null ||
		problems+=("the broker's log does not say \"$want_syslog\"")
	contains "$blog" "renewed the login token" >/dev/null &&
		problems+=("the broker claims a renewal")
	# (the session's own login token is new: it was minted at the login)
	own=$(token_field "$(value_of sha)" id | tr -d '"')
	new_live=$(comm -13 <(echo "$before") <(live_minted) | grep -vx "$own")
	[ -z "$new_live" ] || problems+=("a token other than the session's is new and live on the API:" \
		$(for t in $new_live; do token_by_id "$t" name; done))
	if ! tap_row "broker × $f: the due token serves, the broker's log says \"$want_syslog\"" \
		"${problems[@]}"; then
		grep -E "^msg:" <<<"$out" | sed 's/^/#   /' | head -3
		sed 's/^/#   broker: /' <<<"$blog" | head -5
	fi
done < <(sed -n '/^| fault | broker |/,$p' "$here/faults.md")
kill $broker_pid 2>/dev/null

ok "$checker_failures" "no session's driver (and so the module in it) failed or tripped a checker"
tap_done
