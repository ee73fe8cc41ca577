#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the disk images of a QEMU boot test, on the host, without root-only
# kernel features (no loop devices, no device-mapper).
#
#   tests/qemu/mkimages.sh OUTDIR aarch64|x86_64
#   SEALINIT=PATH   target-arch sealinit for the rootfs (default
#                   build/ARCH/sealinit if it exists; "none": leave it out)
#   Opt-in extra payload for the rootfs (default: none; tests/qemu/boot.sh's
#   systemd-plugin scenario uses them for stock cryptsetup and systemd 254's
#   LUKS2 token plugin), passed on to mkinitramfs --closure-only:
#   ROOTFS_ADD="SRC:DEST ..."      --add (ELF files bring their closure)
#   ROOTFS_SYSROOT="DIR ..."       --sysroot (unpacked target .debs)
#   ROOTFS_DLOPEN="a.so.N ..."     extra --dlopen libraries, with closure
#   ROOTFS_INIT=FILE               /sbin/init (default tests/qemu/guest-init;
#                                  bench/boot boots bench/root-init)
#
# Debian packages: e2fsprogs (mke2fs -d), cryptsetup-bin (veritysetup,
# cryptsetup reencrypt), binutils, plus what initramfs/mkinitramfs needs
# (its --closure-only mode installs busybox and sealinit's libraries).
#
# Writes to OUTDIR:
#   rootfs.img     ext4, read-only root: busybox, /sbin/init = guest-init
#                  (or ROOTFS_INIT),
#                  sealinit + libraries, mount points /var/lib/sealdata
#                  (the test configurations) and /var/lib/docker (the
#                  production board configurations)
#   rootfs.verity  its dm-verity hash tree (a separate device: vdc)
#   roothash       the verity root hash (hex)
#   data.img       LUKS2 (PBKDF2, 1000 iterations) holding ext4 with MARKER
#   recovery.key   the passphrase of data.img's keyslot 0
#   marker         the random token in MARKER
#   images.env     the above as shell variables, for tests to source
#
# Guest disk layout (virtio-blk, in this order): vda = rootfs.img,
# vdb = data.img, vdc = rootfs.verity. Whole-disk images, no GPT: tests/qemu
# passes paths (root=/dev/vda); PARTLABEL lookup is a boot-stage feature
# with its own tests.
#
# Enrollment is not done here: a test enrolls data.img with `sealinit enroll`
# against the VM's swtpm state before booting (tests/qemu/README.md).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-}
ARCH=${2:-}
[ -n "$OUT" ] && { [ "$ARCH" = aarch64 ] || [ "$ARCH" = x86_64 ]; } ||
	{ echo "usage: $0 OUTDIR aarch64|x86_64" >&2; exit 2; }
log() { echo "mkimages: $*" >&2; }
die() { echo "mkimages: $*" >&2; exit 1; }

"$REPO/scripts/deps.sh" test
for tool in mke2fs:e2fsprogs veritysetup:cryptsetup-bin readelf:binutils; do
	command -v "${tool%%:*}" >/dev/null 2>&1 ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
done

if [ -z "${SEALINIT+set}" ]; then
	SEALINIT=$REPO/build/$ARCH/sealinit
	[ -f "$SEALINIT" ] || { log "no $SEALINIT: rootfs without sealinit"; SEALINIT=none; }
fi
[ "$SEALINIT" = none ] || [ -f "$SEALINIT" ] || die "no such file: $SEALINIT"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
. "$REPO/tests/lib/atexit.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkimages.XXXXXX")
at_exit rm -rf "$WORK"

# Fixed inputs where the tools would pick random ones, so the same inputs
# give the same root hash (what `predict` will need). Test images only.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH   # mke2fs timestamps
ROOT_UUID=5ea1b007-0000-4000-8000-000000000001
VERITY_UUID=5ea1b007-0000-4000-8000-000000000002
VERITY_SALT=$(printf 'sealinit-test-rootfs' | sha256sum | cut -c1-64)

# --- rootfs ------------------------------------------------------------------
R=$WORK/rootfs
args=(--arch "$ARCH" --closure-only "$R" --busybox yes)
[ "$SEALINIT" = none ] || args+=(--sealinit "$SEALINIT")
for x in ${ROOTFS_SYSROOT:-}; do args+=(--sysroot "$x"); done
for x in ${ROOTFS_ADD:-}; do args+=(--add "$x"); done
if [ -n "${ROOTFS_DLOPEN:-}" ]; then
	# --dlopen replaces mkinitramfs's default list (sealinit's device TCTI
	# and libgcc_s), so name those again.
	x=""
	[ "$SEALINIT" = none ] || x="libtss2-tcti-device.so.0 libgcc_s.so.1"
	args+=(--dlopen "$x $ROOTFS_DLOPEN")
fi
"$REPO/initramfs/mkinitramfs" "${args[@]}" --quiet
for d in dev proc sys run tmp mnt root etc var/lib/sealdata var/lib/docker sbin usr/bin usr/sbin; do
	mkdir -p "$R/$d"
done
install -m 0755 "${ROOTFS_INIT:-$REPO/tests/qemu/guest-init}" "$R/sbin/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
echo 'root:x:0:' >"$R/etc/group"
echo sealinit-test >"$R/etc/hostname"
rsize=$(du -sk "$R" | cut -f1)
# Content + 25% + 4 MiB for ext4 metadata; no journal (mounted read-only
# under dm-verity), root-owned files (-E root_owner). -b 4096: mke2fs picks
# 1 KiB blocks for small filesystems, and ext4 cannot mount those on a
# dm-verity device, whose logical block size is the 4 KiB verity data block
# (mount fails with EINVAL, silently under busybox's MS_SILENT).
rsize=$(( (rsize * 5 / 4 + 4096) / 1024 + 1 ))M
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$OUT/rootfs.img"
truncate -s "$rsize" "$OUT/rootfs.img"
mke2fs -q -t ext4 -b 4096 -O ^has_journal -L sealroot -U "$ROOT_UUID" \
	-E "hash_seed=$ROOT_UUID,root_owner=0:0" -d "$R" "$OUT/rootfs.img"
