#!/bin/bash
# Benchmark of pam_cftoken's open_session (issue 4).  Prints figures with
# their targets; asserts nothing.
#   bench/pam.sh [ROUNDS]        (default 30)
# Through real libpam under pam_wrapper, against the API emulator, as the
# invoking user, timing pam_open_session() alone (tests/pam/pam_session.c):
#   warm: the user's kernel keyring holds a fresh login token (target:
#         median <= 10 ms);
#   cold: nothing cached, one token created (revoke_on_close empties the
#         cache after each round);
#   black-holed: the API never answers; the session must open within the
#         deadline (target <= timeout + 100 ms; timeout=2 here, 5 s by default).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-30}

if [ "${1:-}" != "--inner" ]; then
	cd "$top"
	tests/install-deps.sh
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	work=$top/build/bench-pam
	rm -rf "$work"
	mkdir -p "$work/pam.d"
	export BENCH_WORK=$work BENCH_ROUNDS=$rounds
	exec keyctl session - tests/integration/with-emulator.sh "$work" "$top/bench/pam.sh" --inner
fi

work=$BENCH_WORK
rounds=$BENCH_ROUNDS
keyctl link @u @s >/dev/null
build=$top/build
me=$(id -un)
wrapper=$(pkg-config --libs pam_wrapper)
permit=$(find /usr/lib /lib -name pam_permit.so -path '*security*' | head -1)
/usr/bin/python3 -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == "parent"))' \
	"$CFTEST_SEED" >"$work/parent"
chmod 600 "$work/parent"
cat >"$work/cftoken.conf" <<CONF
[defaults]
api_url = $CFTEST_API_URL
ca_file = $CFTEST_CA
account = 0123456789abcdef0123456789abcdef
parent_token_file = $work/parent
run_dir = $work/run
[user $me]
preset = workers-deploy
ttl = 8h
CONF
chmod 644 "$work/cftoken.conf"
service() {  # service NAME OPTIONS...
	local name=$1
	shift
	printf 'session optional %s helper=%s config=%s %s\nsession required %s\n' \
		"$build/pam/pam_cftoken.so" "$build/pam/cftoken-pam-helper" "$work/cftoken.conf" "$*" \
		"$permit" >"$work/pam.d/$name"
}
service warm
service cold revoke_on_close
service blackholed timeout=2
open_ms() {  # open_ms SERVICE: pam_open_session's time, in ms
	LD_PRELOAD=$wrapper PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$work/pam.d \
		"$build/tests/pam/pam-session" "$1" "$me" 2>/dev/null |
		sed -n 's/^open 1: PAM_SUCCESS .* in \([0-9]*\) ms$/\1/p'
}
drop_login_keys() {
	for k in $(keyctl rlist @u); do
		case "$(keyctl rdescribe "$k" 2>/dev/null)" in *";cftoken"*":login:"*) keyctl unlink "$k" @u >/dev/null ;; esac
	done
}
: >"$work/cold.ms"; : >"$work/warm.ms"; : >"$work/blackholed.ms"
drop_login_keys
for _ in $(seq "$rounds"); do
	open_ms cold >>"$work/cold.ms"      # mints; its close revokes and drops it
done
open_ms warm >/dev/null                 # mints once
for _ in $(seq "$rounds"); do
	open_ms warm >>"$work/warm.ms"
done
drop_login_keys
$CFTEST_EMUCTL POST /__emu/faults '{"path": "/client/v4", "times": null, "kind": "blackhole"}' >/dev/null
for _ in $(seq 3); do
	open_ms blackholed >>"$work/blackholed.ms"
done
/usr/bin/python3 - "$work" "$rounds" <<'PY'
import statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def figures(name):
    v = sorted(int(x) for x in open(f"{work}/{name}.ms").read().split())
    if not v:
        return "no successful runs"
    p90 = v[min(len(v) - 1, int(len(v) * 0.9))]
    return f"median {statistics.median(v):.0f} ms, p90 {p90} ms, max {v[-1]} ms ({len(v)} runs)"
print("pam_cftoken open_session (pam_wrapper, emulator on loopback)")
print(f"  warm (kernel keyring hit):  {figures('warm')}   target: median <= 10 ms")
print(f"  cold (one token created):   {figures('cold')}")
print(f"  black-holed API, timeout=2: {figures('blackholed')}   target: <= 2100 ms")
PY
