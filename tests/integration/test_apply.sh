#!/bin/bash
# Tokens as declared resources: apply creates once and then changes
# nothing; a changed description is one PUT that keeps the value; --dry-run
# writes nothing; a token deleted behind cftoken's back is created again;
# destroy is idempotent; token prints to a pipe, never to a terminal;
# composed presets merge without duplicate permission groups.
#   test_apply.sh BUILD_DIR      (run under with-emulator.sh)
set -u
. "$(dirname "$0")/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken
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

test_workdir apply
# (apply's record of the tokens it declared: this test's own)
export XDG_STATE_HOME=$dir/state
write_config() {  # write_config TTL
	cat >"$CFTOKEN_CONFIG" <<CONF
$(defaults_section)
profile = api

[profile api]
presets = workers-deploy, tunnel
ttl = $1

[profile other]
permissions = Zone Read

[profile pagerules]
permissions = Page Rules Write

[profile pagerules-acct]
permissions = Page Rules Write
owner = account
CONF
}
write_config 2h
seed_value parent | cftoken login >/dev/null 2>&1
ok $? "login with the parent token"

# --- apply: create once, then nothing ------------------------------------
# a token minted on demand before the profile was declared
ondemand=$(cftoken exec -- sh -c 'printf %s "$CLOUDFLARE_API_TOKEN"' | sha256sum | cut -d' ' -f1)
clear_log
out=$(cftoken apply 2>&1); rc=$?
ok $rc "apply: exit 0"
contains "$out" "api created: token " ; ok $? "apply says created"
id=$(sed -n 's/.*created: token \([0-9a-f]*\).*/\1/p' <<<"$out")
ok "$([ "$(calls POST /tokens)" = 1 ] && echo 0 || echo 1)" "one create request"
contains "$out" "minted on demand for profile api, is replaced by the declared one and deleted" ; ok $? \
	"the token minted on demand before is replaced, and said so"
ok "$(emu GET /__emu/tokens | $py -c 'import json,sys; t=[t for t in json.load(sys.stdin) if t["value_sha256"] == sys.argv[1]]; sys.exit(0 if t and t[0]["deleted"] else 1)' "$ondemand" && echo 0 || echo 1)" \
	"and deleted on the API"
ok "$(grep -q "token profile=api account=$account api=$CFTEST_API_URL id=$id" "$XDG_STATE_HOME/cftoken/declared" && echo 0 || echo 1)" \
	"the state file records the id"
ok "$(grep -c 'cfat_\|value' "$XDG_STATE_HOME/cftoken/declared" | grep -qx 0 && echo 0 || echo 1)" \
	"and no value"
state_line=$(grep "^token profile=api " "$XDG_STATE_HOME/cftoken/declared")  # for a planted copy
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
contains "$out" "api would be updated (expires_on)" ; ok $? "--dry-run says what would change"
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
# (this test's keys only: another test of this uid may be running)
own=$(own_api_hash "$id2")
drop_keys ":api:$own"
clear_log
out=$(cftoken token 2>"$dir/roll.err" | tr -d '\n' | sha256sum | cut -d' ' -f1)
contains "$(cat "$dir/roll.err")" "was not cached: rolled" ; ok $? "a value no cache holds any more is rolled"
ok "$([ "$out" = "$(token_json "$id2" | field value_sha256)" ] && [ "$(calls POST /tokens)" = 0 ] &&
	echo 0 || echo 1)" "the same token, a new value, no create"

# --- bind to a Worker ----------------------------------------------------
secret_sha() {  # secret_sha WORKER NAME: the emulator's hash of the secret's text
	emu GET /__emu/scripts | $py -c 'import json,sys
s=[x for w in json.load(sys.stdin) if w["name"] == sys.argv[1] for x in w["secrets"] if x["name"] == sys.argv[2]]
print(s[0]["value_sha256"] if s else "none")' "$1" "$2"
}
clear_log
out=$(cftoken bind --worker my-worker --binding API_TOKEN 2>&1); rc=$?
ok $rc "bind: exit 0"
contains "$out" "api bound: token $id2 is Worker my-worker's secret API_TOKEN" ; ok $? "bind says so"
ok "$([ "$(calls PUT /workers/scripts/my-worker/secrets)" = 1 ] && echo 0 || echo 1)" \
	"one PUT .../workers/scripts/my-worker/secrets"
