#!/bin/bash
# The cftoken command against the emulator: create, verify, list, revoke,
# roll, and the messages and exit codes a person meets.  TAP output.
#   test_cli.sh PATH/TO/cftoken     (run under with-emulator.sh)
set -u
cftoken() { ${CFTEST_WRAP:-} "$cftoken_path" "$@"; }
cftoken_path=$1
. "$(dirname "$0")/tap.sh"
check() { local what=$1; shift; "$@" >/dev/null 2>&1; ok $? "$what"; }

account=0123456789abcdef0123456789abcdef
export CLOUDFLARE_API_BASE_URL="$CFTEST_API_URL"
export CFTOKEN_CA_FILE="$CFTEST_CA"
unset CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN

dir="$CFTEST_WORK/cli"
mkdir -p "$dir"
parent_file="$dir/parent.token"
(umask 077; seed_value parent > "$parent_file")
parent=$(cat "$parent_file")
ro_file="$dir/ro.token"
(umask 077; seed_value read-only > "$ro_file")

# verify: the token from a file, from a pipe, with --json
out=$(cftoken verify --token-file "$parent_file" 2>&1); rc=$?
ok $rc "verify with --token-file succeeds"
contains "$out" "is active" ; ok $? "and says the token is active"
contains "$out" "$account" ; ok $? "finding the only account by itself"
out=$(printf '  %s  \n' "$parent" | cftoken verify --account "$account" --json 2>&1); rc=$?
ok $rc "verify reads a padded token from a pipe"
contains "$out" '"status": "active"' ; ok $? "and prints JSON"

chmod 644 "$parent_file"
out=$(cftoken verify --token-file "$parent_file" 2>&1); rc=$?
ok $((rc != 2)) "a token file others can read is refused (exit 2)"
contains "$out" "chmod 600" ; ok $? "and the message says how to fix it"
chmod 600 "$parent_file"

out=$(echo 0123456789abcdef0123456789abcdef01234 | cftoken verify --account "$account" 2>&1); rc=$?
ok $((rc != 2)) "a Global API Key is refused (exit 2)"
contains "$out" "Global API Key" ; ok $? "by name"
case "$out" in *0123456789abcdef01234*) ok 1 "without echoing the key" ;; *) ok 0 "without echoing the key" ;; esac

# create | verify: the value travels through a pipe only
out=$(cftoken create --token-file "$parent_file" --permission "Workers Scripts Edit" \
	--permission "Zone Read" --ttl 1h --name "cli test token" 2>"$dir/create.err" \
	| cftoken verify --account "$account" 2>&1); rc=$?
