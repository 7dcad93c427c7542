#!/bin/bash
# cftoken learn: a program's requests through the forwarder, made with a
# learning token (every holdable group of the table, 15 minutes, deleted
# at the end, never cached), become the least privilege, printed word for
# word; "?" rows and operations the table lacks mark it incomplete (exit
# 5); a program that fails is learned from, with a warning, and nothing
# is written; --write adds or updates [profile NAME] and keeps every
# other line; --json for scripts; the learned profile then serves the
# same requests through exec --proxy, and lacks what it did not learn.
#   test_learn.sh BUILD_DIR     (run under with-emulator.sh)
set -u
if [ -z "${CFTEST_IN_SESSION:-}" ]; then
	CFTEST_IN_SESSION=1 exec keyctl session - "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$1
front=$build/helper/cftoken
. "$here/tap.sh"
cftoken() { ${CFTEST_WRAP:-} "$front" "$@"; }
emu() { $CFTEST_EMUCTL "$@"; }

account=0123456789abcdef0123456789abcdef
zone=aaaa0000bbbb1111cccc2222dddd3333
dir=$CFTEST_WORK/learn
mkdir -p "$dir"
export XDG_RUNTIME_DIR=$dir/run CFTOKEN_CONFIG=$dir/config CFTOKEN_CACHE=kernel
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN
cat >"$CFTOKEN_CONFIG" <<CONF
# my cftoken settings
[defaults]
api_url = $CFTEST_API_URL   # the emulator
ca_file = $CFTEST_CA
account = $account

# kept as it is
[profile other]
permissions = D1 Read
ttl = 1h
CONF
chmod 600 "$CFTOKEN_CONFIG"
cp "$CFTOKEN_CONFIG" "$dir/config.before"
seed_value parent | cftoken login >/dev/null
ok $? "login"

# The program: requests of each kind, through the forwarder.
cat >"$dir/client.sh" <<'SH'
#!/bin/bash
# client.sh WHAT: the requests of one run (all, reads or fail)
base=$CLOUDFLARE_API_BASE_URL acc=$CLOUDFLARE_ACCOUNT_ID
c() { curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" "$@"; }
c "$base/accounts"
c "$base/accounts/$acc/storage/kv/namespaces?per_page=100"
case $1 in
all)
	c -X POST -H 'Content-Type: application/json' --data '{"title": "learned-ns"}' \
		"$base/accounts/$acc/storage/kv/namespaces"
	c "$base/zones/aaaa0000bbbb1111cccc2222dddd3333/workers/routes"
	c "$base/memberships"
	c "$base/accounts/$acc/r2/buckets/photos"
	c "$base/accounts/$acc/not/in/the/table" ;;
fail) exit 3 ;;
esac
exit 0
SH
chmod +x "$dir/client.sh"