ok "$([ "$(secret_sha my-worker API_TOKEN)" = "$(token_json "$id2" | field value_sha256)" ] && echo 0 || echo 1)" \
	"the Worker's secret holds the declared token"
ok "$(grep -q "binding profile=api account=$account api=$CFTEST_API_URL worker=my-worker name=API_TOKEN state=ok" \
	"$XDG_STATE_HOME/cftoken/declared" && echo 0 || echo 1)" "the binding is recorded with the profile"
wrangler=$("$(dirname "$0")/../install-wrangler.sh" 2>/dev/null)
if [ -n "$wrangler" ]; then
	mkdir -p "$dir/home"
	out=$(cd "$dir" && HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL NODE_EXTRA_CA_CERTS=$CFTEST_CA \
		WRANGLER_SEND_METRICS=false CI=true cftoken exec -- "$wrangler" secret list --name my-worker 2>&1)
	contains "$out" '"name": "API_TOKEN"' ; ok $? "real wrangler secret list (with cftoken exec) lists the binding"
else
	ok 0 "# SKIP wrangler 4 cannot be installed here"
fi
out=$(cftoken bind --worker no-such-worker 2>&1); rc=$?
ok $((rc == 0)) "bind to a Worker that does not exist fails (exit $rc)"
(umask 077; seed_value read-only >"$dir/ro.token")
out=$(cftoken bind --worker my-worker --binding OTHER --token-file "$dir/ro.token" 2>&1); rc=$?
contains "$out" 'needs "Workers Scripts Write"' ; ok $? "a parent without Workers Scripts Write: the 403 says so"

# --- roll: every binding gets the new value --------------------------------
old_value_file=$dir/old.value
(umask 077; cftoken token >"$old_value_file")
clear_log
out=$(cftoken roll --profile api 2>&1); rc=$?
ok $rc "roll --profile api: exit 0"
contains "$out" "Worker my-worker's secret API_TOKEN updated" ; ok $? "and it says the binding was updated"
new_sha=$(token_json "$id2" | field value_sha256)
ok "$([ "$(secret_sha my-worker API_TOKEN)" = "$new_sha" ] && [ "$new_sha" != "$(tr -d '\n' <"$old_value_file" | sha256sum | cut -d' ' -f1)" ] &&
	echo 0 || echo 1)" "the Worker's secret holds the new value (the emulator's state shows it)"
out=$(cftoken verify --token-file "$old_value_file" 2>&1); rc=$?
ok $((rc != 3)) "the old value gets 401 (exit $rc)"
contains "$out" "HTTP 401" ; ok $? "... as the API says"
got=$(cftoken token | tr -d '\n' | sha256sum | cut -d' ' -f1)
ok "$([ "$got" = "$new_sha" ] && echo 0 || echo 1)" "and cftoken token hands over the new value"
# a binding update that fails is kept pending and retried (a lasting 429
# whose Retry-After is past any deadline fails the update at once: no
# deadline has to run out, and none can cut the roll itself short)
emu POST /__emu/faults '{"method": "PUT", "path": "/secrets$", "times": null, "kind": "status", "status": 429, "headers": {"Retry-After": "3600"}}' >/dev/null
out=$(cftoken roll --profile api 2>&1); rc=$?
ok $((rc == 0)) "a roll whose binding update fails: exit $rc"
contains "$out" "still holds the old value" ; ok $? "reported"
ok "$(grep -q "worker=my-worker name=API_TOKEN state=pending" "$XDG_STATE_HOME/cftoken/declared" && echo 0 || echo 1)" \
	"and recorded as pending, not forgotten"
emu DELETE /__emu/faults >/dev/null
out=$(cftoken apply 2>&1); rc=$?
contains "$out" "Worker my-worker's secret API_TOKEN updated" ; ok $? "the next apply retries it"
ok "$([ "$(secret_sha my-worker API_TOKEN)" = "$(token_json "$id2" | field value_sha256)" ] &&
	grep -q "name=API_TOKEN state=ok" "$XDG_STATE_HOME/cftoken/declared" && echo 0 || echo 1)" \
	"and the Worker holds the current value again"
