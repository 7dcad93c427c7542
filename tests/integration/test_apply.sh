#!/bin/bash
# Tokens as declared resources: apply creates once and then changes
# nothing; a changed description is one PUT that keeps the value; --dry-run
# writes nothing; a token deleted behind cftoken's back is created again;
# destroy is idempotent; token prints to a pipe, never to a terminal;
# composed presets merge without duplicate permission groups.
#   test_apply.sh BUILD_DIR      (run under with-emulator.sh)
set -u
if [ -z "${CFTEST_IN_SESSION:-}" ]; then
	CFTEST_IN_SESSION=1 exec keyctl session - "$0" "$@"
fi
build=$1
front=$build/helper/cftoken
. "$(dirname "$0")/tap.sh"
cftoken() { ${CFTEST_WRAP:-} "$front" "$@"; }
emu() { $CFTEST_EMUCTL "$@"; }
calls() {  # calls METHOD PATH-PART: requests since the last clear
	emu GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["method"] == sys.argv[1] and sys.argv[2] in e["path"]))' "$1" "$2"
}
writes() { emu GET /__emu/log | $py -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["method"] in ("POST", "PUT", "PATCH", "DELETE")))'; }
clear_log() { emu DELETE /__emu/log >/dev/null; }
token_json() {  # token_json ID: the emulator's record of it
	emu GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if t["id"] == sys.argv[1]]
