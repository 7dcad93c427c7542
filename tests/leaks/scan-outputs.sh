#!/bin/bash
# The last check of the suite: no token value any emulator ever held
# (seeded, minted or rolled; tests/integration/with-emulator.sh has each
# emulator append them to BUILD/tests/integration/work/token-values) is in
# anything the suite printed: every test's stdout and stderr as meson
# logged them (syslog's lines included: pam_wrapper prints them on stderr),
# and the logs the suite's programs left in their work directories.
# (find-values.sh is the scan, as for the tests that look at a process)
#   scan-outputs.sh BUILD_DIR...      prints TAP
set -u
n=0 failed=0
for build in "$@"; do
	values=$build/tests/integration/work/token-values
	n=$((n + 1))
	if [ ! -s "$values" ]; then
		echo "not ok $n - $build: no token values were recorded (did the emulator run?)"
		failed=$((failed + 1))
		continue
	fi
	count=$(sort -u "$values" | wc -l)
	# Everything printed: meson's logs, and the work directories' logs and
	# captured output (not the files that hold a token on purpose: the
	# parent token files the tests write, the values list itself).
	mapfile -t files < <(find "$build/meson-logs" "$build/tests" -type f \
		\( -name '*.txt' -o -name '*.json' -o -name '*.log' -o -name '*.out' -o -name '*.err' \) \
		! -name token-values 2>/dev/null)
	hits=$(printf '%s\0' "${files[@]}" | xargs -0 -r "$(dirname "$0")/find-values.sh" "$values" | head -5)
	if [ -z "$hits" ]; then
		echo "ok $n - $build: none of $count token values is in the ${#files[@]} logs and outputs"
	else
		echo "not ok $n - $build: a token value is in: $(echo $hits)"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