# Every kind of request: learned, reported, or marking the profile incomplete.
before=$(emu GET /__emu/tokens | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
# The profile's token keys in the kernel keyrings (an earlier run's may be left).
token_keys() { { keyctl show @u; keyctl show @s; } 2>/dev/null | grep -o 'cftoken:[0-9]*:[0-9a-f]*:learned:[0-9a-f]*' | sort; }
keys_before=$(token_keys)
started=$(date +%s)
cftoken learn --profile learned -- "$dir/client.sh" all >"$dir/all.out" 2>"$dir/all.err"; rc=$?
ended=$(date +%s)
ok $((rc != 5)) "learn: exit 5 when the profile is incomplete ($rc)"
section=$(sed -n '1,/^$/p' "$dir/all.out")
want="[profile learned]
# cftoken learn: learned from $dir/client.sh all
# incomplete: cftoken's operations table does not know the groups of 2 operations the program called; they may need more
account = $account
permissions = Workers KV Storage Write, Workers Routes Read
zones = $zone"
ok $([ "$section" = "$want" ]; echo $?) "the section, word for word: the KV Write covers the list, the route read its zone"
[ "$section" = "$want" ] || diff <(printf '%s\n' "$want") <(printf '%s\n' "$section") | sed 's/^/# /'
row() { grep -E "^$1 +[0-9]+ +[0-9]+  $2\$" "$dir/all.out" >/dev/null; }
ok $(row "GET /accounts" "\(needs no group\)"; echo $?) "the table: GET /accounts needs no group"
ok $(row "GET /accounts/\{account_id\}/storage/kv/namespaces" "Workers KV Storage Write"; echo $?) \
	"the list is covered by the Write the create needs"
ok $(row "GET /memberships" "\(user-scope groups only: not learned\)"; echo $?) \
	"GET /memberships: user scope, reported, not learned"
ok $(row "GET /accounts/\{account_id\}/r2/buckets/\{bucket_name\}" "\? \(the table does not know its groups\)"; echo $?) \
	"a \"?\" row is said so"
ok $(row "GET /accounts/\{account_id\}/not/in/the/table" "\? \(not in cftoken's operations table\)"; echo $?) \
	"an operation the table lacks is said so, without the account's id"
ok $(grep -q "GET /accounts/{account_id}/r2/buckets/{bucket_name}: cftoken's operations table does not know its groups; the learned profile is incomplete" "$dir/all.err"; echo $?) \
	"stderr names each operation that makes it incomplete"
tokens=$(emu GET /__emu/tokens | $py -c '
import json, sys, datetime
t = [t for t in json.load(sys.stdin)[int(sys.argv[1]):] if t["name"].startswith("cftoken learned ")]
when = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
started, ended = int(sys.argv[2]), int(sys.argv[3])
for x in t:
    groups = sorted({g["name"] for p in x["policies"] for g in p["permission_groups"]})
    # (expires_on: the clock of cftoken at the create plus 15 minutes, the
    # create between the two readings around the command however slow)
    ends = when(x["expires_on"])
    print(x["deleted"], "15min" if started + 900 <= ends <= ended + 900 else ends - started,
          len(groups), "Account API Tokens Write" in groups, "Memberships Read" in groups)' \
	"$before" "$started" "$ended")
ok $([ "$tokens" = "True 15min 13 False False" ]; echo $?) \
	"one learning token: 15 minutes, the table's 13 holdable groups (no user scope, none that makes tokens), deleted at the end ($tokens)"
ok $([ "$(token_keys)" = "$keys_before" ]; echo $?) \
	"and never cached in the kernel keyring"
ok $(cmp -s "$CFTOKEN_CONFIG" "$dir/config.before"; echo $?) "without --write the file is untouched"

# A complete run, written: the file keeps its other lines.
cftoken learn --profile learned --write -- "$dir/client.sh" reads >"$dir/reads.out" 2>"$dir/reads.err"; rc=$?
ok $rc "learn --write: exit 0 for a complete profile"
ok $(grep -q "written to $CFTOKEN_CONFIG" "$dir/reads.err"; echo $?) "and says where it wrote"
want_file="$(cat "$dir/config.before")

[profile learned]
# cftoken learn: learned from $dir/client.sh reads
account = $account
permissions = Workers KV Storage Read"
ok $([ "$(cat "$CFTOKEN_CONFIG")" = "$want_file" ]; echo $?) \
	"the section is added at the end; every other line and comment kept"
ok $([ "$(stat -c %a "$CFTOKEN_CONFIG")" = 600 ]; echo $?) "the file keeps its mode"

# The learned profile serves the same requests, and lacks what it did not learn.
cftoken exec --proxy --profile learned -- "$dir/client.sh" reads >"$dir/serve.out" 2>"$dir/serve.err"; rc=$?
ok $([ $rc -eq 0 ] && [ "$(tr '\n' ' ' <"$dir/serve.out")" = "200 200 " ]; echo $?) \
	"exec --proxy with the learned profile: the same requests succeed"
cftoken exec --proxy --profile learned -- "$dir/client.sh" all >"$dir/more.out" 2>"$dir/more.err"
ok $(grep -qF 'cftoken: POST /accounts/{account_id}/storage/kv/namespaces needs "Workers KV Storage Write"; profile learned lacks it: add it to permissions =' "$dir/more.err"; echo $?) \
	"a request it did not learn is refused, and the 403 line names the group"

# Learned again: the section is updated in place, its other keys kept.
sed -i 's/^permissions = Workers KV Storage Read$/&\nttl = 2h   # mine/' "$CFTOKEN_CONFIG"
cftoken learn --profile learned --write -- "$dir/client.sh" all >/dev/null 2>&1; rc=$?
ok $((rc != 5)) "learn --write of an incomplete profile: written, exit 5 ($rc)"
want_file="$(cat "$dir/config.before")

[profile learned]
# cftoken learn: learned from $dir/client.sh all
# incomplete: cftoken's operations table does not know the groups of 2 operations the program called; they may need more
account = $account
permissions = Workers KV Storage Write, Workers Routes Read
zones = $zone
ttl = 2h   # mine"
ok $([ "$(cat "$CFTOKEN_CONFIG")" = "$want_file" ]; echo $?) \
	"updated in place: the learned lines replaced, the section's own ttl and comment kept"
[ "$(cat "$CFTOKEN_CONFIG")" = "$want_file" ] || diff <(printf '%s\n' "$want_file") "$CFTOKEN_CONFIG" | sed 's/^/# /'

# A program that fails: what it did is learned, with a warning; nothing written.
cp "$CFTOKEN_CONFIG" "$dir/config.kept"
cftoken learn --profile learned --write -- "$dir/client.sh" fail >"$dir/fail.out" 2>"$dir/fail.err"; rc=$?
ok $((rc != 5)) "a program that fails: exit 5 ($rc)"
# (3, or valgrind's own status when CFTEST_WRAP runs the script under it)
ok $(grep -Eq "warning: $dir/client.sh exited with status (3|99);" "$dir/fail.err" &&
	grep -q "not written: $dir/client.sh failed" "$dir/fail.err"; echo $?) \
	"with a warning naming its status, and nothing written"
ok $(grep -q "^permissions = Workers KV Storage Read$" "$dir/fail.out" &&
	cmp -s "$CFTOKEN_CONFIG" "$dir/config.kept"; echo $?) "what it did is still printed; the file is unchanged"

# --json: one object for scripts.
cftoken learn --profile learned --json -- "$dir/client.sh" reads >"$dir/json.out" 2>/dev/null; rc=$?
got=$($py -c '
import json, sys
j = json.load(open(sys.argv[1]))
ops = {o["method"] + " " + o["operation"]: (o["kind"], o["group"], o["calls"], o["status"]) for o in j["operations"]}
print(j["complete"], j["permissions"], j["zones"], j["program"]["exit_status"], j["written"],
      ops["GET /accounts"], ops["GET /accounts/{account_id}/storage/kv/namespaces"],
      j["section"].startswith("[profile learned]\n"))' "$dir/json.out" 2>&1)
ok $([ $rc -eq 0 ] && [ "$got" = "True ['Workers KV Storage Read'] [] 0 None ('no-group', None, 1, 200) ('learned', 'Workers KV Storage Read', 1, 200) True" ]; echo $?) \
	"--json: complete, the groups, each operation, the program's status ($got)"

# Usage.
cftoken learn -- true 2>/dev/null; rc=$?
ok $((rc != 2)) "learn without --profile: usage error ($rc)"
cftoken learn --profile 'a b' -- true 2>/dev/null; rc=$?
ok $((rc != 2)) "a profile name with a space: usage error ($rc)"
cftoken exec --write --profile learned -- true 2>/dev/null; rc=$?
ok $((rc != 2)) "--write belongs to learn alone ($rc)"
cftoken logout >/dev/null
tap_done
