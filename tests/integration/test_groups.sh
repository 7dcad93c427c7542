#!/bin/bash
# The permission groups a mint resolves against, kept in the kernel
# keyring (lib/config/group_cache.h): 20 cold mints make one
# permission_groups request; the key holds only the groups the names
# need, bounded; a name it lacks refetches once; an unknown name fails as
# without a cache, after one fetch; a damaged key is a miss; the user's own
# key decides the user's own mints; after
# permission_groups_ttl one more; 0 keeps nothing; doctor and permissions
# say the cache's age.
#   test_groups.sh BUILD_DIR        (run under with-emulator.sh)
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken
fetches() { api_calls "/permission_groups"; }
creates() { api_calls "POST /client/v4/accounts/$account/tokens"; }

test_workdir groups
# config TTL: the file with permission_groups_ttl = TTL (none: the default)
config() {
	cat <<CONF
$(defaults_section)
cache = kernel
${1:+permission_groups_ttl = $1}

[profile deploy]
permissions = Workers Scripts Write, Workers Routes Edit
hosts = deploy.example.com

[profile dns]
permissions = DNS Write
hosts = dns.example.com

[profile typo]
permissions = Workers Script Write
hosts = typo.example.com
CONF
}
config >"$CFTOKEN_CONFIG"

# cold HOST: a cold mint of the profile that serves HOST: get, then git's
# erase of what it got, so the next get of it mints again.  Status: get's.
cold() {
	local tok rc
	printf 'protocol=https\nhost=%s\n\n' "$1" | cftoken get >"$dir/cold.out" 2>"$dir/cold.err"
	rc=$?
	tok=$(password_of <"$dir/cold.out")
	[ -n "$tok" ] && printf 'protocol=https\nhost=%s\npassword=%s\n\n' "$1" "$tok" | cftoken erase
	return "$rc"
}

# The key of this test's API: other tests of this uid share @u, each with
# its own emulator, so the key is told by the API's hash that ends its name
# (with-emulator.sh), found by name, however many keys @u holds.
group_key() { keyctl search @u user "cftoken-groups:$(id -u):$account:$CFTEST_API_HASH" 2>/dev/null; }
group_names() { keyctl pipe "$(group_key)" 2>/dev/null | sed -n 's/^[0-9a-f]\{32\} [0-9]* //p' | sort -u | paste -sd ','; }

seed_value parent | cftoken login >/dev/null 2>&1
ok $? "login"

# --- 20 cold mints, one fetch ------------------------------------------------
# doctor's line on the cache
doctor_says() { cftoken doctor 2>&1 | grep "permission groups"; }
out=$(doctor_says)
contains "$out" "permission groups not cached" ; ok $? "doctor before any mint: not cached"
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
failures=0
for _ in $(seq 1 20); do cold deploy.example.com || failures=$((failures + 1)); done
f=$(fetches) c=$(creates)
ok "$([ "$failures" -eq 0 ] && [ "$c" -eq 20 ] && [ "$f" -eq 1 ] && echo 0 || echo 1)" \
	"20 cold mints in a row: 20 creates, 1 permission_groups request ($c, $f)"
key=$(group_key)
ok $? "the groups are kept in a key of the user keyring (cftoken-groups:UID:ACCOUNT:API)"
payload=$(keyctl pipe "$key" 2>/dev/null)
ok "$([ "$(group_names)" = "Workers Routes Write,Workers Scripts Write" ] && echo 0 || echo 1)" \
	"it holds only the groups the names need ($(group_names))"
contains "$payload" "fetched=" ; ok $? "and when they were fetched"
size=$(keyctl pipe "$key" | wc -c)
ok "$([ "$size" -le 3072 ] && echo 0 || echo 1)" "within 3072 bytes ($size)"
perm=$(keyctl rdescribe "$key" 2>/dev/null | cut -d';' -f4)
ok "$([ -n "$perm" ] && [ $(( (0x$perm >> 16) & 0x3f )) -eq $((0x0b)) ] && echo 0 || echo 1)" \
	"the user may view, read and search it, not write it ($perm)"
