#!/bin/bash
# The Debian packages on a clean Debian 12, the way an admin installs them:
#   test_install.sh BUILD_DIR SOURCE_DIR SANITIZE   (run under with-emulator.sh)
# Builds the .deb files from the tree (packaging/build-deb.sh), makes a
# fresh debootstrap chroot of bookworm, installs them there with apt-get,
# enables the PAM profile, points the policy at the emulator and logs two
# users in through the real su stack.  Then purges both packages and
# checks that nothing of them is left.  The chroot is removed afterwards,
# whatever happens; the host itself is never changed.
set -u
build=$1
src=$2
sanitize=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/tap.sh"
. "$here/package_build.sh"

require_package_build "$sanitize" debootstrap dpkg-buildpackage lintian
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root: debootstrap, chroot and su"
	exit 0
fi

account=0123456789abcdef0123456789abcdef
# Kernel keyrings belong to uids, not to the chroot: uids no host user has.
uid_a=61001
uid_b=61002
work=$build/install-test
root=$work/root
mirror=${CFTEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$work"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
unmount() {
	local m
	for m in "$root/dev" "$root/proc"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	return 0
}
cleanup() {
	unmount
	# Only once nothing is mounted under it, and never across file systems.
	if ! grep -q " $root/" /proc/mounts; then
		rm -rf --one-file-system "$root"
	fi
	for u in $uid_a $uid_b; do
		setpriv --reuid=$u --regid=$u --clear-groups keyctl clear @u 2>/dev/null || true
	done
}
trap cleanup EXIT
cleanup

# --- the packages -----------------------------------------------------------
debs=$work/debs
# (the tree they come from, for test_rpm.sh: see source_sum)
tree_sum=$(source_sum "$src")
rm -f "$debs/source.sum"
if "$src/packaging/build-deb.sh" "$debs" >"$work/build-deb.log" 2>&1; then
	[ -n "$tree_sum" ] && echo "$tree_sum" >"$debs/source.sum"
	ok 0 "dpkg-buildpackage -us -uc -b builds the packages, lintian reports no error"
else
	ok 1 "dpkg-buildpackage -us -uc -b builds the packages, lintian reports no error"
	tail -30 "$work/build-deb.log" | sed 's/^/#   /'
	tap_done
	exit 1
fi
grep '^lintian: [WE]:' "$work/build-deb.log" | sed 's/^/# /'
names=$(for d in "$debs"/*.deb; do dpkg-deb -f "$d" Package; done | sort | tr '\n' ' ')
ok "$([ "$names" = "cftoken libpam-cftoken " ] && echo 0 || echo 1)" \
	"two packages: $names"

# --- a clean Debian 12 ------------------------------------------------------
# debootstrap once per build directory; every run starts from its tarball.
base=$work/bookworm-minbase.tar
if [ ! -s "$base" ]; then
	rm -rf "$work/base"
	if debootstrap --variant=minbase --include=man-db,bash-completion bookworm \
		"$work/base" "$mirror" >"$work/debootstrap.log" 2>&1; then
		tar -C "$work/base" -cf "$base.part" . && mv "$base.part" "$base"
	else
		tail -20 "$work/debootstrap.log" | sed 's/^/#   /'
	fi
	rm -rf --one-file-system "$work/base"
fi
if [ ! -s "$base" ]; then
	ok 1 "debootstrap makes a Debian 12 chroot from $mirror"
	tap_done
	exit 1
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
ok "$(grep -q '^VERSION_ID="12"' "$root/etc/os-release" && echo 0 || echo 1)" \
	"a fresh Debian 12 chroot"

# What the system has before: every path outside the package manager's
# own state, and the session stack.
snapshot() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/cache \
		-o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log -o -path ./home \) -prune \
		-o -print | LC_ALL=C sort)
}
snapshot >"$work/before"
cp "$root/etc/pam.d/common-session" "$work/common-session.before"

# --- install ----------------------------------------------------------------
mkdir -p "$root/tmp/debs"
cp "$debs"/*.deb "$root/tmp/debs/"
if in_root sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/debs/*.deb' \
	>"$work/apt-install.log" 2>&1; then
	ok 0 "apt-get install ./*.deb in the chroot"
else
	ok 1 "apt-get install ./*.deb in the chroot"
	tail -20 "$work/apt-install.log" | sed 's/^/#   /'
fi
ok "$(cmp -s "$work/common-session.before" "$root/etc/pam.d/common-session" && echo 0 || echo 1)" \
	"installed, the profile is not enabled: common-session is as it was"
conf=$root/etc/cftoken/cftoken.conf
ok "$([ "$(stat -c '%U:%G %a' "$conf" 2>&1)" = "root:root 644" ] &&
	! grep -q '^[^#]' "$conf" && echo 0 || echo 1)" \
	"/etc/cftoken/cftoken.conf: a commented example, root:root 0644"
out=$(in_root cftoken --help 2>&1)
contains "$out" "Usage" && ok 0 "cftoken --help from the package" || ok 1 "cftoken --help from the package"
out=$(in_root sh -c 'MANWIDTH=80 man cftoken 2>&1 | head -5; MANWIDTH=80 man 5 cftoken.conf | head -3; MANWIDTH=80 man pam_cftoken | head -3')
contains "$out" "cftoken" && contains "$out" "CFTOKEN.CONF" && contains "$out" "PAM_CFTOKEN" &&
	ok 0 "man cftoken, man 5 cftoken.conf, man pam_cftoken" || ok 1 "man pages from the package"
out=$(in_root bash -c '. /usr/share/bash-completion/completions/cftoken && complete -p cftoken' 2>&1)
contains "$out" "complete -F" && ok 0 "the bash completion loads ($out)" || ok 1 "the bash completion loads"
ok "$(in_root test -L /etc/systemd/system/sockets.target.wants/cftoken-broker.socket && echo 0 || echo 1)" \
	"the broker's socket is enabled"

# --- enable, configure, log in ------------------------------------------------
in_root pam-auth-update --enable cftoken >"$work/pam-auth-update.log" 2>&1
ok "$(grep -Eq '^session\s+optional\s+pam_cftoken.so' "$root/etc/pam.d/common-session" && echo 0 || echo 1)" \
	"pam-auth-update --enable cftoken adds the module to common-session"
grep pam_cftoken "$root/etc/pam.d/common-session" | sed 's/^/#   /'
# After pam_systemd, which makes /run/user/UID: a stand-in of
# libpam-systemd's profile (Priority 0, a name that sorts after ours) is
# added, then taken out again.
printf 'Name: stand-in of libpam-systemd\nDefault: yes\nPriority: 0\nSession-Interactive-Only: yes\nSession-Type: Additional\nSession:\n\toptional\tpam_permit.so systemd-stand-in\n' \
	>"$root/usr/share/pam-configs/systemd"
in_root pam-auth-update --package >>"$work/pam-auth-update.log" 2>&1
order=$(grep -o -e 'systemd-stand-in' -e 'pam_cftoken.so' "$root/etc/pam.d/common-session" | tr '\n' ' ')
in_root pam-auth-update --package --remove systemd >>"$work/pam-auth-update.log" 2>&1
rm -f "$root/usr/share/pam-configs/systemd"
ok "$([ "$order" = "systemd-stand-in pam_cftoken.so " ] && echo 0 || echo 1)" \
	"pam_cftoken comes after pam_systemd in common-session ($order)"

seed_value parent | in_root sh -c 'umask 077; cat > /etc/cftoken/parent-token'
cp "$CFTEST_CA" "$root/etc/cftoken/emulator-ca.pem"
cat >"$conf" <<EOF
[defaults]
api_url = $CFTEST_API_URL
ca_file = /etc/cftoken/emulator-ca.pem
account = $account
parent_token_file = /etc/cftoken/parent-token
ttl = 2h

[group cfdevs]
permissions = Zone Read
EOF
in_root groupadd cfdevs
in_root useradd -m -u $uid_a -s /bin/sh -G cfdevs cfalice
in_root useradd -m -u $uid_b -s /bin/sh -G cfdevs cfbob

login_token() {  # the token a login of $1 finds in its environment
	in_root su -l "$1" -c 'printenv CLOUDFLARE_API_TOKEN' 2>"$work/su-$1.err"
}
sha_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
emu_token() {  # emu_token SHA256 FIELD
	$CFTEST_EMUCTL GET /__emu/tokens | $py -c 'import json,sys
t=[t for t in json.load(sys.stdin) if t["value_sha256"] == sys.argv[1]]
print(t[0][sys.argv[2]] if t else "no-such-token")' "$1" "$2"
}
ta=$(login_token cfalice)
tb=$(login_token cfbob)
sa=$(sha_of "$ta")
sb=$(sha_of "$tb")
name_a=$(emu_token "$sa" name)
name_b=$(emu_token "$sb" name)
ok "$([ -n "$ta" ] && [ "$(emu_token "$sa" status)" = active ] && echo 0 || echo 1)" \
	"su -l cfalice: CLOUDFLARE_API_TOKEN is a token the emulator minted"
contains "$name_a" "cfalice@" && ok 0 "... for cfalice ($name_a)" || ok 1 "... for cfalice"
ok "$([ -n "$tb" ] && [ "$(emu_token "$sb" status)" = active ] && echo 0 || echo 1)" \
	"su -l cfbob: CLOUDFLARE_API_TOKEN is a token the emulator minted"
contains "$name_b" "cfbob@" && ok 0 "... for cfbob ($name_b)" || ok 1 "... for cfbob"
ok "$([ -n "$ta" ] && [ "$ta" != "$tb" ] && echo 0 || echo 1)" "each user's token differs"
[ -n "$ta" ] && [ -n "$tb" ] || sed 's/^/#   su: /' "$work"/su-*.err
again=$(login_token cfalice)
ok "$([ -n "$again" ] && [ "$again" = "$ta" ] && echo 0 || echo 1)" \
	"cfalice's second login finds the same token, from her keyring"
leak=$(grep -rlF -e "${ta:-no-token}" -e "${tb:-no-token}" "$root/etc" "$root/run" "$root/var" \
	"$root/home" "$root/tmp" 2>/dev/null)
ok "$([ -z "$leak" ] && echo 0 || echo 1)" "no file in the chroot holds either token ${leak:+($leak)}"
ta= tb= again=

# --- purge --------------------------------------------------------------------
if in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cftoken libpam-cftoken &&
	DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q' >"$work/apt-purge.log" 2>&1; then
	ok 0 "apt-get purge of the packages"
else
	ok 1 "apt-get purge of the packages"
	tail -20 "$work/apt-purge.log" | sed 's/^/#   /'
fi
ok "$(cmp -s "$work/common-session.before" "$root/etc/pam.d/common-session" && echo 0 || echo 1)" \
	"purged, common-session is byte for byte as before the install"
# The admin's own files (policy, parent token, CA) are not the package's:
# remove them as the admin would, then nothing may differ.
rm -f "$root/etc/cftoken/parent-token" "$root/etc/cftoken/emulator-ca.pem" "$conf"
rmdir "$root/etc/cftoken" 2>/dev/null
in_root sh -c 'userdel -r cfalice; userdel -r cfbob; groupdel cfdevs' >/dev/null 2>&1
snapshot >"$work/after"
left=$(diff "$work/before" "$work/after" | grep '^[<>]' |
	grep -Ev '^> \./etc/(ld\.so\.cache|group-|gshadow-|passwd-|shadow-|subuid-|subgid-)$|^> \./var/mail$')
ok "$([ -z "$left" ] && echo 0 || echo 1)" "nothing of cftoken is left: no file, no unit, no PAM line"
[ -z "$left" ] || echo "$left" | head -20 | sed 's/^/#   /'
left_units=$(find "$root/etc/systemd" "$root/lib/systemd" -name 'cftoken*' 2>/dev/null)
ok "$([ -z "$left_units" ] && echo 0 || echo 1)" "no cftoken unit or enablement link is left"
tap_done
