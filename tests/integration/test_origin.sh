#!/bin/bash
# The parent token goes only where it was verified (issue 19): each check
# plays an attacker who runs a server on loopback (catcher.py) and steers
# cftoken towards it, and asserts that nothing that authenticates reached it.
#   test_origin.sh BUILD_DIR        (run under with-emulator.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/preamble.sh"
in_test_session "$0" "$@"
build=$1
front=$build/helper/cftoken
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

test_workdir origin
# and no proxy of the caller's stands between cftoken and the catchers
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
# (no api_url, no ca_file: each check adds those it steers cftoken with,
# by with_defaults below)
cat >"$CFTOKEN_CONFIG" <<CONF
[defaults]
account = $account
profile = deploy

[profile deploy]
permissions = Zone Read
ttl = 1h
CONF
parent=$(seed_value parent)
# with_defaults FILE LINE...: FILE with LINEs added to its [defaults]
# section (a section may be given only once)
with_defaults() {
	local file=$1 line
	shift
	while IFS= read -r line; do
		printf '%s\n' "$line"
		if [ "$line" = "[defaults]" ]; then printf '%s\n' "$@"; fi
	done <"$file"
}
emu_port=${CFTEST_API_URL#https://127.0.0.1:}
emu_port=${emu_port%%/*}

# start_catcher NAME ARGS...: catcher.py in the background; $NAME_port is
# where it listens, $dir/NAME.log what reached it.
catchers=()
start_catcher() {
	local name=$1
	shift
	$py "$here/catcher.py" --certs "$CFTEST_CERTS" --log "$dir/$name.log" \
		--ready-file "$dir/$name.port" "$@" 2>"$dir/$name.err" &
	catchers+=($!)
	for _ in $(seq 1 200); do [ -s "$dir/$name.port" ] && break; sleep 0.05; done
	printf -v "${name}_port" '%s' "$(cat "$dir/$name.port")"
}
trap 'kill "${catchers[@]}" 2>/dev/null' EXIT
# caught NAME: what reached that catcher, one line per request
caught() { cat "$dir/$1.log"; }
# bearers NAME: the hashes of the tokens that reached it
bearers() { $py -c 'import json,sys
for l in open(sys.argv[1]):
    h = json.loads(l).get("authorization_sha256")
    if h: print(h)' "$dir/$1.log"; }

start_catcher evil --mode https

# --- 1. the API's name in keys is 128 bits, and each record holds its URL --
# The old name of an API was 32 bits: a lookalike URL took the parent and
# the cached tokens.  A and B share that old name; A is the emulator (the
# dot segment is squashed before the request), B the attacker's server.
pair=$($py "$here/old_name_collision.py" "$CFTEST_API_URL/" "/.." "https://127.0.0.1:$evil_port/")
api_a=$(sed -n 1p <<<"$pair")
api_b=$(sed -n 2p <<<"$pair")
ok $([ -n "$api_a" ] && [ -n "$api_b" ]; echo $?) "two URLs with the same old 32-bit name: $api_a, $api_b"
export CFTOKEN_CA_FILE=$CFTEST_CA
out=$(CLOUDFLARE_API_BASE_URL=$api_a cftoken login <<<"$parent" 2>&1); rc=$?
ok $rc "login for A"
tok=$(CLOUDFLARE_API_BASE_URL=$api_a cftoken exec -- printenv CLOUDFLARE_API_TOKEN); rc=$?
ok $([ $rc -eq 0 ] && [ ${#tok} -ge 40 ]; echo $?) "a token minted at A and cached"

out=$(CLOUDFLARE_API_BASE_URL=$api_b cftoken exec -- printenv CLOUDFLARE_API_TOKEN 2>&1); rc=$?
case "$out" in *"$tok"*) ok 1 "exec with B: A's cached token is not handed over" ;;
*) ok 0 "exec with B: A's cached token is not handed over" ;; esac
ok $((rc != 3)) "and there is no parent for B (exit 3, not $rc)"
contains "$out" "cftoken login" ; ok $? "saying to log in for B"
out=$(printf 'protocol=https\nhost=127.0.0.1:%s\n\n' "$evil_port" |
	CLOUDFLARE_API_BASE_URL=$api_b cftoken get 2>&1); rc=$?
case "$out" in *"$tok"*) ok 1 "git get for B's host: A's token is not the answer" ;;
*) ok 0 "git get for B's host: A's token is not the answer" ;; esac
out=$(CLOUDFLARE_API_BASE_URL=$api_b cftoken list </dev/null 2>&1); rc=$?
ok $((rc == 0)) "list with B finds no parent to act with (exit $rc)"
ok "$(bearers evil | wc -l)" "B's server received no token at all"
# The catcher does see what goes to it: a token named on the command line.
decoy=cftokenDecoyNotARealToken0123456789abcdef
out=$(CLOUDFLARE_API_BASE_URL=$api_b cftoken verify --token-file - <<<"$decoy" 2>&1)
ok $(bearers evil | grep -qx "$(sha "$decoy")"; echo $?) "(B's server records what reaches it: a decoy given on purpose)"
again=$(CLOUDFLARE_API_BASE_URL=$api_a cftoken exec -- printenv CLOUDFLARE_API_TOKEN)
ok $([ "$again" = "$tok" ]; echo $?) "A still gets its cached token"

# A record of an older version under the new name is a miss, not an error.
old_parent_key=$($py -c 'import hashlib,struct,sys
def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
url = sys.argv[1].rstrip("/")
print(hashlib.sha256(s("cftoken-api 2") + s(url)).hexdigest()[:32])' "$CFTEST_API_URL")
old_key=$(printf 'cftoken-parent 1\ntoken=%s\naccount=\n' "$parent" |
	keyctl padd user "cftoken-parent:$(id -u):$old_parent_key" "$(keyctl get_persistent @s)")
out=$(CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL cftoken exec -- true 2>&1); rc=$?
ok $((rc != 3)) "a parent record of an older version is none: exit 3"
contains "$out" "cftoken login" ; ok $? "saying to run cftoken login"
keyctl invalidate "$old_key"

CLOUDFLARE_API_BASE_URL=$api_a cftoken logout >/dev/null
unset CFTOKEN_CA_FILE

# --- 2a. the parent is bound to the API and CA it was verified with -------
# From here the configuration names the API and the CA, as a person's does.
start_catcher mitm --mode proxy --mitm --cert untrusted
evil_api=https://127.0.0.1:$evil_port/client/v4
with_defaults "$dir/config" "api_url = $CFTEST_API_URL" "ca_file = $CFTEST_CA" >"$dir/config.api"
export CFTOKEN_CONFIG=$dir/config.api
cftoken login <<<"$parent" >/dev/null 2>&1
ok $? "login for the configured API, with its CA"
out=$(CLOUDFLARE_API_BASE_URL=$evil_api cftoken exec -- true 2>&1); rc=$?
ok $((rc != 3)) "CLOUDFLARE_API_BASE_URL naming another API: no parent (exit 3, not $rc)"
contains "$out" "verified for $CFTEST_API_URL" ; ok $? "saying which API it was verified for"
contains "$out" "cftoken login\` with CLOUDFLARE_API_BASE_URL=$evil_api" ; ok $? "and how to log in for the other"
# The interceptor of the issue: its CA in CFTOKEN_CA_FILE, itself in
# HTTPS_PROXY, the request for the real API URL.
out=$(CFTOKEN_CA_FILE=$CFTEST_CERTS/otherca.pem HTTPS_PROXY=http://127.0.0.1:$mitm_port \
	cftoken exec --min-ttl 2h -- true 2>&1); rc=$?
ok $((rc != 3)) "CFTOKEN_CA_FILE naming another CA: the parent is refused (exit 3, not $rc)"
contains "$out" "was verified for $CFTEST_API_URL with CA file $(realpath "$CFTEST_CA")" ; ok $? \
	"saying which CA it was verified with"
contains "$out" "CA file $CFTEST_CERTS/otherca.pem: refused" ; ok $? "and which it refuses"
out=$(cftoken exec --min-ttl 2h -- true 2>&1); rc=$?
ok $rc "the same request with the CA of the login mints"
cftoken logout >/dev/null

# parent_token_file: bound to the api_url and ca_file of the file naming it.
(umask 077; printf '%s\n' "$parent" >"$dir/parent.token")
with_defaults "$dir/config" "api_url = $CFTEST_API_URL" "ca_file = $CFTEST_CA" \
	"parent_token_file = $dir/parent.token" >"$dir/config.file"
export CFTOKEN_CONFIG=$dir/config.file
out=$(cftoken exec -- true 2>&1); rc=$?
ok $rc "parent_token_file mints for the API its file names"
out=$(CLOUDFLARE_API_BASE_URL=$evil_api cftoken exec -- true 2>&1); rc=$?
ok $((rc != 3)) "parent_token_file with CLOUDFLARE_API_BASE_URL naming another API: refused (exit $rc)"
contains "$out" "parent_token_file (named in $dir/config.file) is for $CFTEST_API_URL" ; ok $? \
	"saying which API it is for, and which file says so"
out=$(CLOUDFLARE_API_BASE_URL=$evil_api cftoken list </dev/null 2>&1); rc=$?
ok $((rc != 3)) "list too refuses it (exit $rc), asking for no other token"
out=$(CFTOKEN_CA_FILE=$CFTEST_CERTS/otherca.pem HTTPS_PROXY=http://127.0.0.1:$mitm_port \
	cftoken exec --min-ttl 2h -- true 2>&1); rc=$?
ok $((rc != 3)) "parent_token_file with CFTOKEN_CA_FILE naming another CA: refused (exit $rc)"
contains "$out" "CFTOKEN_CA_FILE names $CFTEST_CERTS/otherca.pem: refused" ; ok $? "saying so"
# A file naming the parent but no api_url binds it to the default API.
with_defaults "$dir/config" "parent_token_file = $dir/parent.token" >"$dir/config.bare"
out=$(CFTOKEN_CONFIG=$dir/config.bare CLOUDFLARE_API_BASE_URL=$CFTEST_API_URL \
	CFTOKEN_CA_FILE=$CFTEST_CA cftoken exec --min-ttl 2h -- true 2>&1); rc=$?
ok $((rc != 3)) "a parent_token_file whose file names no api_url is for the default API only (exit $rc)"
contains "$out" "is for https://api.cloudflare.com/client/v4" ; ok $? "saying so"

# --- 2b. no proxy from the environment ------------------------------------
# A proxy that passes everything on (and so would go unnoticed), named by
# every variable libcurl reads; cftoken's own calls never go through it.
start_catcher watcher --mode proxy --tunnel
proxy_env=(HTTPS_PROXY=http://127.0.0.1:$watcher_port https_proxy=http://127.0.0.1:$watcher_port
	ALL_PROXY=http://127.0.0.1:$watcher_port all_proxy=http://127.0.0.1:$watcher_port)
out=$(env "${proxy_env[@]}" ${CFTEST_WRAP:-} "$front" exec --min-ttl 3h -- true 2>&1); rc=$?
ok $rc "HTTPS_PROXY and ALL_PROXY set: a mint with the parent works"
out=$(env "${proxy_env[@]}" ${CFTEST_WRAP:-} "$front" verify --token-file - <<<"$parent" 2>&1); rc=$?
ok $rc "and so does a call with a token given on the command line"
ok "$(caught watcher | wc -l)" "the proxy the environment names received nothing"
# The configured proxy is used, for every host (NO_PROXY does not bypass it).
: >"$dir/watcher.log"
with_defaults "$dir/config.file" "proxy = http://127.0.0.1:$watcher_port" >"$dir/config.proxy"
out=$(CFTOKEN_CONFIG=$dir/config.proxy NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 \
	cftoken exec --min-ttl 4h -- true 2>&1); rc=$?
ok $rc "proxy = in the configuration: the mint works"
contains "$(caught watcher)" "\"CONNECT\", \"target\": \"127.0.0.1:$emu_port\"" ; ok $? \
	"through the configured proxy, to the API"

# --- 2c. a configuration file others may write is refused -----------------
# The issue's file: it maps the attacker's host to a profile that may mint
# tokens, for a year.  Written where someone else could (group-writable, in
# a shared directory, by another user), it must not be read at all.
creates() { $CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys
print(sum(1 for e in json.load(sys.stdin) if e["method"] == "POST" and e["path"].endswith("/tokens")))'; }
attack_conf() {  # attack_conf FILE
	printf '[defaults]\napi_url = %s\nca_file = %s\nparent_token_file = %s\naccount = %s\n' \
		"$CFTEST_API_URL" "$CFTEST_CA" "$dir/parent.token" "$account" >"$1"
	printf '[profile pwn]\npermissions = Account API Tokens Write\nttl = 365d\nhosts = 127.0.0.1:%s\n' \
		"$evil_port" >>"$1"
}
evil_git=$(printf 'protocol=https\nhost=127.0.0.1:%s\n\n' "$evil_port")
refused_conf() {  # refused_conf WHAT FILE WANT: git get and exec with it, refused
	local before out rc
	before=$(creates)
	out=$(CFTOKEN_CONFIG=$2 XDG_CONFIG_HOME=$dir/xdg cftoken get <<<"$evil_git" 2>&1); rc=$?
	ok $((rc != 2)) "$1: git get is refused (exit $rc)"
	contains "$out" "$3" ; ok $? "  saying why"
	case "$out" in *password=*) ok 1 "  and answers no token" ;; *) ok 0 "  and answers no token" ;; esac
	out=$(CFTOKEN_CONFIG=$2 XDG_CONFIG_HOME=$dir/xdg cftoken --profile pwn exec -- true 2>&1); rc=$?
	ok $((rc != 2)) "  exec is refused too (exit $rc)"
	ok "$(($(creates) - before))" "  and nothing was minted"
}
mkdir -p "$dir/gw"
attack_conf "$dir/gw/config"
chmod 664 "$dir/gw/config"
refused_conf "a group-writable CFTOKEN_CONFIG" "$dir/gw/config" \
	"user configuration file $dir/gw/config is writable by group or others (mode 0664): refused"
# The other ways a file can be open to others run the same check: once is
# enough under a checker (valgrind), where each run costs seconds.
if [ -n "${CFTEST_WRAP:-}" ]; then
	ok 0 "# SKIP a shared directory, another user's file, a symlink, \$XDG_CONFIG_HOME's file: under a checker"
else
	mkdir -p -m 1777 "$dir/shared"
	chmod 1777 "$dir/shared"
	attack_conf "$dir/shared/config"
	refused_conf "a CFTOKEN_CONFIG in a world-writable directory" "$dir/shared/config" \
		"the directory of the user configuration file $dir/shared is writable by group or others"
	attack_conf "$dir/foreign.config"
	if [ "$(id -u)" = 0 ] && chown nobody "$dir/foreign.config" 2>/dev/null; then
		refused_conf "a CFTOKEN_CONFIG another user owns" "$dir/foreign.config" \
			"user configuration file $dir/foreign.config is owned by uid $(id -u nobody)"
	else
		ok 0 "# SKIP a CFTOKEN_CONFIG another user owns: the test runs as uid $(id -u), not root"
	fi
	ln -s "$dir/foreign.config" "$dir/link.config"
	refused_conf "a CFTOKEN_CONFIG that is a symbolic link" "$dir/link.config" "is not a regular file"
	mkdir -p "$dir/xdg/cftoken"
	attack_conf "$dir/xdg/cftoken/config"
	chmod 666 "$dir/xdg/cftoken/config"
	refused_conf "\$XDG_CONFIG_HOME/cftoken/config writable by others" "" \
		"user configuration file $dir/xdg/cftoken/config is writable by group or others (mode 0666)"
fi

# --- 2d. a ceiling on children ----------------------------------------------
# The same file, now the user's own (as in a cloned repository): it passes
# the file checks, so the ceiling is what holds.
mkdir -p "$dir/clone"
attack_conf "$dir/clone/cftoken.conf"
printf '[profile long]\npermissions = Zone Read\nttl = 365d\n' >>"$dir/clone/cftoken.conf"
before=$(creates)
out=$(CFTOKEN_CONFIG=$dir/clone/cftoken.conf cftoken get <<<"$evil_git" 2>&1); rc=$?
ok $((rc != 2)) "a profile with \"Account API Tokens Write\": git get is refused (exit $rc)"
contains "$out" "[profile pwn] asks for \"Account API Tokens Write\", which creates tokens" ; ok $? \
	"  saying the group creates tokens"
contains "$out" "allow_token_minting = true" ; ok $? "  and what would allow it"
case "$out" in *password=*) ok 1 "  and answers no token" ;; *) ok 0 "  and answers no token" ;; esac
out=$(CFTOKEN_CONFIG=$dir/clone/cftoken.conf cftoken --profile long exec -- true 2>&1); rc=$?
ok $((rc != 2)) "a profile with ttl = 365d is refused (exit $rc)"
contains "$out" "[profile long] asks for a token that lives 365d, longer than max_ttl (7d, the default)" ; ok $? \
	"  saying how long, and the limit"
out=$(CFTOKEN_CONFIG=$dir/clone/cftoken.conf cftoken --profile long exec --min-ttl 8d -- true 2>&1); rc=$?
ok $((rc != 2)) "--min-ttl past max_ttl is refused too (exit $rc)"
out=$(CFTOKEN_CONFIG=$dir/clone/cftoken.conf cftoken doctor 2>&1)
contains "$out" "FAIL profile pwn" ; ok $? "doctor names the profile past the ceiling"
ok "$(($(creates) - before))" "nothing was minted"
with_defaults "$dir/clone/cftoken.conf" "allow_token_minting = true" "max_ttl = 400d" \
	>"$dir/clone/cftoken.conf.new" && mv "$dir/clone/cftoken.conf.new" "$dir/clone/cftoken.conf"
out=$(CFTOKEN_CONFIG=$dir/clone/cftoken.conf cftoken --profile long exec -- true 2>&1); rc=$?
ok $((rc != 2)) "a file CFTOKEN_CONFIG names may not lift the ceiling (exit $rc)"
contains "$out" "not a file CFTOKEN_CONFIG names" ; ok $? "  saying so"
# The user's own file may.
mkdir -p "$dir/own/cftoken"
cp "$dir/clone/cftoken.conf" "$dir/own/cftoken/config"
out=$(env -u CFTOKEN_CONFIG XDG_CONFIG_HOME=$dir/own ${CFTEST_WRAP:-} "$front" --profile pwn exec -- true 2>&1); rc=$?
ok $rc "allow_token_minting = true in the user's own file: the profile mints"
groups=$($CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if " pwn " in t["name"] and not t["deleted"]]
print(" ".join(g["id"] for p in t[-1]["policies"] for g in p["permission_groups"]) if t else "")')
contains "$groups" "5bc3f8b21c554832afc660159ab75fa4" ; ok $? "  a token holding \"Account API Tokens Write\""
out=$(env -u CFTOKEN_CONFIG XDG_CONFIG_HOME=$dir/own ${CFTEST_WRAP:-} "$front" --profile long exec -- true 2>&1); rc=$?
ok $rc "and max_ttl = 400d there lets a 365-day token through"

export CFTOKEN_CONFIG=$dir/config
ok "$(bearers evil | grep -cvx "$(sha "$decoy")")" "the other API's server received no token (but the decoy)"
ok "$(bearers mitm | wc -l)" "the interceptor received no token"

tap_done
