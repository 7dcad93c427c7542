#!/bin/bash
# The whole test suite, as the README gives it and CI runs it:
#   1. a build with warnings as errors, every test;
#   2. a build with AddressSanitizer and UndefinedBehaviorSanitizer, every test;
#   3. the libFuzzer targets;
#   4. the unit, integration and PAM tests again under valgrind (memcheck);
#   5. no output of any of them holds a token value (tests/leaks).
# Each phase ends with "== NAME took N s" (what a slow CI run spent where).
# Ends with one line: "N passed, N failed" (TAP checks over all three runs).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
phase_start=$SECONDS
took() {  # took NAME: the seconds since the last phase ended
	echo "== $1 took $((SECONDS - phase_start)) s"
	phase_start=$SECONDS
}
"$top/tests/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
took install-deps

status=0
logs=()

build() {  # build DIR [meson options...]
	local dir=$1
	shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" || return 1
	took "build $dir"
}

run() {  # run NAME DIR [meson test options...]
	local name=$1 dir=$2
	shift 2
	echo "== $name"
	meson test -C "$dir" --print-errorlogs --logbase "testlog-$name" "$@" || status=1
	# meson appends the wrapper's name to the log's name: keep the prefix.
	logs+=("$dir/meson-logs/testlog-$name")
	took "$name"
}

if build build-ci; then
	run default build-ci
else
	echo "build with -Dwerror=true failed"; status=1
fi

if build build-ci-asan -Db_sanitize=address,undefined; then
	# The fault matrix too (its error paths are where memory bugs hide),
	# but only the rows tests/faults/sanitizer-rows names: every row once
	# under the sanitizers took 9 of CI's 50 minutes, and most rows repeat
	# the C paths of another.  Not suite default-only: tests that run no C
	# of ours that other tests do not (the emulator's, the layers check,
	# wrangler through cftoken exec).
	CFTEST_FAULTS_ROWS=sanitizer \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
		run sanitizers build-ci-asan --no-suite default-only
else
	echo "sanitizer build failed"; status=1
fi

# The libFuzzer targets (tests/fuzz): regressions, seed corpus, then 30 s
# of fuzzing each.  libFuzzer needs clang.
if CC=clang build build-ci-fuzz -Dfuzzing=true; then
	CFTOKEN_FUZZ_SECONDS=30 run fuzz build-ci-fuzz --suite fuzz
else
	echo "fuzzing build failed"; status=1
fi

if [ -d build-ci ]; then
	vg="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
	# (not suite default-only, as above: under --wrapper, valgrind would
	# check CPython running the layers check)
	run valgrind-unit build-ci --suite unit --no-suite default-only --wrapper "$vg"
	# Follow the front end's exec into cftoken-backend, not into system
	# programs (sh, git) that the tests run through it.
	CFTEST_WRAP="$vg --trace-children=yes --trace-children-skip=/usr/*,/bin/*" \
		CFTEST_BURST=6 run valgrind-integration build-ci --suite integration --suite pam \
		--no-suite default-only --timeout-multiplier 3
fi

# Last: nothing the suite printed holds a token value an emulator held.
echo "== leaks"
tests/leaks/scan-outputs.sh build-ci build-ci-asan | tee build-ci/leaks.tap || status=1
logs+=("build-ci/leaks.tap")
took leaks
echo "== all took $SECONDS s"

# Totals: every TAP check of every run; a test that died without TAP
# output counts as one failure.  The failed checks are named just above
# the totals: a CI record may keep only the end of the output.
/usr/bin/python3 - "${logs[@]}" <<'PY'
import glob, json, os, re, sys
passed = failed = 0
named = []  # "log: test: not ok N - ..." for each failure
for prefix in sys.argv[1:]:
    where = os.path.basename(prefix)
    if prefix.endswith(".tap"):  # a plain TAP file
        out = open(prefix).read() if glob.glob(prefix) else "not ok 1 - no " + prefix
        passed += len(re.findall(r"^ok \d+", out, re.M))
        bad = re.findall(r"^not ok \d+.*", out, re.M)
        failed += len(bad)
        named += [f"{where}: {b}" for b in bad]
        continue
    paths = glob.glob(prefix + ".json") + glob.glob(prefix + "-*.json")
    if not paths:
        print(f"no test log {prefix}*.json")
        failed += 1
        named.append(f"{where}: no test log")
    for line in (l for p in paths for l in open(p)):
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        bad = re.findall(r"^not ok \d+.*", out, re.M)
        if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and not bad:
            bad = [f"{t['result']} without a failed check"]
        passed += ok
        failed += len(bad)
        named += [f"{where}: {t['name']}: {b}" for b in bad]
if named:
    print("== failed")
    for n in named[:40]:
        print(n[:300])
    if len(named) > 40:
        print(f"... and {len(named) - 40} more")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] || status=1
exit "$status"
