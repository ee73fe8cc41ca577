#!/bin/bash
# SPDX-License-Identifier: MIT
# Install sealinit into a Jetson Linux tree (Linux_for_Tegra/) for the Orin
# Nano devkit on NVMe:
#   install-l4t.sh --l4t DIR --initramfs FILE [--dry-run]
# - the initramfs as rootfs/boot/initrd, and the INITRD line of the default
#   entry of rootfs/boot/extlinux/extlinux.conf pointing at it;
# - the flash layout: NVIDIA's tools/kernel_flash/flash_l4t_t234_nvme.xml
#   with sealinit's partitions (flash-layout-nvme.xml, merge-layout.py), as
#   tools/kernel_flash/flash_l4t_t234_nvme_sealinit.xml beside it; NVIDIA's
#   file is not changed;
# - the fTPM store's image, an empty ext4 labelled tee-store, as
#   bootloader/sealinit-tee-store.img (kept when it is there already);
# - the kernel config fragment as sealinit/kernel.config, with
#   extlinux.conf.example beside it.
# Everything is checked before anything is written: a missing file of the
# tree, or an initramfs that is not one, is refused by name and nothing is
# changed. --dry-run prints each action and changes nothing. A second run
# changes nothing (each file is written only when it differs).
# Flash afterwards with the merged layout (board README, "Flashing").
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PROG=install-l4t.sh
die() { echo "$PROG: $*" >&2; exit 1; }
usage() { sed -n '3,4p' "$0" | sed 's/^# *//' >&2; exit 2; }

l4t="" initrd="" dry=0
while [ $# -gt 0 ]; do
	case $1 in
	--l4t) [ $# -ge 2 ] || usage; l4t=$2; shift 2 ;;
	--initramfs) [ $# -ge 2 ] || usage; initrd=$2; shift 2 ;;
	--dry-run) dry=1; shift ;;
	-h|--help) usage ;;
	*) echo "$PROG: unknown argument \`$1'" >&2; usage ;;
	esac
done
[ -n "$l4t" ] || die "--l4t: missing; expected the Linux_for_Tegra directory of a Jetson Linux release"
[ -n "$initrd" ] || die "--initramfs: missing; expected the initramfs make initramfs wrote (build/aarch64/initramfs.cpio.gz)"
command -v python3 >/dev/null || die "python3: not found; the layout merge needs it"

# --- checks: nothing is written before all of them pass -----------------
[ -d "$l4t" ] || die "--l4t \`$l4t': not a directory; expected a Linux_for_Tegra tree"
# The files of a Jetson Linux tree this uses, or that show it is one.
for f in flash.sh tools/kernel_flash/l4t_initrd_flash.sh tools/kernel_flash/flash_l4t_t234_nvme.xml \
	rootfs/boot/extlinux/extlinux.conf; do
	[ -f "$l4t/$f" ] || die "--l4t \`$l4t': not a Jetson Linux tree: $f is missing (expected Linux_for_Tegra/ with the sample rootfs applied)"
done
for d in bootloader rootfs/boot; do
	[ -d "$l4t/$d" ] || die "--l4t \`$l4t': not a Jetson Linux tree: $d/ is missing"
done
[ -f "$initrd" ] || die "--initramfs \`$initrd': not a regular file"
[ -s "$initrd" ] || die "--initramfs \`$initrd': empty; expected a cpio archive, gzip/zstd/xz compressed or not"
magic=$(head -c 6 "$initrd" | od -An -tx1 | tr -d ' \n')
case $magic in
1f8b*|28b52ffd*|fd377a585a00|303730373031) ;;  # gzip, zstd, xz, newc cpio
*) die "--initramfs \`$initrd': starts with bytes $magic; expected a cpio archive (070701) or gzip, zstd or xz" ;;
esac
ext=$l4t/rootfs/boot/extlinux/extlinux.conf
grep -q '^[[:space:]]*LABEL[[:space:]]' "$ext" ||
	die "rootfs/boot/extlinux/extlinux.conf in \`$l4t': no LABEL entry; expected L4T's extlinux.conf"
for f in flash-layout-nvme.xml merge-layout.py kernel.config extlinux.conf.example sealinit.conf; do
	[ -f "$HERE/$f" ] || die "$HERE/$f: missing from sealinit's board directory"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/install-l4t.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$stage"' EXIT

