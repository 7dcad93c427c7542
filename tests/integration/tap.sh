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

password_of() { sed -n 's/^password=//p'; }

# own_api_hash ID: the API hash that ends the kernel-keyring descriptions of
# this test's cache entries (cftoken:UID:ACCOUNT:PROFILE:HASH), read off the
# key that holds token ID.  Tests of one uid share its user keyring, each
# with its own emulator (and so its own hash), and may run at once: a test
# drops only keys that end in its own hash, never another test's.
own_api_hash() {
	local k desc
	# (one keyctl show for the descriptions: @u may hold hundreds of keys)
	while read -r k desc; do
		if keyctl pipe "$k" 2>/dev/null | grep -qx "id=$1"; then
			echo "${desc##*:}"
			return 0
		fi
	done < <(keyctl show @u 2>/dev/null | awk '$NF ~ /^cftoken:/ { print $1, $NF }')
	return 1
}

tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
