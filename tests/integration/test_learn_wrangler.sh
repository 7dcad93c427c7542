#!/bin/bash
# The proof of cftoken learn with real wrangler against the emulator, which
# enforces data/api-operations.tsv's groups: `cftoken learn --profile
# deploy --write -- wrangler deploy` learns a profile; `cftoken exec
# --proxy --profile deploy -- wrangler deploy` then succeeds with it; and
# the same deploy with any one learned group left out fails, with the
# forwarder's 403 line naming exactly that group.  The project is
# test_wrangler_deploy.sh's: a module Worker with KV, R2 and D1 bindings,
# a workers.dev route and a zone route.
#   test_learn_wrangler.sh BUILD_DIR     (run under with-emulator.sh)
set -u
if [ -z "${CFTEST_IN_SESSION:-}" ]; then
	CFTEST_IN_SESSION=1 exec keyctl session - "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
front=$1/helper/cftoken
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/wrangler_project.sh"
cftoken() { ${CFTEST_WRAP:-} "$front" "$@"; }

wrangler=$("$here/../install-wrangler.sh") || { echo "1..0 # SKIP wrangler 4 cannot be installed here"; exit 0; }
account=0123456789abcdef0123456789abcdef
dir=$CFTEST_WORK/learn-wrangler
mkdir -p "$dir/home" "$dir/project/src"
export XDG_RUNTIME_DIR=$dir/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
export CFTOKEN_CONFIG=$dir/config CFTOKEN_CACHE=kernel
unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN
cat >"$CFTOKEN_CONFIG" <<CONF
[defaults]
api_url = $CFTEST_API_URL
ca_file = $CFTEST_CA
account = $account
# what makes the project's resources and first deploys the Worker
[profile setup]
permissions = Workers Scripts Write, Workers KV Storage Write, Workers R2 Storage Write, D1 Write, Workers Routes Write, Zone Read
zones = example.com
ttl = 1h
CONF
chmod 600 "$CFTOKEN_CONFIG"
parent=$(seed_value parent)
printf '%s\n' "$parent" | cftoken login >/dev/null
ok $? "login"

# The account's workers.dev subdomain, set with the parent token.
set_subdomain "$parent" "$account"
ok $? "the account's workers.dev subdomain is set"

