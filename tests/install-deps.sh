#!/bin/bash
# Installs what cftoken needs to build and test on Debian 12 (root, or
# through sudo).  Safe to run again.
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc
	libcurl4-openssl-dev libjansson-dev libsecret-1-dev libpam0g-dev libkeyutils-dev
	libdbus-1-dev libmicrohttpd-dev
	# the API emulator and its schema checks
	python3 python3-jsonschema openssl ca-certificates
	# checkers and real components the tests use: a keyring daemon on a
	# private bus, git, the kernel keyring tools
	valgrind strace curl git keyutils binutils
	gnome-keyring libsecret-tools dbus-daemon libglib2.0-bin
	# the PAM module's tests: pam_wrapper + libpamtest, pamtester for
	# the real stack, setpriv (util-linux) to act as a test user
	libpam-wrapper libpamtest0-dev pamtester util-linux
	# the fault matrix: pkill stops the keyring daemon (flock, from
	# util-linux, finds a held lock); gcore tries to dump a mint
	procps gdb
	# systemd-analyze checks the broker's units, groff the man page
	systemd groff-base
	# mandoc -Tlint checks the man pages, man -l renders them
	# (tests/packaging/test_docs.sh)
	mandoc man-db
	# hardening-check, on every binary the build ships
	devscripts
	# the shells whose completions tests/packaging/test_completions.sh runs
	bash-completion zsh fish
	# the packages, built and installed on a debootstrap chroot
	# (tests/packaging/test_install.sh, test_rpm.sh)
	build-essential dpkg-dev debhelper lintian debootstrap rpm
	# the libFuzzer targets (tests/fuzz): clang 14 and its libFuzzer runtime
	clang libclang-rt-14-dev
	# static analysis (tests/hardening/test_analyzer.sh): gcc's -fanalyzer
	# (gcc, above) and clang-tidy with /.clang-tidy
	clang-tidy
)
# wrangler runs on Node.js >= 20.3.  Machines that already have a newer
# Node.js with npm (NodeSource's, say) keep it: Debian's npm package would
# conflict with it.
if ! command -v npm >/dev/null; then
	packages+=(nodejs npm)
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "install-deps: run as root, or install sudo" >&2
		exit 1
	fi
	sudo=sudo
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
