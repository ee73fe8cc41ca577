#!/bin/bash
# SPDX-License-Identifier: MIT
# sealinit in Debian's own initramfs builders (dist/initramfs-tools,
# dist/dracut), with the real builders, in two Debian 12 chroots made by
# mmdebstrap (the two builders conflict as Debian packages; nothing is
# installed on the host). Each chroot gets `make install DESTDIR=', the step
# (/usr/lib/sealinit/sealinit-step) and the hook or module, and Debian's
# cloud kernel from build/kernels/x86_64 (scripts/fetch-kernel.sh).
#
#  (a) initramfs-tools: `update-initramfs -c' makes an image (lsinitramfs,
#      unmkinitramfs) carrying sealinit, the step, the config, the manifest's
#      dlopen'd TCTI and libgcc_s, and scripts/local-top/sealinit, run
#      before cryptroot (scripts/local-top/ORDER).
#  (b) in that image, run with chroot: sealinit runs (its ELF closure is
#      complete) and loads its TCTI (libtss2-tcti-device: "IO failure" on a
#      missing device node; with the library taken out, "Functionality not
#      supported": the control that the check can fail); the step runs
#      under the image's own shell and tools and, with no TPM, says so and
#      exits 1, which local-top turns into cryptroot's prompt.
#  (c) the kernel upgrade: the real linux-image .deb installed with dpkg
#      runs its postinst (/etc/kernel/postinst.d), and the new image
#      carries sealinit too.
#  (d) negatives: with the hook and script removed, a new image has no
#      sealinit (the check of (a) fails on it); with the TCTI library
#      removed from the chroot, update-initramfs fails naming it.
#  (e) dracut (with systemd, as a Debian server has it): `dracut --kver'
#      with add_dracutmodules+=" sealinit " carries sealinit, the step,
#      the config, the TCTI and sealinit-step.service wanted by
#      sysinit.target and ordered before cryptsetup-pre.target, which it
#      pulls in (before every systemd-cryptsetup@, which the image's
#      systemd-cryptsetup-generator makes; tests/qemu/distro.sh boots
#      it); without
#      systemd (--omit systemd) the settled-queue job instead. Without the
#      conf.d line the module is not included. The step runs in that image
#      as in (b). The kernel upgrade as in (c), through dracut's postinst.d.
#  (g) dist/debian: dpkg-buildpackage builds the package; it carries the
#      update-initramfs trigger; dpkg -i in the chroot fires it, and the
#      newest kernel's image, made without sealinit just before, carries it.
# The step itself against swtpm, without a chroot, is
# tests/host/distro_step.sh; its boot in QEMU, tests/qemu/distro.sh.
#
# The chroots are cached as tarballs under build/distro-chroots/, named by
# a hash of the suite, mirror and package list (as build/kernels is by the
# .deb): the first run takes about 30 s more. Needs root (chroot) and
# mmdebstrap (scripts/deps.sh test).
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
unset MAKEFLAGS MFLAGS MAKELEVEL