print(json.dumps(t[0]) if t else "{}")' "$1"
}
field() { $py -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1"; }

account=0123456789abcdef0123456789abcdef
dir=$CFTEST_WORK/apply
mkdir -p "$dir"
export XDG_RUNTIME_DIR=$dir/run XDG_STATE_HOME=$dir/state CFTOKEN_CONFIG=$dir/config
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN CFTOKEN_CACHE
write_config() {  # write_config TTL
	cat >"$CFTOKEN_CONFIG" <<CONF
[defaults]
api_url = $CFTEST_API_URL
ca_file = $CFTEST_CA
account = $account
profile = api

[profile api]
presets = workers-deploy, tunnel
ttl = $1

[profile other]
permissions = Zone Read
CONF
}
write_config 2h
seed_value parent | cftoken login >/dev/null 2>&1
ok $? "login with the parent token"

# --- apply: create once, then nothing ------------------------------------
clear_log
out=$(cftoken apply 2>&1); rc=$?
ok $rc "apply: exit 0"
contains "$out" "api created: token " ; ok $? "apply says created ($out)"
id=$(sed -n 's/.*created: token \([0-9a-f]*\).*/\1/p' <<<"$out")
ok "$([ "$(calls POST /tokens)" = 1 ] && echo 0 || echo 1)" "one create request"
ok "$(grep -q "token profile=api account=$account api=[0-9a-f]* id=$id" "$XDG_STATE_HOME/cftoken/declared" && echo 0 || echo 1)" \
	"the state file records the id"
ok "$(grep -c 'cfat_\|value' "$XDG_STATE_HOME/cftoken/declared" | grep -qx 0 && echo 0 || echo 1)" \
	"and no value"
ok "$([ "$(stat -c %a "$XDG_STATE_HOME/cftoken/declared")" = 600 ] && echo 0 || echo 1)" "mode 0600"
groups=$(token_json "$id" | $py -c 'import json,sys
t=json.load(sys.stdin); ids=[g["id"] for p in t["policies"] for g in p["permission_groups"]]
print(len(ids), len(set(ids)))')
# workers-deploy has 5 groups, tunnel 4; both name Zone Read and Account
# Settings Read
ok "$(set -- $groups; [ "$1" = 7 ] && [ "$2" = 7 ] && echo 0 || echo 1)" \
	"presets = workers-deploy, tunnel: merged, no permission group twice ($groups)"
clear_log
out=$(cftoken apply 2>&1); rc=$?
contains "$out" "api unchanged: token $id" ; ok $? "apply again: unchanged"
ok "$([ "$(writes)" = 0 ] && echo 0 || echo 1)" "and no write request at all"
out=$(cftoken apply --json 2>&1)
ok "$(echo "$out" | $py -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["action"] == "unchanged" and d["id"] == sys.argv[1] else 1)' "$id" && echo 0 || echo 1)" \
	"--json: {\"action\": \"unchanged\", ...}"

# --- the value: exec and token hand over the declared token ---------------
value_sha=$(token_json "$id" | field value_sha256)
got=$(cftoken token | tr -d '\n' | sha256sum | cut -d' ' -f1)
ok "$([ "$got" = "$value_sha" ] && echo 0 || echo 1)" "cftoken token prints the declared token to a pipe"
got=$(cftoken exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' | sha256sum | cut -d' ' -f1)
ok "$([ "$got" = "$value_sha" ] && echo 0 || echo 1)" "cftoken exec hands over the declared token"
out=$(script -qec "$front token" /dev/null 2>&1); 
contains "$out" "not printing a token to a terminal" ; ok $? "token refuses a terminal"
ok "$(grep -c cfat_ <<<"$out" | grep -qx 0 && echo 0 || echo 1)" "and prints no token there"

# --- a changed description: one PUT, the value kept -----------------------
write_config 3h
clear_log
out=$(cftoken apply --dry-run 2>&1)
contains "$out" "api would be updated (expires_on)" ; ok $? "--dry-run says what would change ($out)"
contains "$out" "expires_on: " ; ok $? "field by field"
ok "$([ "$(writes)" = 0 ] && echo 0 || echo 1)" "--dry-run writes nothing"
before=$(token_json "$id" | field modified_on)
out=$(cftoken apply 2>&1)
contains "$out" "api updated (expires_on): token $id" ; ok $? "a changed ttl: updated (expires_on)"
ok "$([ "$(calls PUT "/tokens/$id")" = 1 ] && [ "$(calls POST /tokens)" = 0 ] && echo 0 || echo 1)" \
	"one PUT, no create"
after=$(token_json "$id")
ok "$([ "$(field value_sha256 <<<"$after")" = "$value_sha" ] && echo 0 || echo 1)" "the value is kept"
ok "$([ "$(field modified_on <<<"$after")" != "$before" ] && echo 0 || echo 1)" "modified_on moved"
eo=$(field expires_on <<<"$after")
io=$(field issued_on <<<"$after")
ok "$([ $(( $(date -d "$eo" +%s) - $(date -d "$io" +%s) )) -eq 10800 ] && echo 0 || echo 1)" \
	"expires_on is the issue time plus the new ttl"
out=$(cftoken token | cftoken verify 2>&1)
contains "$out" "active" ; ok $? "the old value still verifies"
out=$(cftoken apply 2>&1)
contains "$out" "unchanged" ; ok $? "and applying again changes nothing"

# --- deleted behind cftoken's back ----------------------------------------
# (with curl, as someone using the dashboard or the API directly would;
# the header comes from a file, not argv)
(umask 077; printf 'Authorization: Bearer %s\n' "$(seed_value parent)" >"$dir/auth.header")
curl -sf --cacert "$CFTEST_CA" -H @"$dir/auth.header" -X DELETE \
	"$CFTEST_API_URL/accounts/$account/tokens/$id" >/dev/null
ok $? "the declared token is deleted outside cftoken"
clear_log
out=$(cftoken apply 2>&1)
contains "$out" "was deleted outside cftoken: created again" ; ok $? "a token deleted outside: created again, and said so"
id2=$(sed -n 's/.*created: token \([0-9a-f]*\).*/\1/p' <<<"$out")
ok "$([ -n "$id2" ] && [ "$id2" != "$id" ] && [ "$(calls POST /tokens)" = 1 ] && echo 0 || echo 1)" \
	"one new token"
got=$(cftoken token | tr -d '\n' | sha256sum | cut -d' ' -f1)
ok "$([ "$got" = "$(token_json "$id2" | field value_sha256)" ] && echo 0 || echo 1)" \
	"and cftoken token hands over the new one"

# --- the value lost from the caches: rolled, same token -------------------
for k in $(keyctl rlist @u); do
	case "$(keyctl rdescribe "$k" 2>/dev/null)" in *";cftoken"*":api:"*) keyctl unlink "$k" @u >/dev/null ;; esac
done
clear_log
out=$(cftoken token 2>"$dir/roll.err" | tr -d '\n' | sha256sum | cut -d' ' -f1)
contains "$(cat "$dir/roll.err")" "was not cached: rolled" ; ok $? "a value no cache holds any more is rolled"
ok "$([ "$out" = "$(token_json "$id2" | field value_sha256)" ] && [ "$(calls POST /tokens)" = 0 ] &&
	echo 0 || echo 1)" "the same token, a new value, no create"

# --- destroy --------------------------------------------------------------
clear_log
out=$(cftoken destroy 2>&1); rc=$?
ok $rc "destroy: exit 0"
contains "$out" "api destroyed: token $id2" ; ok $? "says destroyed"
ok "$([ "$(token_json "$id2" | field deleted)" = true ] && echo 0 || echo 1)" "the token is gone from the API"
ok "$(grep -q "id=$id2" "$XDG_STATE_HOME/cftoken/declared" && echo 1 || echo 0)" "and from the state"
out=$(cftoken destroy 2>&1); rc=$?
ok $rc "destroy again: exit 0"
contains "$out" "nothing to destroy" ; ok $? "idempotent, and said so"
out=$(cftoken apply --profile other --dry-run 2>&1)
contains "$out" "other would be created" ; ok $? "--dry-run before a create says so"
ok "$([ ! -s "$XDG_STATE_HOME/cftoken/declared" ] || ! grep -q "profile=other" "$XDG_STATE_HOME/cftoken/declared" &&
	echo 0 || echo 1)" "and records nothing"

tap_done
