# The start the shell tests of cftoken's own commands share (sourced, with
# tap.sh, which it sources): one account, cftoken and emuctl as functions,
# a private keyring session, and a work directory whose environment names
# nothing but its own runtime directory and configuration file.  What a
# test does differently stays in the test, after these.
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# the one account of the emulator's seed (seed.json)
account=0123456789abcdef0123456789abcdef
# (front: the test's path to helper/cftoken, set before the first call;
# CFTEST_WRAP, valgrind say, applies to each run of ours)
cftoken() { ${CFTEST_WRAP:-} "$front" "$@"; }
emu() { $CFTEST_EMUCTL "$@"; }
# account_held: the account-owned tokens the account holds (expired ones too)
account_held() { emu GET /__emu/tokens | $py -c 'import json,sys
print(sum(1 for t in json.load(sys.stdin) if not t["deleted"] and t["owner"] == "account"))'; }

# in_test_session "$0" "$@": the test again, in a new anonymous session
# keyring (as under `su` without pam_keyinit), unless it is there already.
# Its keys then go nowhere another test or the caller's session looks,
# and cftoken must link @u itself to keep its keys readable.
in_test_session() {
	[ -n "${CFTEST_IN_SESSION:-}" ] && return 0
	CFTEST_IN_SESSION=1 exec keyctl session - "$@"
}

# test_workdir NAME: dir=$CFTEST_WORK/NAME, with a private runtime
# directory (mode 700, as the session's is) and the configuration file's
# name exported; none of the variables that would take the place of the
# configuration file's settings (a caller's, or a developer's shell's)
# reaches cftoken.  A test sets the ones it means after this.
test_workdir() {
	dir=$CFTEST_WORK/$1
	mkdir -p "$dir"
	export XDG_RUNTIME_DIR=$dir/run CFTOKEN_CONFIG=$dir/config
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN CFTOKEN_CACHE
}

# defaults_section [API_URL [CA_FILE]]: the [defaults] lines every such
# configuration starts with: the emulator (or API_URL, a front of it), its
# CA (or CA_FILE, a copy of it), the account.  A test's heredoc adds its own
# lines below `$(defaults_section)`.
defaults_section() {
	printf '[defaults]\napi_url = %s\nca_file = %s\naccount = %s\n' \
		"${1:-$CFTEST_API_URL}" "${2:-$CFTEST_CA}" "$account"
}
