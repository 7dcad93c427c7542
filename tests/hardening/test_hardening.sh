#!/bin/bash
# The hardened build, checked on what ships: every program and the PAM
# module (libcftoken is linked into them statically), with Debian's
# hardening-check.
#   test_hardening.sh BUILD_DIR SANITIZE
# Required: PIE (programs), stack protector, _FORTIFY_SOURCE (=3) functions,
# RELRO and immediate binding, and the compiler flags for stack clash and
# CET present in every compile command.  hardening-check's own heuristics
# for stack clash ("unknown" without large frames) and control-flow
# integrity (Debian 12's glibc start files carry no CET property, so no
# binary linked against them, sshd included, gets one) are reported only.
set -u
build=$1
sanitize=$2
. "$(dirname "$0")/../integration/tap.sh"
if [ "$sanitize" != none ]; then
	echo "1..0 # SKIP a sanitizer build ($sanitize) leaves _FORTIFY_SOURCE out"
	exit 0
fi
if ! command -v hardening-check >/dev/null; then
	echo "1..0 # SKIP hardening-check (devscripts) is not installed"
	exit 0
fi
shipped=(helper/cftoken helper/cftoken-backend helper/cftoken-l2 pam/pam_cftoken.so
	pam/cftoken-pam-helper pam/cftoken-pam-worker pam/cftoken-broker)
for f in "${shipped[@]}"; do
	out=$(hardening-check "$build/$f" 2>&1)
	bad=$(grep -E '^ (Position Independent Executable|Stack protected|Fortify Source functions|Read-only relocations|Immediate binding): no' <<<"$out" |
		grep -v 'regular shared library' | sed 's/^ *//' | tr '\n' ';')
	ok "$([ -z "$bad" ] && echo 0 || echo 1)" "$f: PIE, stack protector, fortify, RELRO, BIND_NOW ${bad:+($bad)}"
	info=$(grep -E 'Stack clash|Control flow' <<<"$out" | sed 's/^ *//' | tr '\n' ';')
	echo "#   $f: $info"
done
fortify=$(grep -o -- '-D_FORTIFY_SOURCE=[0-9]' "$build/compile_commands.json" | sort -u | tr '\n' ' ')
ok "$([ "$fortify" = "-D_FORTIFY_SOURCE=3 " ] && echo 0 || echo 1)" "every compile uses _FORTIFY_SOURCE=3 ($fortify)"
missing=$($py - "$build/compile_commands.json" <<'PY'
import json, sys
flags = ["-fstack-protector-strong", "-fstack-clash-protection", "-fcf-protection"]
for c in json.load(open(sys.argv[1])):
    for f in flags:
        if f not in c["command"]:
            print(c["file"], f)
PY
)
ok "$([ -z "$missing" ] && echo 0 || echo 1)" \
	"every compile command has -fstack-protector-strong, -fstack-clash-protection, -fcf-protection"
[ -z "$missing" ] || echo "$missing" | head -5 | sed 's/^/#   /'
tap_done
