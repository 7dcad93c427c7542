#!/bin/bash
# L2 with a real gnome-keyring-daemon in a private dbus-run-session: a mint
# fills both levels; an L1 miss is answered from L2 by cftoken-l2 with no
# API call and no heavy library, and refills L1; after a simulated reboot
# (no kernel keys at all) tokens and the parent token come from L2; erase,
# revoke, roll and logout keep both levels right; a locked collection fails
# fast and mints nothing; without a session bus auto falls back to the
# kernel keyring while cache = secret-service says why it cannot.
#   test_secret_service.sh BUILD_DIR     (run under with-emulator.sh)
set -u
if [ -z "${CFTEST_IN_BUS:-}" ]; then
	export CFTEST_IN_BUS=1 HOME=$CFTEST_WORK/home
	mkdir -p "$HOME"
	# a private bus and a new anonymous session keyring (in_test_session's,
	# inside the bus)
	exec dbus-run-session -- keyctl session - "$0" "$@" 2> >(grep -v 'fd limit' >&2)
fi
. "$(dirname "$0")/preamble.sh"
build=$1
front=$build/helper/cftoken
creates() { $CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["method"] == "POST" and e["path"].endswith("/tokens")))'; }

echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
test_workdir l2
cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
profile = deploy
[profile deploy]
preset = workers-deploy
ttl = 1h
CONF
req=$'protocol=https\nhost=api.cloudflare.com\n\n'
out=$(seed_value parent | cftoken login)
contains "$out" "and the Secret Service" ; ok $? "login keeps the parent token in the Secret Service too"
l1_desc=$(printf 'cftoken:%s:%s:deploy:' "$(id -u)" "$account")
# The live L1 key (an invalidated one lingers in listings until collected).
l1_key() {
	local hex
	hex=$(awk -v d="$l1_desc:" 'index($0, d) && $2 !~ /[iRD]/ {print $1; exit}' /proc/keys)
	[ -n "$hex" ] && echo $((16#$hex))
}

before=$(creates)
tok=$(printf '%s' "$req" | cftoken get | password_of)
ok $([ -n "$tok" ] && [ $(($(creates) - before)) -eq 1 ]; echo $?) "a cold get mints once"
items=$(secret-tool search --all profile deploy account "$account" 2>&1)
contains "$items" "attribute.token_id = " ; ok $? "and stores an item in the Secret Service"
contains "$items" "secret = cftoken-l1 2" ; ok $? "whose secret is the cache record"
secret=$(secret-tool lookup profile deploy account "$account")
contains "$secret" "token=$tok" ; ok $? "holding the same token"
case "$items" in *"attribute."*"$tok"*) ok 1 "the token is in no attribute" ;; *) ok 0 "the token is in no attribute" ;; esac
# The token key's description ends in the same API hash as the item's
# attribute (older runs against other emulators left keys of their own).
api=$(sed -n 's/^attribute\.api = //p' <<<"$items")
l1_desc="$l1_desc$api"

keyctl invalidate "$(l1_key)"
ok $([ -z "$(l1_key)" ]; echo $?) "L1 emptied by hand"
before=$(creates)
printf '%s' "$req" >"$dir/req"
# (LeakSanitizer cannot run under ptrace)
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=execve,openat -o "$dir/strace" "$front" get <"$dir/req" >"$dir/l2.out"
again=$(password_of <"$dir/l2.out")
progs=$(grep -o 'execve("[^"]*"' "$dir/strace" | sed 's/.*\///; s/"$//' | tr '\n' ' ')
ok $([ "$progs" = "cftoken cftoken-l2 " ]; echo $?) "an L1 miss with a known route runs the front and cftoken-l2 only ($progs)"
heavy=$(grep -cE 'libcurl|libjansson|libglib|libgio|libsecret' "$dir/strace")
ok "$heavy" "which open none of libcurl, jansson, GLib, libsecret"
ok $([ "$again" = "$tok" ]; echo $?) "an L1 miss is answered from L2 with the same token"
ok $(($(creates) - before)) "without minting"
ok $([ -n "$(l1_key)" ]; echo $?) "and L1 is filled again"
keyctl invalidate "$(l1_key)"
verbose=$(cftoken --verbose exec -- true 2>&1)
contains "$verbose" "the Secret Service answers" ; ok $? "--verbose says the Secret Service backs the kernel keyring"
contains "$verbose" "from the Secret Service (L2), refilling L1" ; ok $? "and that it answered"

