#!/bin/bash
# Benchmark of the cold path (issue 17).  Prints figures with their
# targets; asserts nothing.
#   bench/cold.sh [ROUNDS]       (default 25; at least 20)
# In one run, against the API emulator (HTTP/1.1, keep-alive) and one
# gnome-keyring-daemon in a private dbus-run-session, alternating each round:
#   one `curl` POST that creates a token, on a fresh connection, with the
#   parent token and the very body cftoken sent (the floor: one request);
#   a cold `cftoken get`: `cftoken erase` first (untimed) drops the token
#   from both caches, so the get mints; timed to its answer (standard
#   output at EOF) and to its exit;
#   a cold pam_cftoken open_session through pam_wrapper (bench/pam.sh's
#   "cold" service: nothing cached, revoke_on_close empties the cache after
#   each round), as pam-session times pam_open_session() alone.
# From the emulator's log: the API requests each cold get made before its
# answer, in all, and on how many TLS connections.
# The runtime directories (the user's XDG_RUNTIME_DIR, the module's
# run_dir) are on a tmpfs, as systemd gives them (/run/user/UID, /run):
# the notes written there before a create are synced, which costs a disk
# a flush that a tmpfs does not pay.
# As root the run holds /tmp/cftoken-root-tests.lock (the PAM part uses
# root's user keyring, which the root-run test suites share);
# BENCH_PAM=no leaves the PAM part out, and the lock with it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-25}

if [ "${1:-}" != "--inner" ]; then
	cd "$top"
	[ "$rounds" -ge 20 ] || { echo "bench: at least 20 rounds" >&2; exit 2; }
	tests/install-deps.sh
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	work=$top/build/bench-cold
	rm -rf "$work"
	mkdir -p "$work/home" "$work/pam.d"
	export HOME=$work/home BENCH_WORK=$work BENCH_ROUNDS=$rounds BENCH_PAM=${BENCH_PAM:-yes}
	lock=()
	[ "$(id -u)" != 0 ] || [ "$BENCH_PAM" = no ] || lock=(flock /tmp/cftoken-root-tests.lock)
	exec "${lock[@]}" keyctl session - dbus-run-session -- \
		tests/integration/with-emulator.sh "$work" "$top/bench/cold.sh" --inner \
		2> >(grep -v 'fd limit' >&2)
fi

work=$BENCH_WORK
rounds=$BENCH_ROUNDS
build=$top/build
front=$build/helper/cftoken
account=0123456789abcdef0123456789abcdef
profile=bench-cold-$$
me=$(id -un)
keyctl link @u @s >/dev/null
echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
/usr/bin/python3 -c 'import json,sys; print(next(t["value"] for t in json.load(open(sys.argv[1]))["tokens"] if t["name"] == "parent"))' \
	"$CFTEST_SEED" >"$work/parent"
chmod 600 "$work/parent"

# One token shape for both: the user's profile and the PAM policy.
config() {  # config DEFAULTS_LINES SECTION: the file on stdout
	printf '[defaults]\napi_url = %s\nca_file = %s\naccount = %s\n%s\n[%s]\npreset = workers-deploy\nttl = 8h\n' \
		"$CFTEST_API_URL" "$CFTEST_CA" "$account" "$1" "$2"
}

# cftoken get: a profile of this run's own.
runtime=$(mktemp -d /dev/shm/cftoken-bench.XXXXXX)
trap 'rm -rf "$runtime"' EXIT
export XDG_RUNTIME_DIR=$runtime/user CFTOKEN_CONFIG=$work/config
mkdir -m 700 "$XDG_RUNTIME_DIR"
config "profile = $profile" "profile $profile" >"$CFTOKEN_CONFIG"
"$front" login <"$work/parent" >/dev/null
printf 'protocol=https\nhost=api.cloudflare.com\n\n' >"$work/cftoken.req"
"$front" get <"$work/cftoken.req" >/dev/null    # the first mint (login's checks done)

# curl: the create request cftoken just sent, body and all (the log keeps
# request bodies; a create's holds no secret), with the parent token in a
# header file, out of argv.
$CFTEST_EMUCTL GET /__emu/log | /usr/bin/python3 -c '
import json, sys
creates = [e for e in json.load(sys.stdin) if e["method"] == "POST" and e["path"].endswith("/tokens")]
json.dump(creates[-1]["request_body"], sys.stdout)' >"$work/create.json"
{ printf 'Authorization: Bearer '; cat "$work/parent"; } >"$work/auth.header"
chmod 600 "$work/auth.header"