out=$(cftoken bind --worker my-worker --binding SECOND 2>&1)
out=$(cftoken unbind --worker my-worker --binding SECOND 2>&1); rc=$?
ok $rc "unbind: exit 0"
ok "$([ "$(secret_sha my-worker SECOND)" = none ] && ! grep -q "name=SECOND" "$XDG_STATE_HOME/cftoken/declared" &&
	echo 0 || echo 1)" "the secret is deleted and the binding forgotten"

# --- destroy --------------------------------------------------------------
clear_log
out=$(cftoken destroy 2>&1); rc=$?
ok $rc "destroy: exit 0"
contains "$out" "api destroyed: token $id2" ; ok $? "says destroyed"
ok "$([ "$(token_json "$id2" | field deleted)" = true ] && echo 0 || echo 1)" "the token is gone from the API"
ok "$(grep -q "id=$id2" "$XDG_STATE_HOME/cftoken/declared" && echo 1 || echo 0)" "and from the state"
ok "$([ "$(secret_sha my-worker API_TOKEN)" = none ] && ! grep -q "^binding" "$XDG_STATE_HOME/cftoken/declared" &&
	echo 0 || echo 1)" "destroy deleted the Worker's secret and the binding too"
out=$(cftoken destroy 2>&1); rc=$?
ok $rc "destroy again: exit 0"
contains "$out" "nothing to destroy" ; ok $? "idempotent, and said so"
out=$(cftoken apply --profile other --dry-run 2>&1)
contains "$out" "other would be created" ; ok $? "--dry-run before a create says so"
ok "$([ ! -s "$XDG_STATE_HOME/cftoken/declared" ] || ! grep -q "profile=other" "$XDG_STATE_HOME/cftoken/declared" &&
	echo 0 || echo 1)" "and records nothing"

# --- the state directory where another user can reach it -----------------
# XDG_STATE_HOME in a world-writable place: another user made the
# directory first.  apply must not write through their links, destroy must
# not delete what their state names.  Both refuse, and nothing changes.
gw=$dir/state-gw
mkdir -p "$gw/cftoken" && chmod 777 "$gw/cftoken"
clear_log
out=$(XDG_STATE_HOME=$gw cftoken apply 2>&1); rc=$?
ok $((rc != 2)) "a state directory others may write: apply refuses (exit $rc)"
contains "$out" "state directory $gw/cftoken is writable by group or others" ; ok $? "saying why"
ok "$([ "$(calls POST /tokens)" = 0 ] && [ ! -e "$gw/cftoken/declared" ] && echo 0 || echo 1)" \
	"and creates no token, writes no state"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# a real second user: nobody, through setpriv
	other=$(id -u nobody)
	as_other() { setpriv --reuid="$other" --regid="$(id -g nobody)" --clear-groups -- "$@"; }
	shared=$(mktemp -d /tmp/cftoken-shared.XXXXXX)
	chmod 1777 "$shared"
	trap 'rm -rf "$shared"' EXIT
	victim=$dir/victim.txt
	echo "the victim's own file" >"$victim"
	# 1. their directory, with the temp file's name linked to the victim's file
	as_other mkdir -m 777 "$shared/s1" "$shared/s1/cftoken"
	as_other ln -s "$victim" "$shared/s1/cftoken/declared.new"
	clear_log
	out=$(XDG_STATE_HOME=$shared/s1 cftoken apply 2>&1); rc=$?
	ok $((rc != 2)) "another user's state directory with a planted link: apply refuses (exit $rc)"
	contains "$out" "state directory $shared/s1/cftoken belongs to another user (uid $other)" ; ok $? \
		"saying whose it is"
	ok "$([ "$(cat "$victim")" = "the victim's own file" ] && [ "$(calls POST /tokens)" = 0 ] &&
		echo 0 || echo 1)" "the link's target is untouched and no token was created"
	# 2. the state directory itself a link to a directory of the victim's
	mkdir -m 700 "$dir/victim-dir"
	echo "the victim's own file" >"$dir/victim-dir/declared"
	as_other mkdir -m 755 "$shared/s2"
	as_other ln -s "$dir/victim-dir" "$shared/s2/cftoken"
	out=$(XDG_STATE_HOME=$shared/s2 cftoken apply 2>&1); rc=$?
	ok $((rc != 2)) "a state directory that is a symlink: apply refuses (exit $rc)"
	contains "$out" "is not a directory (a symlink?)" ; ok $? "saying why"
	ok "$([ "$(cat "$dir/victim-dir/declared")" = "the victim's own file" ] &&
		[ "$(calls POST /tokens)" = 0 ] && echo 0 || echo 1)" "the victim's file is untouched"
	# 3. their state, naming a token of the victim's that cftoken never declared
	(umask 077; seed_value parent >"$dir/parent.token")
	target=$(cftoken create --token-file "$dir/parent.token" --permission "Zone Read" --ttl 1h \
		--name "unrelated" 2>&1 >/dev/null | grep -oE '[0-9a-f]{32}' | head -1)
	as_other mkdir -m 755 "$shared/s3" "$shared/s3/cftoken"
	sed "s/id=.*/id=$target/" <<<"$state_line" | as_other tee "$shared/s3/cftoken/declared" >/dev/null
	clear_log
	out=$(XDG_STATE_HOME=$shared/s3 cftoken destroy 2>&1); rc=$?
	ok $((rc != 2)) "a state planted by another user: destroy refuses (exit $rc)"
	contains "$out" "belongs to another user" ; ok $? "saying why"
	ok "$([ "$(calls DELETE /)" = 0 ] && [ "$(token_json "$target" | field deleted)" = false ] &&
		echo 0 || echo 1)" "and deletes nothing: the token it names lives on"