# L1 holds the token due for renewal while L2 holds it fresh (a kernel key
# written before a renew_margin change, say): L2 answers, nothing is
# minted or deleted, and --verbose claims no replacement.
key=$(l1_key)
keyctl pipe "$key" | sed 's/^renew_at=.*/renew_at=1/' | keyctl pupdate "$key"
# A token's id, from its value (verify reads it on standard input).
id_of_value() { printf '%s\n' "$1" | "$front" verify --token-file - | sed -n 's/^token \([0-9a-f]*\) .*/\1/p'; }
tok_id=$(id_of_value "$tok")
deletes() { $CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["method"] == "DELETE"))'; }
before=$(creates) deleted_before=$(deletes)
verbose=$(cftoken --verbose exec -- true 2>&1)
contains "$verbose" "token $tok_id from the Secret Service (L2)" ; ok $? "an L1 record due for renewal: L2 answers with its fresh copy"
case "$verbose" in *"deleted on the API"*) ok 1 "and --verbose claims no deletion (\"$verbose\")" ;;
	*) ok 0 "and --verbose claims no deletion" ;; esac
ok $(( $(creates) - before + $(deletes) - deleted_before )) "nothing was minted or deleted"
printf '%s\n' "$tok" | "$front" verify --token-file - >/dev/null 2>&1
ok $? "and the token still works"

# After a reboot the kernel keyring is empty: no parent token, no L1.  A
# token the Secret Service holds is still served, and the parent is not
# needed for that (exec's request has no route yet: the backend serves it).
parent_key=$(keyctl search "$(keyctl get_persistent @s)" user "cftoken-parent:$(id -u):$api")
keyctl invalidate "$parent_key"
keyctl invalidate "$(l1_key)"
before=$(creates)
out=$(cftoken exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>&1); rc=$?
ok $rc "with neither the parent token nor L1 (a reboot), exec succeeds"
ok $([ "$out" = "$tok" ]; echo $?) "with the token from the Secret Service"
ok $(($(creates) - before)) "without minting"
before=$(creates)
out=$(cftoken exec --min-ttl 3h -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>&1); rc=$?
ok $rc "a mint after the reboot works without a new login"
ok $([ $(($(creates) - before)) -eq 1 ]; echo $?) "with the parent token kept in the Secret Service"
keyctl search "$(keyctl get_persistent @s)" user "cftoken-parent:$(id -u):$api" >/dev/null 2>&1
ok $? "which refills the kernel keyring's copy"
tok=$out

printf 'protocol=https\nhost=api.cloudflare.com\npassword=%s\n\n' "$tok" | cftoken erase
ok $? "erase succeeds"
ok $([ -z "$(l1_key)" ]; echo $?) "erase clears L1"
ok $([ -z "$(secret-tool search --all profile deploy account "$account" 2>/dev/null)" ]; echo $?) "and L2"
before=$(creates)
fresh=$(printf '%s' "$req" | cftoken get | password_of)
ok $([ -n "$fresh" ] && [ "$fresh" != "$tok" ] && [ $(($(creates) - before)) -eq 1 ]; echo $?) "the next get mints anew"
# The searches of the Secret Service while a command runs.
watch_searches() {
	dbus-monitor --session "interface='org.freedesktop.Secret.Service',member='SearchItems'" \
		>"$dir/search.log" 2>/dev/null &
	monitor=$!
	# (the monitor is in place once the bus took its name: NameLost; a
	# bound of 10 s on a hang, not a measure)
	for _ in $(seq 1 100); do grep -q 'member=NameLost' "$dir/search.log" && break; sleep 0.1; done
}
# (the monitor may not have printed the last search when the command
# returns: a search of our own, which the bus routes after the command's,
# is in its log once everything before it is; not counted)
searches_seen() {
	secret-tool search cftest_sentinel "$BASHPID" >/dev/null 2>&1
	for _ in $(seq 1 100); do grep -q "\"$BASHPID\"" "$dir/search.log" && break; sleep 0.1; done
	kill "$monitor"; wait "$monitor" 2>/dev/null
	echo $(($(grep -c 'member=SearchItems' "$dir/search.log") - 1))
}

# git erases a refused token and asks again at once: the route remembers
# that neither level holds a token, so the get neither runs cftoken-l2
# nor searches the Secret Service before it mints.
printf 'protocol=https\nhost=api.cloudflare.com\npassword=%s\n\n' "$fresh" | cftoken erase
watch_searches
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=execve -o "$dir/strace" "$front" get <<<"$req" >"$dir/get.out"
searches=$(searches_seen)
fresh=$(password_of <"$dir/get.out")
progs=$(grep -o 'execve("[^"]*"' "$dir/strace" | sed 's/.*\///; s/"$//' | tr '\n' ' ')
ok $([ "$progs" = "cftoken cftoken-backend " ] && [ "$searches" -eq 0 ] && [ -n "$fresh" ]; echo $?) \
	"a get after erase mints without cftoken-l2 or a search of the Secret Service ($progs; $searches searches)"
