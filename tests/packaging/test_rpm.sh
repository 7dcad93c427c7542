#!/bin/bash
# The RPM spec, built here with Debian's rpm:
#   test_rpm.sh BUILD_DIR SOURCE_DIR SANITIZE
# rpmbuild -bb --nodeps packaging/rpm/cftoken.spec, with the macros Debian
# lacks defined as Fedora's redhat-rpm-config and systemd-rpm-macros have
# them, then the files of the RPMs against the files of the .deb packages.
set -u
build=$1
src=$2
sanitize=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/tap.sh"
. "$here/package_build.sh"

require_package_build "$sanitize" rpmbuild dpkg-buildpackage
spec=$src/packaging/rpm/cftoken.spec
work=$build/rpm-test
rm -rf "$work"
mkdir -p "$work/SOURCES" "$work/debs"

# Every library meson.build asks pkg-config for is a BuildRequires.
missing=
for dep in $(grep -ho "dependency('[^']*'" "$src"/meson.build "$src"/lib/meson.build \
	"$src"/tests/pam/meson.build "$src"/packaging/meson.build | sed "s/dependency('//; s/'//" | sort -u); do
	grep -q "^BuildRequires: *pkgconfig($dep)" "$spec" || missing="$missing $dep"
done
grep -q 'pkg-config.*pam_wrapper' "$src/tests/pam/meson.build" &&
	! grep -q '^BuildRequires: *pkgconfig(pam_wrapper)' "$spec" && missing="$missing pam_wrapper"
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "a BuildRequires: pkgconfig(...) for every dependency ${missing:+(missing:$missing)}"

# What Fedora's macro packages define and Debian's rpm does not.
cat >"$work/macros" <<'MACROS'
%_smp_build_ncpus %(nproc)
%meson %{shrink:meson setup --buildtype=plain --prefix=%{_prefix} --libdir=%{_libdir} --libexecdir=%{_libexecdir} --bindir=%{_bindir} --datadir=%{_datadir} --mandir=%{_mandir} --sysconfdir=%{_sysconfdir} --localstatedir=%{_localstatedir} . redhat-linux-build}
%meson_build meson compile -C redhat-linux-build -j %{_smp_build_ncpus}
%meson_install DESTDIR=%{buildroot} meson install -C redhat-linux-build --no-rebuild
%meson_test meson test -C redhat-linux-build --num-processes %{_smp_build_ncpus} --print-errorlogs
%_unitdir /usr/lib/systemd/system
%systemd_post() :
%systemd_preun() :
%systemd_postun_with_restart() :
%debug_package %{nil}
%_build_id_links none
MACROS
"$src/packaging/make-tarball.sh" "$work/SOURCES/cftoken-0.1.0.tar.gz"
if rpmbuild --nodeps --load="$work/macros" --define "_topdir $work" \
	-bb "$spec" >"$work/rpmbuild.log" 2>&1; then
	ok 0 "rpmbuild -bb builds the spec (its %check ran the unit tests)"
else
	ok 1 "rpmbuild -bb builds the spec"
	tail -30 "$work/rpmbuild.log" | sed 's/^/#   /'
fi
grep -E '^Ok: +[0-9]+' "$work/rpmbuild.log" | sed 's/^/#   %check: /'
rpms=$(find "$work/RPMS" -name '*.rpm' 2>/dev/null | sort)
names=$(for r in $rpms; do rpm -qp --qf '%{NAME}\n' "$r" 2>/dev/null; done | sort | tr '\n' ' ')
ok "$([ "$names" = "cftoken pam_cftoken " ] && echo 0 || echo 1)" "the RPMs: $names"
conf=$(for r in $rpms; do rpm -qp --configfiles "$r" 2>/dev/null; done)
ok "$([ "$conf" = /etc/cftoken/cftoken.conf ] && echo 0 || echo 1)" \
	"/etc/cftoken/cftoken.conf is the one config file (noreplace)"

# The same files as the Debian packages, by name: the directories differ
# by distribution (lib64, site-functions), the set of files must not.
# test_install.sh (which runs first) built them from this very tree: those,
# rather than a second dpkg-buildpackage (a minute on 2 cores).
shared=$build/install-test/debs
if [ -s "$shared/source.sum" ] && ls "$shared"/*.deb >/dev/null 2>&1 &&
	[ "$(cat "$shared/source.sum")" = "$(source_sum "$src")" ]; then
	cp "$shared"/*.deb "$work/debs/"
	ok 0 "the Debian packages build, for the comparison (test_install.sh's, from this tree)"
elif DEB_BUILD_OPTIONS=nocheck "$src/packaging/build-deb.sh" "$work/debs" >"$work/build-deb.log" 2>&1; then
	ok 0 "the Debian packages build, for the comparison"
else
	ok 1 "the Debian packages build, for the comparison"
	tail -20 "$work/build-deb.log" | sed 's/^/#   /'
fi
# Debian's own: its docs, changelog and copyright, and pam-auth-update's profile.
deb_files=$(for d in "$work"/debs/*.deb; do dpkg-deb -c "$d"; done | awk '$1 !~ /^d/ {print $6}' |
	grep -Ev '^\./usr/share/(doc|pam-configs|lintian)/' | sed 's|.*/||; s/\.gz$//' | sort)
rpm_files=$(for r in $rpms; do rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$r"; done |
	awk '$1 !~ /^d/ {print $2}' | grep -Ev '^/usr/share/(doc|licenses)/' |
	while read -r f; do echo "${f##*/}"; done | sed 's/\.gz$//' | sort)
echo "$rpm_files" | grep -vx '' >/dev/null || rpm_files=
difference=$(diff <(echo "$deb_files") <(echo "$rpm_files") | grep '^[<>]')
ok "$([ -n "$rpm_files" ] && [ -z "$difference" ] && echo 0 || echo 1)" \
	"the RPMs hold the same $(echo "$deb_files" | wc -l) files as the .deb packages"
[ -z "$difference" ] || echo "$difference" | sed 's/^/#   (< deb only, > rpm only) /'
module=$(for r in $rpms; do rpm -qlp "$r"; done | grep 'pam_cftoken.so$')
ok "$([ "$module" = /usr/lib64/security/pam_cftoken.so ] && echo 0 || echo 1)" \
	"pam_cftoken.so where RPM systems' libpam looks ($module)"
tap_done