out=$(doctor_says)
contains "$out" "permission groups cached just now (2 groups), refreshed after 1d" ; ok $? \
	"doctor says the cache's age and when it is refreshed"

# --- a name the key lacks: one refetch, then both are kept ------------------
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold dns.example.com ; rc=$?
ok "$([ $rc -eq 0 ] && [ "$(fetches)" -eq 1 ] && [ "$(creates)" -eq 1 ] && echo 0 || echo 1)" \
	"a profile with a name not in the cache: one refetch, then it mints ($(fetches) fetches)"
ok "$([ "$(group_names)" = "DNS Write,Workers Routes Write,Workers Scripts Write" ] && echo 0 || echo 1)" \
	"the key keeps the new name's groups beside the others ($(group_names))"
cold dns.example.com && cold deploy.example.com
ok "$([ $? -eq 0 ] && [ "$(fetches)" -eq 1 ] && echo 0 || echo 1)" \
	"then both profiles mint with no fetch ($(fetches) fetches)"

# --- an unknown name: today's message, after one fetch ----------------------
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold typo.example.com ; rc=$?
with_cache=$(cat "$dir/cold.err")
ok "$([ $rc -ne 0 ] && [ "$(fetches)" -eq 1 ] && [ "$(creates)" -eq 0 ] && echo 0 || echo 1)" \
	"an unknown name fails after exactly one fetch, with no create ($(fetches) fetches)"
contains "$with_cache" 'closest: "Workers Scripts Write"' ; ok $? "naming the closest groups"
config 0 >"$dir/config.nocache"
CFTOKEN_CONFIG=$dir/config.nocache cold typo.example.com
without=$(cat "$dir/cold.err")
ok "$([ "$with_cache" = "$without" ] && echo 0 || echo 1)" \
	"the very message a mint without the cache gives"

# --- a damaged key is a miss, and is written anew ----------------------------
printf 'cftoken-groups 1\napi=%s\nfetched=12x\n' "$CFTEST_API_URL" | keyctl pupdate "$(group_key)"
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold deploy.example.com ; rc=$?
ok "$([ $rc -eq 0 ] && [ "$(fetches)" -eq 1 ] && echo 0 || echo 1)" \
	"a damaged key: one fetch, and the mint succeeds ($(fetches) fetches)"
ok "$([ "$(group_names)" = "Workers Routes Write,Workers Scripts Write" ] && echo 0 || echo 1)" \
	"and the key holds the groups again ($(group_names))"

# --- permissions: the full list, the cache refreshed and its age said --------
out=$(cftoken permissions 2>"$dir/perm.err"); rc=$?
lines=$(wc -l <<<"$out")
ok "$([ $rc -eq 0 ] && [ "$lines" -gt 50 ] && echo 0 || echo 1)" "permissions lists every group ($lines)"
contains "$(cat "$dir/perm.err")" "permission groups: cached just now (2 groups), refreshed after 1d" ; ok $? \
	"and says on stderr what the cache holds, refreshed from that list"

# --- the user's own key is what the user's own mints resolve against --------
# (so a forged one decides, for the user alone: under an admin's policy
# the keys are root's, tests/pam/test_pam.sh shows)
zone_read=c8fed203ed3043cba015a93ad1616f1f  # "Zone Read" (emulator data)
printf 'cftoken-groups 1\napi=%s\nfetched=%s\n%s 2 DNS Write\n' "$CFTEST_API_URL" "$(date +%s)" \
	"$zone_read" | keyctl pupdate "$(group_key)"
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold dns.example.com
last_groups() { $CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if "dns" in t["name"]]
print(" ".join(g["id"] for p in t[-1]["policies"] for g in p["permission_groups"]) if t else "")'; }
ok "$([ "$(fetches)" -eq 0 ] && [ "$(last_groups)" = "$zone_read" ] && echo 0 || echo 1)" \
	"a mint of the user's own resolves against the user's key, with no fetch ($(last_groups))"