ok $rc "create piped into verify succeeds"
contains "$out" "is active" ; ok $? "the new token is active"
contains "$(cat "$dir/create.err")" "created token" ; ok $? "create reports the new id on stderr"
id=$(sed -n 's/^token \([0-9a-f]\{32\}\) is active.*/\1/p' <<<"$out")
ok $(( ${#id} != 32 )) "the new token's id is known ($id)"

out=$(cftoken list --all --token-file "$parent_file" 2>&1); rc=$?
ok $rc "list --all succeeds"
contains "$out" "$id" ; ok $? "and shows the new token"
contains "$out" "cli test token" ; ok $? "by name"
contains "$out" "at most 500" ; ok $? "and the account's cap"
out=$(cftoken list --all --json --token-file "$parent_file" 2>/dev/null)
contains "$out" "\"id\": \"$id\"" ; ok $? "list --json carries the id"
cftoken create --token-file "$parent_file" --permission "Zone Read" --ttl 10m 2>"$dir/default.err" >/dev/null
did=$(sed -n 's/^created token \([0-9a-f]\{32\}\).*/\1/p' "$dir/default.err")
out=$(cftoken list --token-file "$parent_file" 2>&1)
contains "$out" "$did" ; ok $? "list shows a token cftoken named (cftoken cli USER@HOST DATE)"
case "$out" in *"$id"*) ok 1 "but not one it did not name or cache" ;; *) ok 0 "but not one it did not name or cache" ;; esac
contains "$out" "minted by cftoken" ; ok $? "and says what it counts"
cftoken revoke --token-file "$parent_file" "$did" >/dev/null 2>&1

out=$(cftoken revoke --token-file "$parent_file" "$id" 2>&1); rc=$?
ok $rc "revoke succeeds"
contains "$out" "revoked $id" ; ok $? "and says so"
out=$(cftoken revoke --token-file "$parent_file" "$id" 2>&1); rc=$?
ok $((rc != 4)) "revoking it again: not found (exit 4)"

# roll: the new value replaces the old one
cftoken create --token-file "$parent_file" --permission "Zone Read" --ttl 10m \
	--name "roll test" 2>"$dir/roll.err" >/dev/null
rid=$(sed -n 's/^created token \([0-9a-f]\{32\}\).*/\1/p' "$dir/roll.err")
out=$(cftoken roll --token-file "$parent_file" "$rid" 2>/dev/null | cftoken verify 2>&1); rc=$?
ok $rc "a rolled value verifies"
cftoken revoke --token-file "$parent_file" "$rid" >/dev/null 2>&1

# what a person meets when something is wrong
out=$(cftoken create --token-file "$parent_file" --permission "Workers Script Write" 2>&1 </dev/null); rc=$?
ok $((rc != 2)) "an unknown permission name: exit 2"
contains "$out" "Workers Scripts Write" ; ok $? "with the closest real name"
out=$(cftoken create --token-file "$parent_file" --permission "Logs Write" 2>&1); rc=$?
ok $((rc != 2)) "an ambiguous permission name: exit 2"
contains "$out" "account and zone" ; ok $? "naming both scopes"
out=$(cftoken create --token-file "$parent_file" --permission "zone:Logs Write" 2>/dev/null | cftoken verify 2>&1); rc=$?
ok $rc "zone:Logs Write picks the zone group"
# the qualifier in any case, with blanks, as the name itself may be
id=$(cftoken create --token-file "$parent_file" --permission "  Zone: logs write" 2>&1 >/dev/null |
	grep -oE '[0-9a-f]{32}' | head -1)
groups=$($CFTEST_EMUCTL GET /__emu/tokens | /usr/bin/python3 -c 'import json,sys
for t in json.load(sys.stdin):
    if t["id"] == sys.argv[1]:
        print(" ".join(g["id"] for p in t["policies"] for g in p["permission_groups"]))' "$id")
ok "$([ "$groups" = 3e0b5820118e47f3922f7c989e673882 ] && echo 0 || echo 1)" \
	"\"  Zone: logs write\" is zone:Logs Write (qualifier in any case, blanks around it)"
out=$(cftoken create --token-file "$ro_file" --permission "Zone Read" 2>&1); rc=$?
ok $((rc != 3)) "a parent that may not create tokens: exit 3"
contains "$out" "Account API Tokens Write" ; ok $? "naming the permission it needs"
case "$out" in *"$(cat "$ro_file")"*) ok 1 "without the token in the message" ;; *) ok 0 "without the token in the message" ;; esac

$CFTEST_EMUCTL POST /__emu/config '{"accounts_list_refuses_account_tokens": true}' >/dev/null
out=$(cftoken verify --token-file "$parent_file" 2>&1); rc=$?
ok $((rc != 3)) "an account token refused by GET /accounts (1001): exit 3"
contains "$out" "--account" ; ok $? "asking for --account"
out=$(CLOUDFLARE_ACCOUNT_ID=$account cftoken verify --token-file "$parent_file" 2>&1); rc=$?
ok $rc "CLOUDFLARE_ACCOUNT_ID gives the account"
$CFTEST_EMUCTL POST /__emu/config '{"accounts_list_refuses_account_tokens": false}' >/dev/null

