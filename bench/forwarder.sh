#!/bin/bash
# Benchmark of exec --proxy's forwarder (issue 18).  Prints figures with
# their targets; asserts nothing.
#   bench/forwarder.sh [ROUNDS]      (default 500)
# Against the API emulator (HTTP/1.1 over TLS, kept alive): the latency a
# request through the forwarder adds to the same request straight to the
# emulator, each on its own kept-alive connection, alternating (target:
# median <= 0.5 ms).  Against tests/integration/echo_upstream.py: the
# throughput of a 20 MB upload through the forwarder against a direct one
# (target >= 0.8x).  And the backend's peak RSS with the forwarder, less
# that of a plain exec under cache = none (the backend as the program's
# parent, without it): the forwarder's share (target <= 8 MiB).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-500}

if [ "${1:-}" != "--inner" ]; then
	cd "$top"
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	work=$top/build/bench-forwarder
	rm -rf "$work"
	mkdir -p "$work"
	export BENCH_WORK=$work BENCH_ROUNDS=$rounds
	exec keyctl session - tests/integration/with-emulator.sh "$work" "$top/bench/forwarder.sh" --inner
fi

work=$BENCH_WORK
front=$top/build/helper/cftoken
. "$top/tests/integration/tap.sh"
export XDG_RUNTIME_DIR=$work/run CFTOKEN_CONFIG=$work/config CFTOKEN_CACHE=kernel
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
unset CLOUDFLARE_API_BASE_URL CFTOKEN_CA_FILE CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_API_TOKEN
start_echo_upstream "$work"
trap 'kill $echo_pid 2>/dev/null' EXIT
configure() {  # configure API_URL
	printf '[defaults]\napi_url = %s\nca_file = %s\naccount = 0123456789abcdef0123456789abcdef\n[profile bench]\npreset = workers-deploy\nttl = 1h\n' \
		"$1" "$CFTEST_CA" >"$CFTOKEN_CONFIG"
	seed_value parent | "$front" login >/dev/null
}
run() {  # run API_URL MODE N: forwarder.py's line
	configure "$1"
	"$front" token --profile bench | "$front" exec --proxy --profile bench -- \
		/usr/bin/python3 "$top/bench/forwarder.py" "$2" "$3" "$1" "$CFTEST_CA"
}
lat=$(run "$CFTEST_API_URL" latency "$BENCH_ROUNDS")
up=$(run "$echo_url" upload 20)
configure "$CFTEST_API_URL"
base=$(CFTOKEN_CACHE=none "$front" exec --profile bench -- /usr/bin/python3 "$top/bench/forwarder.py" rss)
$py - "$lat" "$up" "$base" <<'PY'
import json, sys
lat, up, base = (json.loads(a) for a in sys.argv[1:4])
print("cftoken exec --proxy forwarder benchmark")
print(f"  GET verify, median over {lat['rounds']} alternated rounds: through {lat['through_ms']:.3f} ms, "
      f"direct {lat['direct_ms']:.3f} ms")
print(f"  1. added latency per request   median {lat['added_median_ms']:.3f} ms (p90 {lat['added_p90_ms']:.3f})"
      f"   target <= 0.5 ms  {'ok' if lat['added_median_ms'] <= 0.5 else 'MISSED'}")
print(f"  2. 20 MB upload, best of 5     {up['through_mb_s']:.0f} MB/s through, {up['direct_mb_s']:.0f} MB/s direct:"
      f" {up['ratio']:.2f}x   target >= 0.8x  {'ok' if up['ratio'] >= 0.8 else 'MISSED'}")
rss = max(lat["backend_peak_rss_kib"], up["backend_peak_rss_kib"]) / 1024
plain = base["backend_peak_rss_kib"] / 1024
print(f"  3. forwarder's peak RSS        {rss - plain:.1f} MiB (backend {rss:.1f} MiB with it, {plain:.1f} MiB"
      f" without)   target <= 8 MiB  {'ok' if rss - plain <= 8 else 'MISSED'}")
PY
