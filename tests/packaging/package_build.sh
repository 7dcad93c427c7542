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