# wrangler: cftoken COMMAND [--profile P] -- wrangler ARGS, from the
# project, with a private HOME.  Through the forwarder (learn, exec
# --proxy) wrangler gets http://127.0.0.1; plain exec needs the CA.
in_project() {
	(cd "$dir/project" && HOME=$dir/home CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL \
		NODE_EXTRA_CA_CERTS=$CFTEST_CA WRANGLER_SEND_METRICS=false CI=true "$@")
}
out=$(in_project cftoken exec --profile setup -- "$wrangler" kv namespace create my-kv 2>&1)
ok $? "kv namespace create"
kv=$(printf '%s\n' "$out" | sed -n 's/.*"id": "\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
out=$(in_project cftoken exec --profile setup -- "$wrangler" r2 bucket create my-bucket 2>&1)
ok $? "r2 bucket create"
out=$(in_project cftoken exec --profile setup -- "$wrangler" d1 create my-db 2>&1)
ok $? "d1 create"
db=$(printf '%s\n' "$out" | sed -n 's/.*"database_id": "\([0-9a-f-]\{36\}\)".*/\1/p' | head -1)
write_project "$dir/project" cftoken-learn-test "$account" "$kv" "$db"
# The Worker exists: the deploys below all take the same path (a new
# version, its deployment, the settings).
out=$(in_project cftoken exec --profile setup -- "$wrangler" deploy 2>&1)
ok $? "a first deploy makes the Worker"

refusals() {  # the forwarder's 403 lines in $1, less the profile's name
	printf '%s\n' "$1" | grep -E '^cftoken: [A-Z]+ /[^ ]* (needs|was refused)' |
		sed 's/; profile [^ ]* /; profile P /'
}

# round_trip PROFILE WHAT PROGRAM...: learns PROFILE from PROGRAM (--write),
# runs PROGRAM with it through the forwarder, then once without each of
# its groups.
round_trip() {
	local profile=$1 what=$2 rc out
	shift 2
	in_project cftoken learn --profile "$profile" --write -- "$@" >"$dir/$profile.out" \
		2>"$dir/$profile.err"
	rc=$?
	sed 's/^/# /' "$dir/$profile.out"
	ok $([ $rc -eq 0 ] || [ $rc -eq 5 ]; echo $?) "cftoken learn -- $what: a profile learned ($rc)"
	ok $(! grep -q "warning: .* exited with status" "$dir/$profile.err"; echo $?) \
		"$what succeeded while learning"
	ok $(grep -q "written to $CFTOKEN_CONFIG" "$dir/$profile.err"; echo $?) \
		"--write put [profile $profile] into the configuration"
	if [ $rc -eq 5 ]; then
		grep -q "^# incomplete: " "$dir/$profile.out"
		ok $? "exit 5: the section says it is incomplete (the table's \"?\" rows wrangler calls)"
	else
		ok 0 "the profile is complete"
	fi
	learned=$(sed -n 's/^permissions = //p' "$dir/$profile.out")
	zones=$(sed -n 's/^zones = //p' "$dir/$profile.out")
	IFS=, read -r -a groups <<<"$learned"
	groups=("${groups[@]# }")

	out=$(in_project cftoken exec --proxy --profile "$profile" -- "$@" 2>&1); rc=$?
	ok $rc "exec --proxy --profile $profile -- $what succeeds with the learned profile"
	[ $rc -eq 0 ] || printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
	# Refusals wrangler takes in its stride come with every profile.
	local baseline learned_ops lines named total i=0 g rest
	baseline=$(refusals "$out")
	[ -z "$baseline" ] || printf '%s\n' "$baseline" | sed 's/^/# with every profile: /'

	# Each learned group is needed: without it the same run fails, and
	# every 403 line of an operation it learned names that group.
	# (Refused, wrangler may go on to calls it did not make before, such
	# as /memberships, which no account-owned token can hold: their lines
	# name other groups.)
	learned_ops=$(sed -n 's/^\([A-Z]\+ \/[^ ]*\) \+[0-9]\+ \+[0-9]\+  [A-Z].*/\1/p' "$dir/$profile.out")
	for g in "${groups[@]}"; do
		i=$((i + 1))
		rest=$(printf '%s\n' "${groups[@]}" | grep -vxF "$g" | paste -sd, | sed 's/,/, /g')
		# (a profile names some group: one no operation of wrangler's accepts)
		rest=${rest:-Account Settings Read}
		{
			printf '[profile %s-%d]\naccount = %s\npermissions = %s\nttl = 1h\n' \
				"$profile" "$i" "$account" "$rest"
			[ -z "$zones" ] || printf 'zones = %s\n' "$zones"
		} >>"$CFTOKEN_CONFIG"
		out=$(in_project cftoken exec --proxy --profile "$profile-$i" -- "$@" 2>&1); rc=$?
		lines=$(refusals "$out" | grep -vxF -f <(printf '%s\n' "$baseline" | grep .) |
			grep -F -f <(printf 'cftoken: %s \n' "$learned_ops"))
		named=$(printf '%s\n' "$lines" | grep -cF "\"$g\"")
		total=$(printf '%s\n' "$lines" | grep -c .)
		ok $([ $rc -ne 0 ] && [ "$total" -ge 1 ] && [ "$named" = "$total" ]; echo $?) \
			"$what without \"$g\" fails, and each 403 line ($total) names it"
		[ "$named" = "$total" ] && [ "$total" -ge 1 ] ||
			{ printf '%s\n' "$lines"; refusals "$out"; printf '%s\n' "$out" | tail -4; } |
			sed 's/^/# /'
	done
}

# The deploy (of the Worker the first deploy made: a new version, its
# deployment, the settings).
round_trip deploy "wrangler deploy" "$wrangler" deploy
ok $(grep -qx 'Workers Scripts Write' <(printf '%s\n' "${groups[@]}"); echo $?) \
	"the deploy learned the upload's group ($learned)"

# A job of several commands: KV keys and D1 beside the deploy, so that
# each group left out is one of several.
cat >"$dir/job.sh" <<'SH'
#!/bin/sh
# job.sh WRANGLER: a deploy, a KV key written and listed, a D1 query
set -e
"$1" deploy
"$1" kv key put --remote --binding KV greeting hello
"$1" kv key list --remote --binding KV
"$1" d1 execute my-db --remote --command "SELECT 1"
SH
chmod +x "$dir/job.sh"
round_trip job "a deploy, kv key put and list, d1 execute" "$dir/job.sh" "$wrangler"
ok $([ ${#groups[@]} -ge 3 ]; echo $?) "the job learned a group for each service ($learned)"
cftoken logout >/dev/null
tap_done
