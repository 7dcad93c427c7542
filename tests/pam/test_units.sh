#!/bin/bash
# The broker's systemd units: systemd-analyze verify finds nothing wrong,
# and the sandbox scores as systemd rates it; the module's man page formats
# cleanly.
#   test_units.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
. "$src/tests/integration/tap.sh"
if ! command -v systemd-analyze >/dev/null || ! command -v groff >/dev/null; then
	echo "1..0 # SKIP systemd-analyze or groff is not installed"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$build/packaging/cftoken-broker.service" "$src/packaging/systemd/cftoken-broker.socket" "$dir/"
# verify checks that ExecStart exists: point it at the built broker
sed -i "s|^ExecStart=[^ ]*|ExecStart=$build/pam/cftoken-broker|" "$dir/cftoken-broker.service"
# (the man page it names is checked by the packaging tests, not here)
out=$(systemd-analyze verify "$dir/cftoken-broker.socket" "$dir/cftoken-broker.service" 2>&1 |
	grep -v "Command 'man ")
ok "$([ -z "$out" ] && echo 0 || echo 1)" "systemd-analyze verify: the socket and service units are clean"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
score=$(systemd-analyze security --offline=yes "$dir/cftoken-broker.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for cftoken-broker.service: \([0-9.]*\).*/\1/p')
ok "$(awk -v s="${score:-10}" 'BEGIN { exit !(s <= 3.0) }'; echo $?)" \
	"the broker's sandbox: exposure ${score:-unknown} (at most 3.0, \"OK\")"
grep -q '^ListenStream=/run/cftoken/broker.sock$' "$dir/cftoken-broker.socket"
ok $? "the socket is where cftoken looks for it (run_dir/broker.sock)"
for page in pam/pam_cftoken.8 helper/cftoken.1; do
	warnings=$(groff -man -ww -z "$src/$page" 2>&1)
	ok "$([ -z "$warnings" ] && echo 0 || echo 1)" "$(basename "$page") formats without a groff warning"
	[ -z "$warnings" ] || echo "$warnings" | sed 's/^/#   /'
done
# every command cftoken --help lists is in the man page
missing=$("$build/helper/cftoken" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' |
	while read -r cmd; do grep -q "^\.B $cmd\b\|^\.B .*\\fB$cmd\b\|^\.B $cmd\\f" "$src/helper/cftoken.1" || echo "$cmd"; done)
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "cftoken(1) documents every command ($missing)"
tap_done
