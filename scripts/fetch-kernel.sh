#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetch Debian's cloud kernel for a QEMU target and unpack it into a cache.
#
#   scripts/fetch-kernel.sh aarch64|x86_64      prints the kernel version (KVER)
#
# Debian packages this script needs (installed here only when missing):
#   apt (apt-get download, apt-cache), dpkg (dpkg-deb), kmod (depmod)
#
# Leaves, under build/kernels/ARCH/:
#   vmlinuz                     the kernel image (arm64: a raw Image, ~27 MB;
#                               amd64: a bzImage, ~14 MB)
#   config, System.map          for reference and for depmod -F
#   lib/modules/KVER/...        the modules, with a modules.dep that we
#                               generate: the .deb ships no modules.dep, because
#                               dpkg's postinst runs depmod on install
#   kver                        KVER as text
#   deb/                        the downloaded .deb (the cache key)
#
# Why the cloud flavour: Debian's generic arm64 kernel lacks CONFIG_TCG_TIS,
# so it cannot see QEMU's tpm-tis-device. The cloud kernels are also small.
# Debian 6.1 kernels ship modules uncompressed (.ko, not .ko.xz); mkinitramfs
# still copes with .ko.xz/.ko.zst in case that ever changes.
#
# Idempotent: on a cache hit (same package version as apt resolves now) it
# downloads nothing and prints only KVER. Nothing is installed system-wide.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${1:-}
case "$ARCH" in
aarch64) DEBARCH=arm64 ;;
x86_64)  DEBARCH=amd64 ;;
*) echo "usage: $0 aarch64|x86_64" >&2; exit 2 ;;
esac
META="linux-image-cloud-$DEBARCH:$DEBARCH"
OUT="$REPO/build/kernels/$ARCH"

log() { echo "fetch-kernel: $*" >&2; }

# depmod is the only extra tool; kmod is tiny and arch-independent (its depmod
# reads arm64 modules fine on an amd64 host).
if ! command -v depmod >/dev/null 2>&1 && [ ! -x /usr/sbin/depmod ] && [ ! -x /sbin/depmod ]; then
	log "installing kmod (for depmod)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kmod >/dev/null
fi
DEPMOD=$(command -v depmod || echo /usr/sbin/depmod)

# Resolve the ABI package (linux-image-6.1.0-NN-cloud-ARCH) and its exact
# version from the metapackage's Depends, as `apt-cache depends` would, but in
# one call: the candidate's "Depends: linux-image-6.1.0-56-cloud-arm64 (= V)"
# carries both. apt-cache reads the local lists (no network, ~1.5 s).
resolve() {
	local dep
	dep=$(apt-cache show --no-all-versions "$META" 2>/dev/null |
		sed -n 's/^Depends: .*\(linux-image-[0-9][^ :,]*\)[^ ,]* (= \([^)]*\)).*/\1 \2/p' | head -n1)
	PKG=${dep% *}
	VER=${dep#* }
	[ -n "$dep" ]
}

cached_ok() {
	[ -s "$OUT/kver" ] && [ -f "$OUT/vmlinuz" ] &&
		[ -s "$OUT/lib/modules/$(cat "$OUT/kver")/modules.dep" ]
}

if ! resolve; then
	# No lists yet (fresh machine) or the metapackage is unknown: refresh once.
	if cached_ok; then
		# Offline but cached: use what we have rather than fail.
		cat "$OUT/kver"
		exit 0
	fi
	log "apt-get update (cannot resolve $META)"
	apt-get update -qq >/dev/null
	resolve || { log "cannot resolve $META from apt-cache depends"; exit 1; }
fi
KVER=${PKG#linux-image-}
DEBFILE="${PKG}_${VER//:/%3a}_${DEBARCH}.deb"

if cached_ok && [ "$(cat "$OUT/kver")" = "$KVER" ] && [ -f "$OUT/deb/$DEBFILE" ]; then
	echo "$KVER"
	exit 0
fi

log "fetching $PKG $VER ($DEBARCH)"
mkdir -p "$OUT/deb"
rm -f "$OUT"/deb/*.deb
# APT::Sandbox::User=root: apt otherwise drops to _apt, which cannot write
# into root's build tree, and warns.
dl() { (cd "$OUT/deb" && apt-get download -qq -o APT::Sandbox::User=root "$PKG:$DEBARCH=$VER" >/dev/null); }
if ! dl; then
	# Stale lists name a version the mirror no longer has: refresh and retry.
	log "download failed; apt-get update and retry"
	apt-get update -qq >/dev/null
	resolve
	KVER=${PKG#linux-image-}
	dl
fi
deb=$(ls "$OUT"/deb/*.deb)

# Unpack into a staging dir, then keep only what a QEMU boot needs (the
# arm64 package carries ~200 device trees we do not use).
stage="$OUT/.stage.$$"
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"
dpkg-deb -x "$deb" "$stage"
rm -rf "${OUT:?}/lib" "$OUT/vmlinuz" "$OUT/config" "$OUT/System.map"
mkdir -p "$OUT/lib/modules"
mv "$stage/lib/modules/$KVER" "$OUT/lib/modules/$KVER"
mv "$stage/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
mv "$stage/boot/config-$KVER" "$OUT/config"
mv "$stage/boot/System.map-$KVER" "$OUT/System.map"

# modules.dep, modules.alias, ... for this tree. -F checks symbol versions
# against the kernel's own map; -b makes depmod work on our cache, not /lib.
"$DEPMOD" -b "$OUT" -F "$OUT/System.map" "$KVER"

nko=$(find "$OUT/lib/modules/$KVER" -name '*.ko' | wc -l)
nkoc=$(find "$OUT/lib/modules/$KVER" -name '*.ko.*' | wc -l)
log "$KVER: $nko .ko and $nkoc compressed modules, vmlinuz $(stat -c %s "$OUT/vmlinuz") bytes"
echo "$KVER" >"$OUT/kver"
echo "$KVER"
