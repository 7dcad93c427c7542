#!/bin/bash
# Installs wrangler 4 from npm once, into a cache shared by every build
# tree, and prints the path of its executable.  wrangler 4 needs Node.js
# >= 20.3; on an older one this prints nothing and exits 1.
set -euo pipefail
dir=${CFTEST_WRANGLER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cftoken-tests/wrangler-4}
bin=$dir/node_modules/.bin/wrangler
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=3)?0:1)' 2>/dev/null; then
	echo "install-wrangler: wrangler 4 needs Node.js >= 20.3" >&2
	exit 1
fi
if [ ! -x "$bin" ]; then
	mkdir -p "$dir"
	(cd "$dir" && flock .lock npm install --no-audit --no-fund --loglevel=error wrangler@4 >&2)
fi
echo "$bin"