# --- permission_groups_ttl: one more fetch once the key is gone -------------
# The key's lifetime is the setting (read in /proc/keys, so that no check
# races the key's expiry however slow the mint); it is then cut short, as
# the passing of the TTL would.
config 120 >"$CFTOKEN_CONFIG"
keyctl invalidate "$(group_key)"
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold deploy.example.com
key=$(group_key)
lifetime=$(awk -v id="$(printf '%08x' "${key:-0}")" '$1 == id { print $4 }' /proc/keys)
ok "$([ "$(fetches)" -eq 1 ] && [[ $lifetime =~ ^([0-9]+s|[12]m)$ ]] && echo 0 || echo 1)" \
	"permission_groups_ttl = 120: the groups are fetched and kept for at most 2 minutes (${lifetime:-no key})"
keyctl timeout "$key" 1
for _ in $(seq 1 100); do group_key >/dev/null || break; sleep 0.2; done
ok "$(group_key >/dev/null && echo 1 || echo 0)" "once its time is up the key is gone"
before=$(fetches)
cold deploy.example.com ; rc=$?
ok "$([ $rc -eq 0 ] && [ "$(fetches)" -eq $((before + 1)) ] && echo 0 || echo 1)" \
	"after the TTL, one more permission_groups request ($before, then $(fetches))"

config 0 >"$CFTOKEN_CONFIG"
keyctl invalidate "$(group_key)" 2>/dev/null
$CFTEST_EMUCTL DELETE /__emu/log >/dev/null
cold deploy.example.com && cold deploy.example.com
ok "$([ $? -eq 0 ] && [ "$(fetches)" -eq 2 ] && echo 0 || echo 1)" \
	"permission_groups_ttl = 0: every mint fetches ($(fetches) for 2)"
ok "$(group_key >/dev/null && echo 1 || echo 0)" "and no key is kept"
out=$(doctor_says)
contains "$out" "not cached (permission_groups_ttl = 0)" ; ok $? "doctor says why"

printf '[defaults]\npermission_groups_ttl = soon\n' >"$dir/config.bad"
out=$(CFTOKEN_CONFIG=$dir/config.bad cftoken doctor 2>&1)
contains "$out" "permission_groups_ttl" ; ok $? "a permission_groups_ttl that is no duration is refused, by name"

# forget_api, which with-emulator.sh ran before this test: it takes the
# keys of the API it is given (an earlier emulator's on this port: those of
# the user keyring, and the parent in the persistent one), and no other
# test's.
if [ -n "${CFTEST_FORGET_API:-}" ]; then
	config >"$CFTOKEN_CONFIG"
	cold deploy.example.com
	ours() { keys_ending ":$CFTEST_API_HASH" | grep -c .; }
	held=$(ours)
	"$CFTEST_FORGET_API" https://127.0.0.1:1/client/v4 2>/dev/null
	ok "$([ -n "$CFTEST_API_HASH" ] && [ "$held" -ge 2 ] && [ "$(ours)" = "$held" ] &&
		! cftoken doctor 2>&1 | grep -q "cftoken login" && echo 0 || echo 1)" \
		"forget_api of another API leaves this API's keys ($held: the groups, the token ...) and parent"
	"$CFTEST_FORGET_API" "$CFTEST_API_URL" 2>/dev/null
	ok "$([ "$(ours)" = 0 ] && cftoken doctor 2>&1 | grep -q "cftoken login" && echo 0 || echo 1)" \
		"forget_api of this API takes them all ($(ours) left), and the parent: doctor asks for cftoken login"
fi

cftoken logout >/dev/null 2>&1
tap_done
