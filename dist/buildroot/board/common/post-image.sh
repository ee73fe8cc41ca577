#!/bin/bash
# SPDX-License-Identifier: MIT
# Buildroot post-image script: the initramfs whose /init is sealinit, made
# by the mkinitramfs the sealinit package installed in the target, from the
# target's own files:
#   $BINARIES_DIR/sealinit-initramfs.cpio.gz   (and .list: every entry, its
#                                               size and where it came from)
# Buildroot runs it as BR2_ROOTFS_POST_IMAGE_SCRIPT with BINARIES_DIR as $1
# and TARGET_DIR in the environment. It reads what the package put in
# $BINARIES_DIR/sealinit/: sealinit.config (sealinit's resolved Kconfig:
# module lists, compression, extra files) and sealinit.conf (the boot
# configuration, /etc/sealinit.conf in the image).
#
# Libraries, the loader and the manifest's dlopen'd libraries come from
# $TARGET_DIR only (--sysroot); one that the target lacks fails the build
# rather than come from the build host. Kernel modules come from
# $TARGET_DIR/lib/modules, or from SEALINIT_KERNEL_DIR (a directory holding
# lib/modules/<version>/) when set.
set -euo pipefail
PROG="sealinit-post-image"
die() { echo "$PROG: $*" >&2; exit 1; }

BINARIES_DIR=${1:-${BINARIES_DIR:-}}
[ -n "$BINARIES_DIR" ] || die "no BINARIES_DIR (the first argument, as Buildroot passes it)"
[ -n "${TARGET_DIR:-}" ] || die "no TARGET_DIR in the environment (Buildroot exports it to post-image scripts)"
cfg=$BINARIES_DIR/sealinit/sealinit.config conf=$BINARIES_DIR/sealinit/sealinit.conf
[ -f "$cfg" ] || die "no $cfg: the sealinit package (BR2_PACKAGE_SEALINIT) installs it"
[ -f "$conf" ] || die "no $conf: the sealinit package (BR2_PACKAGE_SEALINIT) installs it"
mk=$TARGET_DIR/usr/libexec/sealinit/mkinitramfs sealinit=$TARGET_DIR/usr/sbin/sealinit
[ -x "$mk" ] || die "no $mk: the sealinit package installs it"
[ -f "$sealinit" ] || die "no $sealinit: the sealinit package installs it"

# sealinit's Kconfig file is shell assignments (CONFIG_X="a b").
# shellcheck disable=SC1090
. "$cfg"
[ "${CONFIG_INITRAMFS_BUSYBOX:-n}" != y ] ||
	die "$cfg: CONFIG_INITRAMFS_BUSYBOX=y, but this script takes nothing from Debian: turn it off (a fragment with '# CONFIG_INITRAMFS_BUSYBOX is not set'), or add the target's busybox with CONFIG_INITRAMFS_EXTRA_FILES"

machine=$(readelf -hW "$sealinit" | sed -n 's/^ *Machine: *//p')
case "$machine" in
AArch64) arch=aarch64 ;;
"Advanced Micro Devices X86-64") arch=x86_64 ;;
*) die "$sealinit: machine \`$machine', expected AArch64 or X86-64" ;;
esac

kdir=${SEALINIT_KERNEL_DIR:-$TARGET_DIR}
if [ -n "${CONFIG_INITRAMFS_MODULES:-}${CONFIG_INITRAMFS_LATE_MODULES:-}" ] &&
	! ls -d "$kdir"/lib/modules/*/ >/dev/null 2>&1; then
	die "no $kdir/lib/modules/<version>/ for CONFIG_INITRAMFS_MODULES \`${CONFIG_INITRAMFS_MODULES:-}': build the kernel with modules (BR2_LINUX_KERNEL), or set SEALINIT_KERNEL_DIR"
fi

# Libraries from the target only: mkinitramfs looks in its /lib and
# /usr/lib (and multiarch directories, which Buildroot has none of), and
# --sysroot-only stops it from falling back to the build machine's.
extra=()
for spec in ${CONFIG_INITRAMFS_EXTRA_FILES:-}; do extra+=(--add "$spec"); done
out=$BINARIES_DIR/sealinit-initramfs.cpio.gz list=$BINARIES_DIR/sealinit-initramfs.list
# SOURCE_DATE_EPOCH: Buildroot's (BR2_REPRODUCIBLE) or 0, not the commit
# time of whatever git checkout holds the output directory.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} \
SEALINIT_DATADIR=$TARGET_DIR/usr/share/sealinit/initramfs \
	"$mk" --arch "$arch" --sealinit "$sealinit" --sysroot "$TARGET_DIR" --sysroot-only \
	--kernel-dir "$kdir" --modules "${CONFIG_INITRAMFS_MODULES:-}" \
	--late-modules "${CONFIG_INITRAMFS_LATE_MODULES:-}" \
	--extra-modules "${CONFIG_INITRAMFS_EXTRA_MODULES:-}" \
	--tee-ta "${CONFIG_INITRAMFS_TEE_TA:-}" --config "$conf" "${extra[@]}" \
	--busybox no --strip no --compress "${CONFIG_INITRAMFS_COMPRESSION:-gzip}" \
	--list "$list.tmp" --out "$out.tmp"

# Every library file in the image must come from the target (what
# --sysroot-only already enforces, checked again on the list).
target=$(cd "$TARGET_DIR" && pwd -P)
bad=$(awk -F'\t' -v t="$target/" '
	/^#/ { next }
	($1 ~ /^(usr\/)?lib(64)?\// && $1 !~ /^lib\/modules\// && $4 ~ /^\// && index($4, t) != 1) { print "  /" $1 " from " $4 }
' "$list.tmp")
if [ -n "$bad" ]; then
	rm -f "$out.tmp" "$list.tmp"
	die "libraries not from TARGET_DIR ($target), taken from the build host instead:
$bad
enable the Buildroot packages that provide them"
fi
mv "$list.tmp" "$list"
mv "$out.tmp" "$out"
echo "$PROG: $out ($(stat -c %s "$out") bytes; entries in $list)"
