# TAP helpers for the shell tests (sourced).  Each test calls `ok` per
# check and `tap_done` at the end.
n=0
failed=0
py=/usr/bin/python3

ok() {  # ok STATUS DESCRIPTION: STATUS 0 passes
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

tap_row() {  # tap_row NAME [PROBLEM...]: one check, failing with each problem
	# as a comment line; status 1 when it failed, for the caller to add more
	local name=$1
	shift
	n=$((n + 1))
	if [ $# -eq 0 ]; then
		echo "ok $n - $name"
		return 0
	fi
	echo "not ok $n - $name"
	failed=$((failed + 1))
	printf '#   %s\n' "$@"
	return 1
}

contains() {  # contains TEXT PART: status 0 when TEXT holds PART
	case "$1" in
	*"$2"*) return 0 ;;
	*) echo "#   \"${1:0:400}\" does not contain \"$2\""; return 1 ;;
	esac
}

seed_value() {  # the value of the emulator seed's token named $1
	$py -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == sys.argv[2]))' "$CFTEST_SEED" "$1"
}

# expires_epoch ID: when the emulator's token ID expires, in seconds since
# the epoch (0 when it has no such token)
expires_epoch() {
	$CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys,datetime
t=next(t for t in json.load(sys.stdin) if t["id"]==sys.argv[1])
print(int(datetime.datetime.fromisoformat(t["expires_on"].replace("Z","+00:00")).timestamp()))' "$1" ||
		echo 0
}

password_of() { sed -n 's/^password=//p'; }

# api_calls 'POST /tokens': how many requests of the emulator's log, since
# it was last cleared, hold that in their method and path
api_calls() {
	$CFTEST_EMUCTL GET /__emu/log | $py -c 'import json,sys; l=json.load(sys.stdin); print(sum(1 for e in l if sys.argv[1] in (e["method"]+" "+e["path"])))' "$1"
}

# key_holding PREFIX LINE: "SERIAL DESCRIPTION" of the first key in @u whose
# description starts with PREFIX and whose payload has the line LINE.
key_holding() {
	local k desc
	# (one keyctl show for the descriptions: @u may hold hundreds of keys)
	while read -r k desc; do
		if keyctl pipe "$k" 2>/dev/null | grep -qxF "$2"; then
			echo "$k $desc"
			return 0
		fi
	done < <(keyctl show @u 2>/dev/null | awk -v p="$1" 'index($NF, p) == 1 { print $1, $NF }')
	return 1
}

# keys_ending SUFFIX: the ids of the cftoken keys of @u whose description
# ends in SUFFIX (one keyctl show, as above: a key at a time would cost
# seconds per hundred keys)
keys_ending() {
	keyctl show @u 2>/dev/null | awk -v s="$1" \
		'index($NF, "cftoken") == 1 && substr($NF, length($NF) - length(s) + 1) == s { print $1 }'
}
# drop_keys SUFFIX: unlinks them from @u
drop_keys() {
	local k
	for k in $(keys_ending "$1"); do keyctl unlink "$k" @u >/dev/null; done
}

# own_api_hash ID: the API hash that ends the kernel-keyring descriptions of
# this test's cache entries (cftoken:UID:ACCOUNT:PROFILE:HASH), read off the
# key that holds token ID.  Tests of one uid share its user keyring, each
# with its own emulator (and so its own hash), and may run at once: a test
# drops only keys that end in its own hash, never another test's.
own_api_hash() {
	local found
	found=$(key_holding cftoken: "id=$1") || return 1
	echo "${found##*:}"
}

# start_echo_upstream DIR: echo_upstream.py, an HTTPS front of the emulator
# that shows what a forwarded request carried (test_forwarder*.sh); sets
# echo_url (its API base) and echo_pid, and notes what it saw in DIR/echo.events
start_echo_upstream() {
	$py "$(dirname "${BASH_SOURCE[0]}")/echo_upstream.py" --cert "$CFTEST_CERTS/server.pem" \
		--key "$CFTEST_CERTS/server.key" --ca "$CFTEST_CA" --upstream "$CFTEST_EMU_URL" \
		--ready-file "$1/echo.port" --events "$1/echo.events" 2>"$1/echo.log" &
	echo_pid=$!
	for _ in $(seq 1 200); do [ -s "$1/echo.port" ] && break; sleep 0.05; done
	echo_url=https://127.0.0.1:$(cat "$1/echo.port")/client/v4
}

tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