else
	ok 0 "# SKIP another user's state directory: needs root (setpriv to another user)"
fi

# --- services that take user-owned tokens only ---------------------------
(umask 077; seed_value user-parent >"$dir/user.token")
clear_log
out=$(cftoken token --profile pagerules --token-file "$dir/user.token" 2>"$dir/pr.err" | tr -d '\n' |
	sha256sum | cut -d' ' -f1)
contains "$(cat "$dir/pr.err")" "profile pagerules gets a user-owned token: \"Page Rules Write\" reaches Page Rules" ; ok $? \
	"a Page Rules Write profile gets a user-owned token, and says why"
ok "$([ "$(calls POST /user/tokens)" = 1 ] && [ "$(calls POST /accounts/)" = 0 ] && echo 0 || echo 1)" \
	"created through POST /user/tokens"
owner=$(emu GET /__emu/tokens | $py -c 'import json,sys; print([t["owner"] for t in json.load(sys.stdin) if t["value_sha256"] == sys.argv[1]])' "$out")
ok "$([ "$owner" = "['user']" ] && echo 0 || echo 1)" "the emulator holds it as a user token ($owner)"
out=$(cftoken list --user --token-file "$dir/user.token" 2>&1)
contains "$out" "user     active" ; ok $? "list shows the token's owner"
out=$(cftoken token --profile pagerules-acct --token-file "$dir/user.token" 2>&1); rc=$?
ok $((rc != 2)) "owner = account with Page Rules: exit 2 (got $rc)"
contains "$out" "does not accept account-owned tokens yet" ; ok $? "explaining why"
# the user's 50-token cap
users=$(emu GET /__emu/tokens | $py -c 'import json,sys; print(sum(1 for t in json.load(sys.stdin) if t["owner"] == "user" and not t["deleted"]))')
emu POST /__emu/config "{\"quota_user\": $users}" >/dev/null
drop_keys ":pagerules:$own"
out=$(cftoken token --profile pagerules --token-file "$dir/user.token" 2>&1); rc=$?
ok $((rc == 0)) "the user's token cap reached: the mint fails (exit $rc)"
contains "$out" "maximum number of API tokens" ; ok $? "with a clear error"
contains "$out" "50 user-owned" ; ok $? "naming the user cap"
emu POST /__emu/config '{"quota_user": 50}' >/dev/null

tap_done