ok $([ -n "$(secret-tool search --all token_id "$(id_of_value "$fresh")" 2>/dev/null)" ]; echo $?) \
	"and stores its new token there"

# A route whose token key is gone while the route does not know why (a
# purge): cftoken-l2 asks; when it finds no item, the backend mints without
# asking the Secret Service again, and stores the new token there after
# the hand-over (its answer is in L2 once get has exited).  The hint
# between the two programs reaches nothing they run.
keyctl invalidate "$(l1_key)"
secret-tool clear token_id "$(id_of_value "$fresh")"
watch_searches
fresh=$(printf '%s' "$req" | cftoken get | password_of)
env_seen=$(cftoken exec -- env)
searches=$(searches_seen)
fresh_id=$(id_of_value "$fresh")
ok $([ "$searches" -eq 1 ] && [ -n "$(secret-tool search --all token_id "$fresh_id" 2>/dev/null)" ]; echo $?) \
	"a mint after cftoken-l2's miss: one search of the Secret Service, not two; the new token stored there ($searches)"
case $env_seen in *CFTOKEN_L2_MISSED*) ok 1 "cftoken-l2's hint is in no program's environment" ;;
*) ok 0 "cftoken-l2's hint is in no program's environment" ;; esac

# revoke clears L2 as well as L1.
(umask 077; seed_value parent >"$dir/parent.token")
fresh_id=$(id_of_value "$fresh")
ok $([ -n "$(secret-tool search --all token_id "$fresh_id" 2>/dev/null)" ]; echo $?) "the Secret Service holds the token"
cftoken revoke --token-file "$dir/parent.token" "$fresh_id" >/dev/null
ok $? "revoke"
ok $([ -z "$(secret-tool search --all token_id "$fresh_id" 2>/dev/null)" ]; echo $?) "drops it from the Secret Service"
ok $([ -z "$(l1_key)" ]; echo $?) "and from the kernel keyring"
fresh=$(printf '%s' "$req" | cftoken get | password_of)
fresh_id=$(id_of_value "$fresh")
rolled=$(cftoken roll --token-file "$dir/parent.token" "$fresh_id" 2>/dev/null)
ok $([ -n "$rolled" ] && secret-tool lookup token_id "$fresh_id" | grep -qF "token=$rolled"; echo $?) \
	"roll puts the new value in the Secret Service too"

cftoken logout >/dev/null
ok $([ -z "$(secret-tool search --all api "$api" 2>/dev/null)" ]; echo $?) \
	"logout removes the parent token and the tokens from the Secret Service"
seed_value parent | cftoken login >/dev/null
printf '%s' "$req" | cftoken get >/dev/null   # a token in both levels again

# A locked collection: a clear error, fast, and no mint.
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
	--method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null
keyctl invalidate "$(l1_key)"
before=$(creates)
out=$(printf '%s' "$req" | cftoken get 2>&1); rc=$?
ok $([ $rc -ne 0 ]; echo $?) "with the collection locked, get fails"
contains "$out" "locked" ; ok $? "saying the keyring is locked"
ok $(($(creates) - before)) "and mints nothing"
# (a prompt or a hang would have run into the Secret Service's deadline,
# which says so: that, not a stopwatch, tells a hang on any machine)
case "$out" in *"did not answer in time"*) ok 1 "without waiting on the Secret Service" ;;
*) ok 0 "without waiting on the Secret Service" ;; esac
case "$out" in *password=*) ok 1 "and answers no password" ;; *) ok 0 "and answers no password" ;; esac

# No session bus: auto uses the kernel keyring; secret-service explains.
nobus=$dir/nobus
mkdir -m 700 "$nobus"
out=$(env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$nobus" "$front" exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' 2>&1); rc=$?
ok $rc "without a session bus, auto falls back to the kernel keyring"
out=$(env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$nobus" CFTOKEN_CACHE=secret-service "$front" --min-ttl 3h exec -- true 2>&1); rc=$?
ok $([ $rc -ne 0 ]; echo $?) "CFTOKEN_CACHE=secret-service without a bus fails"
contains "$out" "no session bus" ; ok $? "saying there is no session bus"

cftoken logout >/dev/null
tap_done
