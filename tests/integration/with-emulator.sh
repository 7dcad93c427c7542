#!/bin/bash
# Runs one command against a private instance of the API emulator:
#   with-emulator.sh WORKDIR COMMAND [ARGS...]
# (environment CFTEST_WRAP: a command prefix such as valgrind;
# CFTEST_EMU_LIFETIME: seconds after which a forgotten emulator exits,
# default 900;
# CFTEST_VALUES_LOG: where the emulator appends every token value it
# holds, default WORKDIR/token-values, for tests/leaks/scan-outputs.sh;
# exported to COMMAND, absolute, for a test's own scan;
# CFTEST_FORGET_API: tests/integration/forget_api, run before COMMAND;
# it sets CFTEST_API_HASH for COMMAND)
# Generates the test CA and certificates once per WORKDIR, starts the
# emulator on a free loopback port, exports where it is, runs COMMAND, and
# stops the emulator whatever happens.  The exit status is COMMAND's.
set -euo pipefail
# cftoken refuses configuration files (and their directories) that group or
# others may write: the files the tests write are the user's alone.
umask 022

here=$(cd "$(dirname "$0")" && pwd)
emu="$here/../emulator"
work=$1
shift
mkdir -p "$work"
certs="$work/certs"
"$emu/gen-certs.sh" "$certs"

run=$(mktemp -d "$work/emu.XXXXXX")
ready="$run/port"
python=/usr/bin/python3
values_log=$(realpath -m "${CFTEST_VALUES_LOG:-$work/token-values}")
"$python" "$emu/cfemu.py" --cert "$certs/server.pem" --key "$certs/server.key" \
	--seed "${CFTEST_SEED:-$here/seed.json}" --port 0 --ready-file "$ready" \
	--max-lifetime "${CFTEST_EMU_LIFETIME:-900}" --values-log "$values_log" \
	2>"$run/emulator.log" &
emu_pid=$!
cleanup() {
	kill "$emu_pid" 2>/dev/null || true
	wait "$emu_pid" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT

for _ in $(seq 1 200); do
	[ -s "$ready" ] && break
	if ! kill -0 "$emu_pid" 2>/dev/null; then
		echo "Bail out! the emulator did not start:" >&2
		cat "$run/emulator.log" >&2
		exit 99
	fi
	sleep 0.05
done
if [ ! -s "$ready" ]; then
	echo "Bail out! the emulator did not become ready in 10 s" >&2
	exit 99
fi
port=$(cat "$ready")

export CFTEST_EMU_URL="https://127.0.0.1:$port"
export CFTEST_API_URL="$CFTEST_EMU_URL/client/v4"
export CFTEST_CA="$certs/ca.pem"
export CFTEST_CERTS="$certs"
export CFTEST_SEED="${CFTEST_SEED:-$here/seed.json}"
export CFTEST_EMUCTL="$python $emu/emuctl.py --url $CFTEST_EMU_URL --ca $CFTEST_CA"
export CFTEST_WORK="$run"
export CFTEST_VALUES_LOG="$values_log"
# Ports come round again, and the user keyring outlives the tests: what an
# earlier emulator on this port left there is not this test's.
# (it prints the API's hash, which ends the names of this test's keys)
if [ -n "${CFTEST_FORGET_API:-}" ] &&
	! CFTEST_API_HASH=$("$CFTEST_FORGET_API" "$CFTEST_API_URL"); then
	echo "Bail out! the keys an earlier emulator at $CFTEST_API_URL left could not be removed" >&2
	exit 99
fi
export CFTEST_API_HASH=${CFTEST_API_HASH:-}
set +e
# CFTEST_WRAP (valgrind, say) runs the test program under a checker;
# a shell-script test applies it to each program it runs instead.
if [ -n "${CFTEST_WRAP:-}" ] && head -c 4 "$1" | grep -q ELF; then
	$CFTEST_WRAP "$@"
else
	"$@"
fi
status=$?
set -e
if [ "$status" -ne 0 ] && [ -s "$run/emulator.log" ]; then
	echo "# emulator log:"
	sed 's/^/#   /' "$run/emulator.log" | tail -20
fi
exit "$status"