[ "$(id -u)" = 0 ] || skip "needs root for chroot"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap (Debian: mmdebstrap; \`make deps' installs it)"
K=$REPO/build/kernels/x86_64
[ -r "$K/kver" ] && [ -d "$K/lib/modules" ] && [ -r "$K/vmlinuz" ] ||
	skip "no cached x86_64 kernel in $K (scripts/fetch-kernel.sh x86_64)"
KVER=$(cat "$K/kver")
DEB=$(ls "$K"/deb/linux-image-*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || skip "no kernel .deb in $K/deb (scripts/fetch-kernel.sh x86_64)"
[ "$(uname -m)" = x86_64 ] || skip "the chroots are amd64"
[ -x "$SEALINIT" ] || fail "no $SEALINIT (make)"

ok() { echo "ok: $*"; }

# The chroots, the package lists and the kernel: tests/lib/distro.sh.
. "$REPO/tests/lib/distro.sh"
ITOOLS=$DISTRO_ITOOLS
DRACUT=$DISTRO_DRACUT

# in_image ROOT IMAGE DIR: the image unpacked at DIR (inside ROOT).
LISTING=""
# carries WHAT PATH...: every PATH is in $LISTING.
carries() {
	local what=$1 p
	shift
	for p in "$@"; do
		grep -qx -- "$p" <<<"$LISTING" || { echo "$what: no $p in the image" >&2; return 1; }
	done
}

# step_runs ROOT DIR NAME: (b) in the unpacked image at ROOT/DIR.
step_runs() {
	local x=$1$2 lib
	set -- "$1" "$3"
	run in_chroot "$x" /usr/sbin/sealinit version
	[ "$RC" = 0 ] || fail "$2: the image's sealinit does not run: $OUT"
	run in_chroot "$x" /usr/sbin/sealinit pcrread --pcrs 15 --tcti device:/dev/no-such-tpm
	expect_msg "tcti:IO failure"
	lib=$(cd "$x" && ls usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0.* | head -n 1)
	mv "$x/$lib" "$x/$lib.away"
	run in_chroot "$x" /usr/sbin/sealinit pcrread --pcrs 15 --tcti device:/dev/no-such-tpm
	mv "$x/$lib.away" "$x/$lib"
	case "$OUT" in *"tcti:IO failure"*) fail "$2: the TCTI check passes without the library: $OUT" ;; esac
	expect_msg "Functionality not supported"
	run in_chroot "$x" /bin/sh -c 'PATH=/usr/sbin:/usr/bin:/sbin:/bin exec /usr/lib/sealinit/sealinit-step'
	[ "$RC" = 1 ] || fail "$2: the step without a TPM: expected exit 1, got $RC: $OUT"
	expect_msg "no TPM: /dev/tpmrm0 did not appear within 300 ms"
	ok "$2: sealinit runs in the image, loads its TCTI (refused without it), the step runs and names the missing TPM"
}

# --- (a)-(d) initramfs-tools -------------------------------------------------
t0=$SECONDS
R=$WORK/itools
tar=$(chroot_tar initramfs-tools "$ITOOLS") || fail "the initramfs-tools chroot"
mkroot "$R" "$tar" || fail "unpacking $tar"
install_sealinit "$R" || fail "installing sealinit in $R"
install_itools_step "$R" || fail "installing the hook and local-top script in $R"
OLD=0.0.1-sealinit-old
add_kernel "$R" "$OLD" || fail "adding the kernel to $R"
echo "chroot ready in $((SECONDS - t0)) s"

# itools_check ROOT VERSION: (a) for /boot/initrd.img-VERSION.
itools_check() {
	local u=/tmp/unpacked-$2 order
	LISTING=$(in_chroot "$1" lsinitramfs "/boot/initrd.img-$2") || { echo "lsinitramfs failed" >&2; return 1; }
	carries "initrd.img-$2" usr/sbin/sealinit usr/lib/sealinit/sealinit-step etc/sealinit.conf \
		scripts/local-top/sealinit scripts/local-top/cryptroot \
		usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 usr/lib/x86_64-linux-gnu/libgcc_s.so.1 \
		usr/lib/x86_64-linux-gnu/libtss2-tctildr.so.0 usr/sbin/cryptsetup || return 1
	rm -rf "$1$u"
	in_chroot "$1" unmkinitramfs "/boot/initrd.img-$2" "$u" || { echo "unmkinitramfs failed" >&2; return 1; }
	[ -d "$1$u/main" ] && u=$u/main
	order=$(grep -n 'local-top/\(sealinit\|cryptroot\) ' "$1$u/scripts/local-top/ORDER")
	case "$order" in
	*sealinit*cryptroot*) ;;
	*) echo "initrd.img-$2: local-top/ORDER does not run sealinit before cryptroot: $order" >&2; return 1 ;;
	esac
	UNPACKED=$u
}

run in_chroot "$R" update-initramfs -c -k "$OLD"
[ "$RC" = 0 ] || fail "update-initramfs -c -k $OLD: $OUT"
itools_check "$R" "$OLD" || fail "initramfs-tools image"
ok "initramfs-tools: sealinit, the step, the config, the TCTI, libgcc_s and local-top/sealinit before cryptroot"
step_runs "$R" "$UNPACKED" "initramfs-tools image"

# (c) the kernel upgrade, as apt does it: dpkg runs the .deb's postinst.
cp "$DEB" "$R/tmp/"
run in_chroot "$R" dpkg -i "/tmp/${DEB##*/}"
[ "$RC" = 0 ] || fail "dpkg -i ${DEB##*/}: $OUT"
expect_msg "update-initramfs: Generating /boot/initrd.img-$KVER"
itools_check "$R" "$KVER" || fail "the upgraded kernel's image"
ok "initramfs-tools: dpkg -i ${DEB##*/} ran the builder, and initrd.img-$KVER carries sealinit"

# (d) the TCTI missing: the build stops, naming it.
mkdir "$WORK/away"
mv "$R"/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0* "$WORK/away/"
in_chroot "$R" ldconfig
run in_chroot "$R" update-initramfs -u -k "$OLD"
mv "$WORK"/away/* "$R/usr/lib/x86_64-linux-gnu/"
in_chroot "$R" ldconfig
[ "$RC" != 0 ] || fail "update-initramfs without the TCTI library succeeded: $OUT"
expect_msg "libtss2-tcti-device.so.0 (from /usr/share/sealinit/initramfs/manifest) is not installed"
ok "initramfs-tools: without the dlopen'd TCTI the build fails, naming it"

# (d) without the hook and script, no sealinit: the check above fails.
rm "$R/etc/initramfs-tools/hooks/sealinit" "$R/etc/initramfs-tools/scripts/local-top/sealinit"
run in_chroot "$R" update-initramfs -u -k "$OLD"
[ "$RC" = 0 ] || fail "update-initramfs -u without sealinit: $OUT"
if itools_check "$R" "$OLD" 2>"$WORK/neg.err"; then
	fail "the image without the hook passed the check"
fi
grep -q "no usr/sbin/sealinit in the image" "$WORK/neg.err" || fail "negative: $(cat "$WORK/neg.err")"
ok "initramfs-tools: without the hook the image has no sealinit, and the check says so"

# (g) the Debian package (dist/debian): dpkg-buildpackage in a copy of the
# tree; dpkg -i in the chroot, whose /etc hook is gone (above), fires the
# update-initramfs trigger, and the newest kernel's image, rebuilt first
# without sealinit (the control), carries it again from the package's
# /usr/share/initramfs-tools files.
command -v dh >/dev/null || skip "no debhelper (scripts/deps.sh test)"
run in_chroot "$R" update-initramfs -u -k "$KVER"
[ "$RC" = 0 ] || fail "update-initramfs -u -k $KVER without sealinit: $OUT"
itools_check "$R" "$KVER" 2>/dev/null && fail "initrd.img-$KVER still carries sealinit without the hook"
mkdir -p "$WORK/pkg/sealinit"
{ git ls-files; git ls-files --others --exclude-standard; } | sort -u | while read -r f; do
	[ -e "$f" ] && printf '%s\n' "$f"
done | tar -cf - -T - | tar -xf - -C "$WORK/pkg/sealinit"
cp -r dist/debian "$WORK/pkg/sealinit/debian"
(cd "$WORK/pkg/sealinit" && dpkg-buildpackage -b -us -uc -j2) >"$WORK/pkg/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(tail -20 "$WORK/pkg/build.log")"
debfile=$(ls "$WORK"/pkg/sealinit_*.deb)
dpkg-deb --ctrl-tarfile "$debfile" | tar -xOf - ./triggers | grep -qx 'activate-noawait update-initramfs' ||
	fail "the package has no update-initramfs trigger"
[ "$(dpkg-deb --fsys-tarfile "$debfile" | tar -tvf - ./usr/libexec/sealinit/install-paths | cut -c1-10)" = -rw-r--r-- ] ||
	fail "install-paths is not 0644 in the package"
cp "$debfile" "$R/tmp/"
run in_chroot "$R" dpkg -i "/tmp/${debfile##*/}"
[ "$RC" = 0 ] || fail "dpkg -i ${debfile##*/}: $OUT"
expect_msg "Processing triggers for initramfs-tools"
expect_msg "update-initramfs: Generating /boot/initrd.img-$KVER"
itools_check "$R" "$KVER" || fail "the image after installing the package"
ok "Debian package: dpkg-buildpackage builds it; dpkg -i fires update-initramfs, and initrd.img-$KVER carries sealinit again"
echo "initramfs-tools part: $((SECONDS - t0)) s"

# --- (e) dracut ------------------------------------------------------------
t0=$SECONDS
D=$WORK/dracut
tar=$(chroot_tar dracut "$DRACUT") || fail "the dracut chroot"
mkroot "$D" "$tar" || fail "unpacking $tar"
install_sealinit "$D" || fail "installing sealinit in $D"
mkdir -p "$D/usr/lib/dracut/modules.d/90sealinit"
cp -L dist/dracut/90sealinit/* "$D/usr/lib/dracut/modules.d/90sealinit/"
add_kernel "$D" "$OLD" || fail "adding the kernel to $D"

# dracut_check ROOT IMAGE WHAT: the image carries sealinit and WHAT.
dracut_check() {
	# "-rw-r--r--   1 root root 0 Dec  7 02:40 usr/sbin/sealinit", links
	# with " -> TARGET": the name only.
	LISTING=$(in_chroot "$1" lsinitrd "$2" | sed -n 's/ -> .*//; s/^[-dlcbps][-rwxsStT]\{9\} .* //p') ||
		{ echo "lsinitrd $2 failed" >&2; return 1; }
	shift 2
	carries dracut usr/sbin/sealinit usr/lib/sealinit/sealinit-step etc/sealinit.conf "$@"
}

# The negatives and the variant without systemd need no kernel modules:
# --no-kernel saves about 40 s each.
run in_chroot "$D" dracut --force --no-kernel --kver "$OLD" /boot/initrd.img-$OLD
[ "$RC" = 0 ] || fail "dracut without the conf.d line: $OUT"
if dracut_check "$D" /boot/initrd.img-$OLD 2>/dev/null; then
	fail "dracut included sealinit without add_dracutmodules"
fi
ok "dracut: without add_dracutmodules+=\" sealinit \" the image has no sealinit (check() returns 255)"

echo 'add_dracutmodules+=" sealinit "' >"$D/etc/dracut.conf.d/90-sealinit.conf"
run in_chroot "$D" dracut --force --kver "$OLD" /boot/initrd.img-$OLD
[ "$RC" = 0 ] || fail "dracut --kver $OLD: $OUT"
SYSTEMD_UNITS=usr/lib/systemd/system
dracut_check "$D" /boot/initrd.img-$OLD usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 \
	usr/lib/x86_64-linux-gnu/libgcc_s.so.1 $SYSTEMD_UNITS/sealinit-step.service \
	$SYSTEMD_UNITS/sysinit.target.wants/sealinit-step.service \
	usr/lib/systemd/system-generators/systemd-cryptsetup-generator || fail "dracut image (systemd)"
grep -q "^Before=cryptsetup-pre.target" dist/dracut/90sealinit/sealinit-step.service &&
	grep -q "^Wants=cryptsetup-pre.target" dist/dracut/90sealinit/sealinit-step.service || fail "the unit's order"
ok "dracut (systemd): sealinit, the step, the config, the TCTI, libgcc_s, sealinit-step.service (wanted by sysinit.target, before cryptsetup-pre.target)"
rm -rf "$D/tmp/u"
in_chroot "$D" /bin/sh -c "mkdir /tmp/u && cd /tmp/u && lsinitrd --unpack /boot/initrd.img-$OLD" ||
	fail "unpacking the dracut image"
step_runs "$D" /tmp/u "dracut image"

run in_chroot "$D" dracut --force --no-kernel --omit systemd --kver "$OLD" /boot/initrd-nosystemd.img
[ "$RC" = 0 ] || fail "dracut --omit systemd: $OUT"
dracut_check "$D" /boot/initrd-nosystemd.img usr/lib/dracut/hooks/initqueue/settled/10-sealinit-settled.sh ||
	fail "dracut image (no systemd)"
ok "dracut (no systemd): the settled-queue job 10-sealinit-settled.sh"

cp "$DEB" "$D/tmp/"
run in_chroot "$D" dpkg -i "/tmp/${DEB##*/}"
[ "$RC" = 0 ] || fail "dpkg -i ${DEB##*/} (dracut): $OUT"
[ -s "$D/boot/initrd.img-$KVER" ] || fail "dpkg -i made no /boot/initrd.img-$KVER: $OUT"
dracut_check "$D" "/boot/initrd.img-$KVER" $SYSTEMD_UNITS/sealinit-step.service ||
	fail "the upgraded kernel's dracut image"
ok "dracut: dpkg -i ${DEB##*/} ran dracut, and initrd.img-$KVER carries sealinit"
echo "dracut part: $((SECONDS - t0)) s"
echo "PASS"
