#!/bin/bash
# One libFuzzer target as a meson test (suite fuzz), in TAP:
#   run-fuzz.sh FUZZER NAME SOURCE_DIR BUILD_DIR
#   1. every input kept in SOURCE_DIR/regressions/NAME (each crash the
#      fuzzers found, since fixed) runs clean;
#   2. the seed corpus SOURCE_DIR/corpus/NAME runs clean;
#   3. CFTOKEN_FUZZ_SECONDS (default 30) of fuzzing from a copy of the
#      corpus, with NAME.dict when there is one, finds no crash.
# Executions, exec/s and coverage (libFuzzer's cov: and ft:) are printed as
# "# " lines; the last one, "# stats: ...", is what bench/fuzz.sh reads.
# Nothing is written into the source tree: the corpus grows in a temporary
# copy, and a crashing input is kept in BUILD_DIR/crashes-NAME/.
set -uo pipefail

if [ $# -ne 4 ]; then
	echo "usage: $0 FUZZER NAME SOURCE_DIR BUILD_DIR" >&2
	exit 2
fi
fuzzer=$1 name=$2 src=$3 build=$4
secs=${CFTOKEN_FUZZ_SECONDS:-30}
case $secs in
'' | *[!0-9]*) echo "Bail out! CFTOKEN_FUZZ_SECONDS=$secs is not a number of seconds"; exit 1 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cftoken-fuzz-$name.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
crashes=$build/crashes-$name
mkdir -p "$crashes" "$tmp/corpus"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

echo "1..3"

# The lines of a log worth showing after a failure, as TAP comments.
report() {  # report LOG
	grep -E 'ERROR: |runtime error|SUMMARY|Running: |^ +#[0-4] 0x|Test unit written|Base64' "$1" |
		head -n 30 | sed 's/^/# /'
}

# Runs each file once (libFuzzer's way with file arguments).
run_inputs() {  # run_inputs NUMBER WHAT FILE...
	local n=$1 what=$2
	shift 2
	if [ $# -eq 0 ]; then
		echo "ok $n - $what: no inputs # SKIP"
		return
	fi
	if "$fuzzer" -error_exitcode=77 -timeout=10 -artifact_prefix="$tmp/" "$@" \
		>"$tmp/run.log" 2>&1; then
		echo "ok $n - $what: $# inputs run clean"
	else
		echo "not ok $n - $what: an input fails"
		report "$tmp/run.log"
	fi
}

shopt -s nullglob
run_inputs 1 "regressions/$name" "$src/regressions/$name"/*
cp -R "$src/corpus/$name/." "$tmp/corpus/" 2>/dev/null
run_inputs 2 "corpus/$name" "$tmp/corpus"/*

dict=()
[ -f "$src/$name.dict" ] && dict=("-dict=$src/$name.dict")
before=$(ls "$crashes" | wc -l)
# libFuzzer stops itself after $secs; the timeout only catches a hang of
# the fuzzer itself.
timeout -k 10 $((secs + 120)) "$fuzzer" -max_total_time="$secs" -error_exitcode=77 \
	-timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
	"$tmp/corpus" >"$tmp/fuzz.log" 2>&1
rc=$?
found=$(($(ls "$crashes" | wc -l) - before))

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/fuzz.log" | tail -n 1)
cov=$(grep -oE 'cov: [0-9]+' "$tmp/fuzz.log" | tail -n 1 | cut -d' ' -f2)
ft=$(grep -oE 'ft: [0-9]+' "$tmp/fuzz.log" | tail -n 1 | cut -d' ' -f2)
units=$(ls "$tmp/corpus" | wc -l)
if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
	echo "ok 3 - $secs s of fuzzing: no crash"
else
	echo "not ok 3 - $secs s of fuzzing: exit $rc, $found crashing input(s) in $crashes"
	report "$tmp/fuzz.log"
	for f in $(ls -t "$crashes" | head -n "$((found > 0 ? 1 : 0))"); do
		echo "# $crashes/$f:"
		od -c "$crashes/$f" | head -n 20 | sed 's/^/#   /'
	done
fi
echo "# $name: ${execs:-?} executions in $secs s, ${rate:-?} exec/s, cov: ${cov:-?}, ft: ${ft:-?}, corpus: $units inputs"
echo "# stats: target=$name seconds=$secs execs=${execs:-0} exec_per_s=${rate:-0} cov=${cov:-0} ft=${ft:-0} crashes=$found"