out=$(cftoken --api-url http://127.0.0.1:1/client/v4 verify --token-file "$parent_file" 2>&1); rc=$?
ok $((rc != 2)) "a plain-HTTP API URL is refused (exit 2)"
out=$(CFTOKEN_CA_FILE= cftoken verify --token-file "$parent_file" --account "$account" 2>&1); rc=$?
ok $((rc != 1)) "an untrusted certificate: exit 1"
contains "$out" "TLS" ; ok $? "explained as a TLS failure"
# the configuration file: [defaults] api_url, ca_file and account
cat >"$dir/config" <<CONF
[defaults]
api_url = $CFTEST_API_URL   # the emulator
ca_file = $CFTEST_CA
account = $account
CONF
out=$(env -u CLOUDFLARE_API_BASE_URL -u CFTOKEN_CA_FILE CFTOKEN_CONFIG="$dir/config" \
	"$cftoken_path" verify --token-file "$parent_file" 2>&1); rc=$?
ok $rc "api_url, ca_file and account come from the configuration file"
contains "$out" "is active" ; ok $? "and the token verifies there"
printf '[defaults]\nttl = 8 hours\n' >"$dir/bad.config"
out=$(CFTOKEN_CONFIG="$dir/bad.config" "$cftoken_path" verify --token-file "$parent_file" 2>&1); rc=$?
ok $((rc != 2)) "a bad configuration file: exit 2"
contains "$out" "bad.config:2: [defaults] ttl" ; ok $? "naming the file, line and key"

# Files that are not small regular files: refused at once, never read
# whole, never waited on (a FIFO would block an open forever).  timeout
# turns a regression into a failure, not a hung suite.
limit=10
[ -n "${CFTEST_WRAP:-}" ] && limit=120
mkfifo "$dir/fifo"
truncate -s 2G "$dir/sparse"
printf '[defaults]\napi_url = %s\nca_file = %s\naccount = %s\n' "$CFTEST_API_URL" "$CFTEST_CA" \
	"$account" >"$dir/base.config"
for bad in "$dir/fifo:not a regular file (a FIFO)" "/dev/zero:not a regular file (a character device)" \
	"$dir/sparse:too large (2147483648 bytes"; do
	file=${bad%%:*} why=${bad#*:}
	out=$(CFTOKEN_CONFIG=$file timeout "$limit" "$cftoken_path" verify --token-file "$parent_file" \
		2>&1 </dev/null); rc=$?
	ok $((rc != 2)) "CFTOKEN_CONFIG=${file##*/}: exit 2 at once (got $rc)"
	contains "$out" "$why" ; ok $? "... saying it is $why"
	{ cat "$dir/base.config"; printf 'parent_token_file = %s\n' "$file"; } >"$dir/parent.config"
	out=$(env -u CLOUDFLARE_API_BASE_URL -u CFTOKEN_CA_FILE CFTOKEN_CONFIG="$dir/parent.config" \
		timeout "$limit" "$cftoken_path" list 2>&1 </dev/null); rc=$?
	ok $((rc != 2)) "parent_token_file = ${file##*/}: exit 2 at once (got $rc)"
	contains "$out" "$why" ; ok $? "... saying it is $why"
	[ "${file##*/}" = sparse ] && continue  # (a CA file may be larger than 1 MiB)
	out=$(CFTOKEN_CA_FILE=$file timeout "$limit" "$cftoken_path" verify --token-file "$parent_file" \
		2>&1 </dev/null); rc=$?
	ok $((rc != 2)) "CFTOKEN_CA_FILE=${file##*/}: exit 2 at once (got $rc)"
	contains "$out" "$why" ; ok $? "... saying it is $why"
done
rm -f "$dir/sparse"
# a configuration file that is a symlink is refused, as the system file is:
# whoever can change the link chooses the configuration
ln -s "$dir/config" "$dir/linked.config"
out=$(env -u CLOUDFLARE_API_BASE_URL -u CFTOKEN_CA_FILE CFTOKEN_CONFIG="$dir/linked.config" \
	"$cftoken_path" verify --token-file "$parent_file" 2>&1); rc=$?
ok $((rc != 2)) "a configuration file reached through a symlink is refused (exit $rc)"
contains "$out" "is not a regular file (a symbolic link)" ; ok $? "... saying so"

out=$(cftoken frobnicate 2>&1); rc=$?
ok $((rc != 2)) "an unknown command: exit 2"
out=$(cftoken verify --bogus 2>&1); rc=$?
ok $((rc != 2)) "an unknown option: exit 2"
out=$(cftoken --help 2>&1); rc=$?
ok $rc "--help succeeds"
contains "$out" "Exit status" ; ok $? "and documents the exit codes"
for cmd in get store erase capability exec env login logout doctor verify create list revoke roll accounts permissions; do
	out=$(cftoken "$cmd" --help 2>&1); rc=$?
	ok $([ $rc -eq 0 ] && case "$out" in *"Usage:"*"$cmd"*) true ;; *) false ;; esac; echo $?) "cftoken $cmd --help explains $cmd"
done

# No output of any command above carried the parent token.
leaks=$(grep -rlF "$parent" "$dir"/*.err 2>/dev/null | wc -l)
ok "$leaks" "no stderr output carries the parent token"

# Every request the command made, and every answer, followed the schema.
schema=$($CFTEST_EMUCTL GET /__emu/log | /usr/bin/python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["schema_errors"]))')
ok "$schema" "every request and answer followed the OpenAPI schema ($schema did not)"

tap_done