# The new content of each file, prepared in $stage first.
base=$l4t/tools/kernel_flash/flash_l4t_t234_nvme.xml
python3 "$HERE/merge-layout.py" merge "$HERE/flash-layout-nvme.xml" --config "$HERE/sealinit.conf" \
	--base "$base" --out "$stage/layout.xml" || die "the flash layout was not merged; nothing changed"

# extlinux.conf: the INITRD line of the DEFAULT entry (the first entry when
# there is no DEFAULT) is /boot/initrd; one is added after LINUX if absent.
python3 - "$ext" "$stage/extlinux.conf" <<'PY' || die "rootfs/boot/extlinux/extlinux.conf: not changed (see above); nothing changed"
import re, sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().split("\n")
default = None
for l in lines:
    m = re.match(r"\s*DEFAULT\s+(\S+)", l)
    if m:
        default = m.group(1)
entry = None
start = end = None
for i, l in enumerate(lines):
    m = re.match(r"\s*LABEL\s+(\S+)", l)
    if m:
        if start is not None and end is None:
            end = i
        if start is None and (default is None or m.group(1) == default):
            start, entry = i, m.group(1)
if start is None:
    sys.exit("extlinux.conf: DEFAULT %s names no LABEL" % default)
end = end if end is not None else len(lines)
body = lines[start:end]
idx = [i for i, l in enumerate(body) if re.match(r"\s*INITRD\s", l)]
linux = [i for i, l in enumerate(body) if re.match(r"\s*LINUX\s", l)]
if not linux:
    sys.exit("extlinux.conf: entry %s has no LINUX line" % entry)
indent = re.match(r"\s*", body[linux[0]]).group(0)
if idx:
    for i in idx:
        body[i] = re.match(r"\s*", body[i]).group(0) + "INITRD /boot/initrd"
else:
    body.insert(linux[0] + 1, indent + "INITRD /boot/initrd")
lines[start:end] = body
open(dst, "w", encoding="utf-8").write("\n".join(lines))
PY

# The store image: made once; an image already there is kept (the store's
# contents are the fTPM's, and a rerun must not change it).
store=$l4t/bootloader/sealinit-tee-store.img
if [ ! -e "$store" ]; then
	mke2fs=$(command -v mke2fs || command -v /sbin/mke2fs || command -v /usr/sbin/mke2fs) ||
		die "mke2fs: not found; it makes the fTPM store's image (e2fsprogs); nothing changed"
fi

# --- actions -------------------------------------------------------------
changed=0
# put SRC DEST WHAT: copy when DEST differs from SRC.
put() {
	local src=$1 dst=$2 what=$3
	if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
		echo "unchanged: $dst ($what)"
		return
	fi
	if [ $dry = 1 ]; then
		echo "would write: $dst ($what)"
		return
	fi
	mkdir -p "$(dirname "$dst")" || die "$(dirname "$dst"): cannot create"
	cp "$src" "$dst.sealinit-new" && mv "$dst.sealinit-new" "$dst" || die "$dst: cannot write"
	echo "wrote: $dst ($what)"
	changed=$((changed + 1))
}

put "$initrd" "$l4t/rootfs/boot/initrd" "the initramfs, which L4TLauncher loads from APP"
put "$stage/extlinux.conf" "$ext" "INITRD /boot/initrd in the default entry"
put "$stage/layout.xml" "$l4t/tools/kernel_flash/flash_l4t_t234_nvme_sealinit.xml" \
	"NVIDIA's NVMe layout with tee-store, models, APP_verity, APP_root"
put "$HERE/kernel.config" "$l4t/sealinit/kernel.config" "kernel config fragment"
put "$HERE/extlinux.conf.example" "$l4t/sealinit/extlinux.conf.example" "the extlinux entry for a locked-down build"
if [ -e "$store" ]; then
	echo "unchanged: $store (the fTPM store's image, kept)"
elif [ $dry = 1 ]; then
	echo "would make: $store (an empty ext4 labelled tee-store, 16 MiB)"
else
	"$mke2fs" -q -t ext4 -L tee-store -F "$store.sealinit-new" 16M >/dev/null &&
		mv "$store.sealinit-new" "$store" || { rm -f "$store.sealinit-new"; die "$store: mke2fs failed"; }
	echo "made: $store (an empty ext4 labelled tee-store)"
	changed=$((changed + 1))
fi
if [ $dry = 1 ]; then
	echo "dry run: nothing changed"
else
	echo "$changed file(s) changed in $l4t"
fi