# mke2fs 1.47.0 copies each file's ctime (which only the clock sets) and
# atime: pin both, in one debugfs run, so that the image and the root hash
# depend on the inputs only. (debugfs splits on spaces: the tree has none.)
(cd "$R" && find . -mindepth 1 -printf '/%P\n') | {
	echo "sif / ctime @$SOURCE_DATE_EPOCH"
	echo "sif / atime @$SOURCE_DATE_EPOCH"
	while IFS= read -r p; do
		echo "sif $p ctime @$SOURCE_DATE_EPOCH"
		echo "sif $p atime @$SOURCE_DATE_EPOCH"
	done
	echo "sif /lost+found ctime @$SOURCE_DATE_EPOCH"   # made by mke2fs itself
	echo "sif /lost+found atime @$SOURCE_DATE_EPOCH"
} >"$WORK/debugfs.cmds"
debugfs -w -f "$WORK/debugfs.cmds" "$OUT/rootfs.img" >"$WORK/debugfs.log" 2>&1 ||
	die "debugfs: $(tail -n 3 "$WORK/debugfs.log")"
! grep -v '^debugfs' "$WORK/debugfs.log" | grep -q . ||
	die "debugfs: $(grep -v '^debugfs' "$WORK/debugfs.log" | head -n 3)"

# dm-verity hash tree in its own file. veritysetup format only reads and
# writes files: no dm needed (activation happens in the guest).
rm -f "$OUT/rootfs.verity"
veritysetup format --uuid "$VERITY_UUID" --salt "$VERITY_SALT" \
	"$OUT/rootfs.img" "$OUT/rootfs.verity" >"$WORK/verity.txt"
ROOTHASH=$(sed -n 's/^Root hash:[[:space:]]*//p' "$WORK/verity.txt")
[ ${#ROOTHASH} = 64 ] || die "no root hash from veritysetup format: $(cat "$WORK/verity.txt")"
echo "$ROOTHASH" >"$OUT/roothash"
# Checked in userspace, again without dm.
veritysetup verify "$OUT/rootfs.img" "$OUT/rootfs.verity" "$ROOTHASH" ||
	die "veritysetup verify failed"

# --- data volume ---------------------------------------------------------------
# An ext4 image with MARKER, encrypted in place by cryptsetup's offline LUKS2
# reencryption, which works on a plain file (no dm, no loop; measured with
# cryptsetup 2.6.1). --reduce-device-size makes room for the 16 MiB LUKS2
# header: the filesystem may use only the first (size - 32 MiB), and the
# data are shifted behind the header while they are encrypted.
MARKER=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
head -c 32 /dev/urandom | base64 | tr -d '\n' >"$OUT/recovery.key"
chmod 0600 "$OUT/recovery.key"
echo "$MARKER" >"$OUT/marker"
D=$WORK/data
mkdir -p "$D"
printf '%s\n' "$MARKER" >"$D/MARKER"
rm -f "$OUT/data.img"
truncate -s 64M "$OUT/data.img"
mke2fs -q -t ext4 -b 4096 -L sealdata -d "$D" "$OUT/data.img" 32M
grep -qa "$MARKER" "$OUT/data.img" || die "MARKER not found in the plain ext4 image (mke2fs -d?)"
# PBKDF2 with 1000 iterations: argon2's default costs seconds and 1 GiB in
# a 512 MiB TCG guest (docs/DESIGN). The key file is a passphrase, so
# stock cryptsetup opens the volume with it for recovery.
cryptsetup reencrypt --batch-mode --encrypt --type luks2 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--reduce-device-size 32M --key-file "$OUT/recovery.key" "$OUT/data.img" >/dev/null
cryptsetup isLuks --type luks2 "$OUT/data.img" || die "data.img is not LUKS2"
cryptsetup open --test-passphrase --key-file "$OUT/recovery.key" "$OUT/data.img" ||
	die "recovery.key does not open data.img"
n=$(grep -ca "$MARKER" "$OUT/data.img" || true)
[ "$n" = 0 ] || die "MARKER still in plaintext in data.img ($n hits)"

cat >"$OUT/images.env" <<EOF
# written by tests/qemu/mkimages.sh ($ARCH)
IMG_ARCH=$ARCH
IMG_ROOTFS=$OUT/rootfs.img
IMG_VERITY=$OUT/rootfs.verity
IMG_ROOTHASH=$ROOTHASH
IMG_DATA=$OUT/data.img
IMG_RECOVERY_KEY=$OUT/recovery.key
IMG_MARKER=$MARKER
IMG_SEALINIT=$([ "$SEALINIT" = none ] && echo no || echo yes)
IMG_EXTRA=$([ -n "${ROOTFS_ADD:-}${ROOTFS_DLOPEN:-}" ] && echo yes || echo no)
EOF
log "$OUT: rootfs.img $(stat -c %s "$OUT/rootfs.img") bytes (root hash ${ROOTHASH:0:16}...), data.img LUKS2 $(stat -c %s "$OUT/data.img") bytes, sealinit: $([ "$SEALINIT" = none ] && echo no || echo yes)"
