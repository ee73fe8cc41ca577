#!/bin/bash
# SPDX-License-Identifier: MIT
# `make initramfs`: the initramfs for the configured target, from the
# values the Makefile reads out of .config.
#   scripts/build-initramfs.sh ARCH SEALINIT OUT
# Environment: MODULES, LATE_MODULES, EXTRA_MODULES, EXTRA_FILES, SYSROOT,
# TEE_TA, KERNEL_DIR (empty: Debian's cloud kernel, fetched), BOOT_CONFIG,
# BUSYBOX (y/n), COMPRESSION (gzip or zstd). Beside OUT (x.cpio.gz) it writes
# x.list: every entry of the image, its size and where it came from.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
arch=$1 sealinit=$2 out=$3
kdir=${KERNEL_DIR:-}
if [ -z "$kdir" ]; then
	"$REPO/scripts/fetch-kernel.sh" "$arch" >/dev/null
	kdir=$REPO/build/kernels/$arch
fi
[ -d "$kdir/lib/modules" ] || {
	echo "build-initramfs: no lib/modules/ under CONFIG_INITRAMFS_KERNEL_DIR \`$kdir'" >&2
	exit 1
}
[ -f "$BOOT_CONFIG" ] || {
	echo "build-initramfs: CONFIG_BOOT_CONFIG \`$BOOT_CONFIG' does not exist" >&2
	exit 1
}
extra=()
for spec in ${EXTRA_FILES:-}; do extra+=(--add "$spec"); done
for dir in ${SYSROOT:-}; do extra+=(--sysroot "$dir"); done
exec "$REPO/initramfs/mkinitramfs" --arch "$arch" --sealinit "$sealinit" \
	--kernel-dir "$kdir" --modules "$MODULES" --late-modules "${LATE_MODULES:-}" \
	--extra-modules "${EXTRA_MODULES:-}" --tee-ta "${TEE_TA:-}" \
	--config "$BOOT_CONFIG" "${extra[@]}" --list "${out%.cpio.gz}.list" \
	--busybox "$([ "${BUSYBOX:-n}" = y ] && echo yes || echo no)" \
	--compress "${COMPRESSION:-gzip}" --out "$out"
