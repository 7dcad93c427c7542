#!/bin/bash
# The libFuzzer targets (tests/fuzz), each for longer than CI runs them.
# Prints figures; the exit status says whether any target crashed.
#   bench/fuzz.sh [SECONDS]      (per target; default 300)
# Builds build-fuzz (clang, -Dfuzzing=true) when it is not there yet,
# then runs the targets one after the other, each from a temporary copy
# of its seed corpus (tests/fuzz/run-fuzz.sh, as `meson test --suite fuzz`
# does), and ends with a table: target, executions, exec/s, coverage
# (libFuzzer's cov: edges and ft: features), crashes.  A crashing input
# is kept in build-fuzz/tests/fuzz/crashes-TARGET/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-300}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
targets=(gitcred config api time l1_record)

cd "$top"
build=build-fuzz
if [ ! -d "$build" ]; then
	log=$(mktemp)
	CC=clang meson setup "$build" -Dfuzzing=true >"$log" 2>&1 ||
		{ cat "$log"; rm -f "$log"; exit 1; }
	rm -f "$log"
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null || {
	echo "bench: $build must be a clang build with -Dfuzzing=true (remove it to start again)" >&2
	exit 1
}

status=0
rows=()
for t in "${targets[@]}"; do
	echo "== $t: $secs s" >&2
	out=$(CFTOKEN_FUZZ_SECONDS=$secs tests/fuzz/run-fuzz.sh "$build/tests/fuzz/fuzz_$t" "$t" \
		"$top/tests/fuzz" "$top/$build/tests/fuzz") || true
	grep -E '^not ok|^#   |^# (ERROR|SUMMARY)|runtime error' <<<"$out" >&2 || true
	grep -q '^not ok' <<<"$out" && status=1
	stats=$(grep '^# stats: ' <<<"$out" | tail -n 1)
	get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$stats"; }
	rows+=("$(printf '%-10s %12s %9s %6s %7s %8s' "$t" "$(get execs)" "$(get exec_per_s)" \
		"$(get cov)" "$(get ft)" "$(get crashes)")")
done

echo
echo "libFuzzer, $secs s per target, $(nproc) CPUs, $(clang --version | head -n 1)"
printf '%-10s %12s %9s %6s %7s %8s\n' target executions exec/s cov ft crashes
printf '%s\n' "${rows[@]}"
exit "$status"
