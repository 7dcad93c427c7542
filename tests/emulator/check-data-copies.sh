#!/bin/bash
# The emulator's copies of the API contract must equal the project's shared
# originals (../shared/cloudflare beside the checkout) when those are there:
# the emulator and the client follow the contract, not a drifted copy.
here=$(cd "$(dirname "$0")" && pwd)
shared=$(cd "$here/../../.." 2>/dev/null && pwd)/shared/cloudflare
n=0
failed=0
for f in cloudflare-tokens-openapi.json permission-groups.json; do
	n=$((n + 1))
	if [ ! -f "$shared/$f" ]; then
		echo "ok $n - $f # SKIP no shared/cloudflare/$f beside this checkout"
	elif cmp -s "$shared/$f" "$here/data/$f"; then
		echo "ok $n - data/$f equals shared/cloudflare/$f"
	else
		echo "not ok $n - data/$f differs from shared/cloudflare/$f"
		failed=1
	fi
done
echo "1..$n"
exit "$failed"