# PAM: bench/pam.sh's cold service.
wrapper=$(pkg-config --libs pam_wrapper)
permit=$(find /usr/lib /lib -name pam_permit.so -path '*security*' | head -1)
config "parent_token_file = $work/parent
run_dir = $runtime/pam-run" "user $me" >"$work/cftoken.conf"
chmod 644 "$work/cftoken.conf"
printf 'session optional %s helper=%s config=%s revoke_on_close\nsession required %s\n' \
	"$build/pam/pam_cftoken.so" "$build/pam/cftoken-pam-helper" "$work/cftoken.conf" \
	"$permit" >"$work/pam.d/cold"
for k in $(keyctl rlist @u); do    # no login token cached: every open mints
	case "$(keyctl rdescribe "$k" 2>/dev/null)" in *";cftoken"*":login:"*) keyctl unlink "$k" @u >/dev/null ;; esac
done

/usr/bin/python3 - "$work/spec.json" <<PY
import json, sys
spec = {
 "curl_create": {"argv": ["curl", "-sS", "--fail", "-o", "/dev/null", "--cacert", "$CFTEST_CA",
                          "-H", "@$work/auth.header", "-H", "Content-Type: application/json",
                          "--data-binary", "@$work/create.json",
                          "$CFTEST_API_URL/accounts/$account/tokens"], "stdin": None},
 "cftoken_get_cold": {"argv": ["$front", "get"], "stdin": "$work/cftoken.req",
                      "before": ["sh", "-c", 'exec "\$0" erase <"\$1"', "$front", "$work/cftoken.req"]},
 "pam_open_cold": {"argv": ["env", "LD_PRELOAD=$wrapper", "PAM_WRAPPER=1",
                            "PAM_WRAPPER_SERVICE_DIR=$work/pam.d",
                            "$build/tests/pam/pam-session", "cold", "$me"], "stdin": None,
                   "ms_from": r"open 1: PAM_SUCCESS .* in ([0-9]+) ms"},
}
if "$BENCH_PAM" == "no":
    del spec["pam_open_cold"]
json.dump(spec, open(sys.argv[1], "w"), indent=1)
PY
# shellcheck disable=SC2086  # CFTEST_EMUCTL is a command line: split on purpose
/usr/bin/python3 "$top/bench/cold.py" "$work/spec.json" "$rounds" $CFTEST_EMUCTL >"$work/result.json"

/usr/bin/python3 - "$work/result.json" "$rounds" <<'PY'
import collections, json, statistics, sys
r = json.load(open(sys.argv[1]))
rounds = int(sys.argv[2])
med = statistics.median
def p90(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * 0.9))]
def line(what, value, target, ok):
    print(f"{what:<62} {value:>12}   target {target:<8} {'met' if ok else 'MISSED'}")
curl, get, pam = r["curl_create"], r["cftoken_get_cold"], r.get("pam_open_cold")
print(f"cftoken cold-path benchmark: medians over {rounds} alternated rounds")
print(f"  curl create, fresh connection  median {med(curl['exit_ms']):7.1f} ms   p90 {p90(curl['exit_ms']):7.1f} ms")
print(f"  cold cftoken get, to answer    median {med(get['answer_ms']):7.1f} ms   p90 {p90(get['answer_ms']):7.1f} ms")
print(f"  cold cftoken get, to exit      median {med(get['exit_ms']):7.1f} ms   p90 {p90(get['exit_ms']):7.1f} ms")
if pam:
    print(f"  cold PAM open_session          median {med(pam['answer_ms']):7.1f} ms   p90 {p90(pam['answer_ms']):7.1f} ms"
          "   (pam-session's whole-ms figure)")
shapes = collections.Counter(" -> ".join(p) for p in get["paths"])
print("  requests of a cold get (count of rounds: requests in order):")
for shape, n in shapes.most_common():
    print(f"    {n:3d}x  {shape}")
print(f"  TLS connections per cold get: median {med(get['connections']):g}, max {max(get['connections'])}"
      f"; per curl create: {max(curl['connections'])}")
a = med(get["answer_ms"]) / med(curl["exit_ms"])
line("1. cold cftoken get (to answer) / one curl create", f"{a:.2f}x", "<= 1.3", a <= 1.3)
e = med(get["exit_ms"]) / med(curl["exit_ms"])
line("   cold cftoken get (to exit; git waits for it) / curl create", f"{e:.2f}x", "(report)", True)
if pam:
    b = med(pam["answer_ms"]) / med(curl["exit_ms"])
    line("2. cold PAM open_session / one curl create", f"{b:.2f}x", "<= 1.5", b <= 1.5)
else:
    print("2. cold PAM open_session: left out (BENCH_PAM=no)")
n = med(get["before_answer"])
line("3. API requests before a cold get's answer (median)", f"{n:g}", "1", n == 1)
PY
