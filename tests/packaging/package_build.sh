# Sourced by the tests that build packages from the tree (test_install.sh,
# test_rpm.sh), after tap.sh.

# require_package_build SANITIZE TOOL...: skips the test (TAP, exit 0) when
# this is a sanitizer build, which the packages are not built from, or
# when a tool is missing.
require_package_build() {
	local sanitize=$1 tool
	shift
	if [ "$sanitize" != none ]; then
		echo "1..0 # SKIP the packages are built from source, not from this ($sanitize) build"
		exit 0
	fi
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "1..0 # SKIP $tool is not installed (tests/install-deps.sh installs it)"
			exit 0
		fi
	done
}

# source_sum SOURCE_DIR: a checksum of what packaging/make-tarball.sh packs
# (names and contents), the tree a package build starts from.  test_rpm.sh
# compares its own .deb-free tree with the one test_install.sh built its
# packages from, and reuses them when the two are the same.
source_sum() {
	local tarball sum
	tarball=$(mktemp /tmp/cftoken-sum.XXXXXX) || return 1
	"$1/packaging/make-tarball.sh" "$tarball" cftoken || { rm -f "$tarball"; return 1; }
	sum=$({ tar -tzf "$tarball"; tar -xzOf "$tarball"; } | sha256sum | cut -d' ' -f1)
	rm -f "$tarball"
	echo "$sum"
}
