#!/bin/bash
# SPDX-License-Identifier: MIT
# The Jetson initramfs, built by `make initramfs` from
# jetson_orin_nano_defconfig against Debian's arm64 kernel (build/kernels/
# aarch64: TEE and OP-TEE as modules, ext4 and crc32c built in, no
# tpm_ftpm_tee), with a target root holding a stand-in tee-supplicant
# (an arm64 ELF linked against a stand-in libteec.so.1) and a stand-in
# tpm_ftpm_tee.ko built "out of tree" (a copy of Debian's optee-rng.ko,
# which needs tee as the real driver does, renamed in its .modinfo).
#   - what the fTPM needs is in: the supplicant at the path tee_supplicant=
#     names, libteec from its closure, tee before optee in the early list,
#     tpm_ftpm_tee alone in the late list; the manifest's dlopen libraries;
#   - build/…/initramfs.list is exactly `cpio -t` of the image, with the
#     sizes of `cpio -tv` and an origin for every entry;
#   - refused, by name: a tee_supplicant= in neither the sysroot nor the
#     host; a late module the kernel lacks and nobody supplies; an
#     out-of-tree .ko that no list names, whose module name is not its file
#     name, or that was built for another kernel; a TA file not named by
#     the fTPM's UUID;
#   - an out-of-tree module given by path lands in the cpio, in its list
#     after its depends=; an L4T-shaped tree (TEE built in, tpm_ftpm_tee in
#     updates/) ships no tee/optee and takes the driver from updates/;
#   - each line of a list names what it needs of that list (optee: tee);
#   - only what the configured boot uses: measure=image gets no dm-verity
#     (nor dm-bufio, reed_solomon), the default (verity) gets them.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
unset MAKEFLAGS MFLAGS MAKELEVEL

KDIR=$REPO/build/kernels/aarch64
command -v aarch64-linux-gnu-gcc >/dev/null || skip "no aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu)"
command -v aarch64-linux-gnu-objcopy >/dev/null || skip "no aarch64-linux-gnu-objcopy (binutils-aarch64-linux-gnu)"
command -v modinfo >/dev/null || skip "no modinfo (kmod)"
if [ ! -f "$KDIR/lib/modules/$(cat "$KDIR/kver" 2>/dev/null)/modules.dep" ]; then
	"$REPO/scripts/fetch-kernel.sh" aarch64 >/dev/null 2>&1 || skip "no Debian arm64 kernel (scripts/fetch-kernel.sh aarch64)"
fi
KVER=$(cat "$KDIR/kver")
MODDIR=$KDIR/lib/modules/$KVER
MA=aarch64-linux-gnu

# --- the target root: tee-supplicant (arm64 ELF) needing libteec.so.1 -------
SR=$WORK/sysroot
mkdir -p "$SR/usr/sbin" "$SR/usr/lib/$MA"
printf 'int teec_stand_in(void) { return 0; }\n' >"$WORK/teec.c"
aarch64-linux-gnu-gcc -shared -fPIC -Wl,-soname,libteec.so.1 -o "$SR/usr/lib/$MA/libteec.so.1.0.0" "$WORK/teec.c" ||
	fail "cross-compiling the stand-in libteec"
ln -s libteec.so.1.0.0 "$SR/usr/lib/$MA/libteec.so.1"
printf 'int teec_stand_in(void);\nint main(void) { return teec_stand_in(); }\n' >"$WORK/sup.c"
aarch64-linux-gnu-gcc -o "$SR/usr/sbin/tee-supplicant" "$WORK/sup.c" -L"$SR/usr/lib/$MA" -l:libteec.so.1 ||
	fail "cross-compiling the stand-in tee-supplicant"
readelf -dW "$SR/usr/sbin/tee-supplicant" | grep -q 'NEEDED.*\[libteec\.so\.1\]' ||
	fail "the stand-in supplicant does not need libteec.so.1"
# The board config's other files: fleet keys and provision_mkfs (an arm64
# ELF, needing only libc).
printf 'stand-in key\n' >"$WORK/key.pem"
aarch64-linux-gnu-gcc -o "$WORK/mke2fs" -x c - <<<'int main(void) { return 0; }' || fail "cross-compiling mke2fs stand-in"
EXTRA_FILES="$WORK/key.pem:/etc/sealinit/fleet-pcr-key.pem $WORK/key.pem:/etc/sealinit/fleet-escrow-key.pem $WORK/mke2fs:/sbin/mke2fs"

# --- out-of-tree modules -------------------------------------------------------
# stand_in_module SRC NAME OUT: SRC (a .ko of this kernel) with its .modinfo
# name= set to NAME, written to OUT (a .ko that modinfo reads as NAME).
stand_in_module() {
	local old
	old=$(modinfo -F name "$1")
	aarch64-linux-gnu-objcopy -O binary --only-section=.modinfo "$1" "$WORK/modinfo.bin" || fail "objcopy $1"
	python3 - "$WORK/modinfo.bin" "$old" "$2" <<'EOF' || fail "rewriting .modinfo"
import sys
p, old, new = sys.argv[1:]
b = open(p, 'rb').read()
assert b.count(b'name=' + old.encode() + b'\0') == 1
open(p, 'wb').write(b.replace(b'name=' + old.encode() + b'\0', b'name=' + new.encode() + b'\0'))
EOF
	aarch64-linux-gnu-objcopy --update-section .modinfo="$WORK/modinfo.bin" "$1" "$3" || fail "objcopy --update-section"
	[ "$(modinfo -F name "$3")" = "$2" ] || fail "stand-in module $3 is not named $2"
}
RNG=$MODDIR/kernel/drivers/char/hw_random/optee-rng.ko
[ -f "$RNG" ] || fail "no $RNG in Debian's kernel"
[ "$(modinfo -F depends "$RNG")" = tee ] || fail "optee-rng.ko does not depend on tee: $(modinfo -F depends "$RNG")"
mkdir -p "$WORK/oot"
stand_in_module "$RNG" tpm_ftpm_tee "$WORK/oot/tpm_ftpm_tee.ko"

# Precondition: Debian's cloud kernel is the "modules" case.
grep -q '/drivers/tee/tee\.ko:' "$MODDIR/modules.dep" || fail "tee is not a module in $KVER"
grep -q '/drivers/tee/optee/optee\.ko:' "$MODDIR/modules.dep" || fail "optee is not a module in $KVER"
grep -q '/fs/ext4/ext4\.ko$' "$MODDIR/modules.builtin" || fail "ext4 is not built into $KVER"
! grep -q 'tpm_ftpm_tee' "$MODDIR/modules.dep" "$MODDIR/modules.builtin" || fail "$KVER has tpm_ftpm_tee: the absent-module case cannot be tested"

# --- make initramfs, jetson_orin_nano_defconfig ---------------------------------
kc=$WORK/jetson.config
KCONFIG_CONFIG=$kc make -s jetson_orin_nano_defconfig >/dev/null || fail "jetson_orin_nano_defconfig"
# jetson_make KEY=VALUE...: make initramfs with these CONFIG_INITRAMFS_*
# settings added to the defconfig's, into $WORK/build; $OUT and $RC. The
# extra files (several words) go on make's command line, as docs/fleet.md
# shows, the rest into the .config.
jetson_make() {
	local c=$WORK/jetson-run.config kv
	cp "$kc" "$c"
	echo "CONFIG_INITRAMFS_KERNEL_DIR=\"$KDIR\"" >>"$c"
	for kv in "$@"; do echo "CONFIG_INITRAMFS_${kv%%=*}=\"${kv#*=}\"" >>"$c"; done
	KCONFIG_CONFIG=$c make -s olddefconfig >/dev/null 2>&1 || fail "olddefconfig: $*"
	rm -f "$WORK/build/initramfs.cpio.gz" "$WORK/build/initramfs.list"
	run env KCONFIG_CONFIG="$c" make -s BUILD="$WORK/build" initramfs CONFIG_INITRAMFS_EXTRA_FILES="$EXTRA_FILES"
}

jetson_make SYSROOT="$SR" EXTRA_MODULES="$WORK/oot"
[ "$RC" = 0 ] || fail "make initramfs (jetson, Debian arm64 kernel): $OUT"
IMG=$WORK/build/initramfs.cpio.gz LIST=$WORK/build/initramfs.list
[ -f "$IMG" ] && [ -f "$LIST" ] || fail "no initramfs.cpio.gz and .list in $WORK/build: $OUT"
X=$WORK/x
mkdir -p "$X"
(cd "$X" && gzip -dc "$IMG" | cpio -id --quiet) || fail "unpacking the image"

# The list is exactly the image: same entries, same order, same sizes, and
# every entry has an origin.
gzip -dc "$IMG" | cpio -t --quiet >"$WORK/cpio-t" || fail "cpio -t"
grep -v '^#' "$LIST" | cut -f1 >"$WORK/list-paths"
[ -s "$WORK/cpio-t" ] || fail "cpio -t is empty"
diff "$WORK/cpio-t" "$WORK/list-paths" >"$WORK/diff" || fail "initramfs.list is not cpio -t: $(head -5 "$WORK/diff")"
gzip -dc "$IMG" | cpio -tv --quiet | awk '{ n = $9; for (i = 10; i <= NF && $i != "->"; i++) n = n " " $i; print n "\t" $5 }' >"$WORK/cpio-tv"
grep -v '^#' "$LIST" | cut -f1,2 >"$WORK/list-sizes"
diff "$WORK/cpio-tv" "$WORK/list-sizes" >"$WORK/diff" || fail "initramfs.list sizes differ from cpio -tv: $(head -5 "$WORK/diff")"
bad=$(grep -v '^#' "$LIST" | awk -F'\t' '$3 !~ /^(dir|sealinit|closure|manifest|module|extra|config|busybox)$/')
[ -z "$bad" ] || fail "entries without a known origin: $bad"
# origin PATH: the list's origin for PATH.
origin() { awk -F'\t' -v p="$1" '$1 == p { print $3 }' "$LIST"; }

# The supplicant at the path the board config names, from the sysroot; its
# libteec from its closure; the manifest's dlopen libraries.
grep -qx 'tee_supplicant=/usr/sbin/tee-supplicant' board/jetson-orin-nano/sealinit.conf ||
	fail "board config's tee_supplicant= moved: $(grep tee_supplicant= board/jetson-orin-nano/sealinit.conf)"
cmp -s "$X/usr/sbin/tee-supplicant" "$SR/usr/sbin/tee-supplicant" || fail "usr/sbin/tee-supplicant is not the sysroot's"
[ "$(origin usr/sbin/tee-supplicant)" = manifest ] || fail "tee-supplicant's origin: $(origin usr/sbin/tee-supplicant)"
cmp -s "$X/usr/lib/$MA/libteec.so.1.0.0" "$SR/usr/lib/$MA/libteec.so.1.0.0" || fail "libteec.so.1.0.0 is not the sysroot's"
[ "$(readlink "$X/usr/lib/$MA/libteec.so.1")" = libteec.so.1.0.0 ] || fail "no libteec.so.1 soname link"
[ "$(origin "usr/lib/$MA/libteec.so.1.0.0")" = closure ] || fail "libteec's origin: $(origin "usr/lib/$MA/libteec.so.1.0.0")"
grep -q "^usr/lib/$MA/libteec.so.1.0.0	.*needed by tee-supplicant" "$LIST" || fail "the list does not say libteec is needed by tee-supplicant"
for l in libtss2-tcti-device.so.0 libgcc_s.so.1; do
	p=$(grep -o "^usr/lib/$MA/$l[^	]*" "$LIST" | head -n1)
	[ -n "$p" ] || fail "$l (manifest, dlopen) is not in the image"
	[ "$(origin "$p")" = manifest ] || fail "$p's origin: $(origin "$p")"
done
for p in etc/sealinit/fleet-pcr-key.pem etc/sealinit/fleet-escrow-key.pem sbin/mke2fs; do
	[ "$(origin "$p")" = extra ] || fail "$p (CONFIG_INITRAMFS_EXTRA_FILES on make's command line) not in the image as extra: $(origin "$p")"
done
[ ! -e "$X/lib/optee_armtz" ] || fail "a TA directory without CONFIG_INITRAMFS_TEE_TA (Jetson's fTPM is an early TA)"

# Modules: tee before optee, both early; ext4 and crc32c_generic built in;
# tpm_ftpm_tee, from out of tree, alone in the late list.
M=/lib/modules/$KVER
# Each line is "PATH: what it needs"; the paths alone for the order.
early=$(grep -v '^#' "$X/etc/sealinit/modules" | cut -d: -f1)
late=$(grep -v '^#' "$X/etc/sealinit/modules.late" | cut -d: -f1)
# optee needs tee (loaded first); tee needs nothing (loaded at once,
# beside dm_mod).
grep -qx "$M/kernel/drivers/tee/optee/optee.ko: $M/kernel/drivers/tee/tee.ko" "$X/etc/sealinit/modules" ||
	fail "optee's line does not name tee.ko: $(grep optee "$X/etc/sealinit/modules")"
grep -qx "$M/kernel/drivers/tee/tee.ko:" "$X/etc/sealinit/modules" ||
	fail "tee's line names a dependency: $(grep tee "$X/etc/sealinit/modules")"
line_of() { echo "$1" | grep -n -x "$2" | cut -d: -f1; }
nt=$(line_of "$early" "$M/kernel/drivers/tee/tee.ko") no=$(line_of "$early" "$M/kernel/drivers/tee/optee/optee.ko")
[ -n "$nt" ] && [ -n "$no" ] || fail "tee and optee not both in the early list: $early"
[ "$nt" -lt "$no" ] || fail "optee before tee in the early list: $early"
for m in dm-mod dm-crypt dm-verity; do echo "$early" | grep -q "/$m\.ko$" || fail "$m not in the early list"; done
grep -q '^# built in: ext4 crc32c_generic$' "$X/etc/sealinit/modules" || fail "ext4, crc32c_generic not noted as built in: $(head -3 "$X/etc/sealinit/modules")"
! grep -q '/ext4\.ko' "$WORK/cpio-t" || fail "a built-in ext4.ko went in"
[ "$late" = "$M/extra/tpm_ftpm_tee.ko" ] || fail "the late list is not just extra/tpm_ftpm_tee.ko: $late"
! echo "$early" | grep -q tpm_ftpm_tee || fail "tpm_ftpm_tee in the early list"
cmp -s "$X$M/extra/tpm_ftpm_tee.ko" "$WORK/oot/tpm_ftpm_tee.ko" || fail "extra/tpm_ftpm_tee.ko is not the out-of-tree file"
grep -qx "extra/tpm_ftpm_tee.ko: kernel/drivers/tee/tee.ko" "$X$M/modules.dep" ||
	fail "the image's modules.dep has no line for tpm_ftpm_tee: $(grep tpm_ftpm "$X$M/modules.dep")"
[ "$(origin "${M#/}/extra/tpm_ftpm_tee.ko")" = module ] || fail "tpm_ftpm_tee.ko's origin"
echo "ok: make initramfs (jetson, $KVER): supplicant + libteec from the sysroot, tee<optee early, tpm_ftpm_tee late; list = cpio -t ($(wc -l <"$WORK/cpio-t") entries)"

# --- refused, by name ----------------------------------------------------------
# A tee_supplicant= that the sysroot lacks (an empty target root).
mkdir -p "$WORK/empty-root"
jetson_make SYSROOT="$WORK/empty-root" EXTRA_MODULES="$WORK/oot"
[ "$RC" != 0 ] || fail "built with no tee-supplicant in the sysroot"
expect_msg "tee_supplicant=/usr/sbin/tee-supplicant, but no sysroot has /usr/sbin/tee-supplicant"
expect_msg "CONFIG_INITRAMFS_SYSROOT"
[ ! -e "$WORK/build/initramfs.cpio.gz" ] || fail "an image was written without the supplicant"
# No sysroot: the host's, which has none (or one for another machine).
jetson_make SYSROOT="" EXTRA_MODULES="$WORK/oot"
[ "$RC" != 0 ] || fail "built with no sysroot and the host's tee-supplicant"
if [ -e /usr/sbin/tee-supplicant ]; then
	expect_msg "tee_supplicant=/usr/sbin/tee-supplicant: /usr/sbin/tee-supplicant is not an ELF for aarch64"
else
	expect_msg "tee_supplicant=/usr/sbin/tee-supplicant, but the build host has no /usr/sbin/tee-supplicant"
fi
expect_msg "CONFIG_INITRAMFS_SYSROOT"
# The late module the kernel lacks, with nothing out of tree: refused, not
# an image whose boot waits for an fTPM that never comes.
jetson_make SYSROOT="$SR" EXTRA_MODULES=""
[ "$RC" != 0 ] || fail "built without tpm_ftpm_tee"
expect_msg "--late-modules (CONFIG_INITRAMFS_LATE_MODULES): module tpm_ftpm_tee is in neither kernel $KVER"
expect_msg "CONFIG_INITRAMFS_EXTRA_MODULES"
echo "ok: refused: supplicant absent from the sysroot and from the host; tpm_ftpm_tee absent"

# A boot config whose last tee_supplicant= is empty starts no supplicant
# (a later line replaces an earlier one): none is needed, none goes in.
printf 'root=/dev/vda\ntee_supplicant=/usr/sbin/tee-supplicant\ntee_supplicant=\n' >"$WORK/unset.conf"
run "$REPO/initramfs/mkinitramfs" --quiet --arch aarch64 --sealinit "$WORK/build/sealinit" \
	--config "$WORK/unset.conf" --busybox no --out "$WORK/unset.cpio.gz" --list "$WORK/unset.list"
[ "$RC" = 0 ] || fail "a config that unsets tee_supplicant= still needs one: $OUT"
! grep -q 'tee-supplicant' "$WORK/unset.list" || fail "a supplicant went in though the config unsets it"

# --- mkinitramfs --extra-modules by path; its refusals ------------------------------
printf 'root=/dev/vda\n' >"$WORK/plain.conf"
# mk ARGS...: mkinitramfs for aarch64 with sealinit and the kernel; $OUT, $RC.
mk() {
	rm -f "$WORK/mk.cpio.gz"
	run "$REPO/initramfs/mkinitramfs" --quiet --arch aarch64 --sealinit "$WORK/build/sealinit" \
		--kernel-dir "$KDIR" --config "$WORK/plain.conf" --busybox no --out "$WORK/mk.cpio.gz" --list "$WORK/mk.list" "$@"
}
mkdir -p "$WORK/oot2"
cp "$RNG" "$WORK/oot2/optee-rng.ko"
mk --modules dm_mod --late-modules optee_rng --extra-modules "$WORK/oot2/optee-rng.ko"
[ "$RC" = 0 ] || fail "an out-of-tree module by path: $OUT"
rm -rf "$X" && mkdir -p "$X" && (cd "$X" && gzip -dc "$WORK/mk.cpio.gz" | cpio -id --quiet) || fail "unpack"
late=$(grep -v '^#' "$X/etc/sealinit/modules.late")
[ "$late" = "$M/kernel/drivers/tee/tee.ko:
$M/extra/optee-rng.ko: $M/kernel/drivers/tee/tee.ko" ] || fail "the late list is not tee, then extra/optee-rng.ko after it: $late"
cmp -s "$X$M/extra/optee-rng.ko" "$RNG" || fail "extra/optee-rng.ko is not the file given"
grep -q "^lib/modules/$KVER/extra/optee-rng.ko	.*	module	$WORK/oot2/optee-rng.ko$" "$WORK/mk.list" || fail "extra/optee-rng.ko not listed with its source"
# Only what the configured boot uses: a configuration that measures the
# root as an image (measure=image) gets no dm-verity, nor what only it
# needs (dm-bufio, reed_solomon); dm-crypt and dm-mod stay. The control:
# the same list with the default (verity) configuration has all of them.
vmods="dm_mod dm_crypt dm_verity"
mk --modules "$vmods"
[ "$RC" = 0 ] || fail "dm_verity with a verity root: $OUT"
gzip -dc "$WORK/mk.cpio.gz" | cpio -t --quiet > "$WORK/v.t"
for m in dm-mod dm-crypt dm-verity dm-bufio reed_solomon; do
	grep -q "/$m\.ko$" "$WORK/v.t" || fail "$m not in the image of a verity root"
done
{ cat "$WORK/plain.conf"; echo measure=image; } > "$WORK/image.conf"
run "$REPO/initramfs/mkinitramfs" --arch aarch64 --sealinit "$WORK/build/sealinit" \
	--kernel-dir "$KDIR" --config "$WORK/image.conf" --busybox no --out "$WORK/mk.cpio.gz" --modules "$vmods"
[ "$RC" = 0 ] || fail "measure=image: $OUT"
expect_msg "dm_verity left out of /etc/sealinit/modules: the boot config measures the root with measure=image"
gzip -dc "$WORK/mk.cpio.gz" | cpio -t --quiet > "$WORK/v.t"
for m in dm-verity dm-bufio reed_solomon; do
	! grep -q "/$m\.ko$" "$WORK/v.t" || fail "$m in the image of a measure=image root"
done
for m in dm-mod dm-crypt; do grep -q "/$m\.ko$" "$WORK/v.t" || fail "$m left out with measure=image"; done
# Named by no list: refused.
mk --modules dm_mod --extra-modules "$WORK/oot2/optee-rng.ko"
[ "$RC" != 0 ] || fail "an out-of-tree module that no list names went unnoticed"
expect_msg "$WORK/oot2/optee-rng.ko is named by neither --modules nor --late-modules"
# A file whose module is another one.
mkdir -p "$WORK/oot3"
cp "$RNG" "$WORK/oot3/tpm_ftpm_tee.ko"
mk --late-modules tpm_ftpm_tee --extra-modules "$WORK/oot3"
[ "$RC" != 0 ] || fail "optee-rng.ko named tpm_ftpm_tee.ko was taken as tpm_ftpm_tee"
expect_msg "$WORK/oot3/tpm_ftpm_tee.ko is the module \`optee_rng' (modinfo name=), not \`tpm_ftpm_tee'"
# Built for another kernel.
mkdir -p "$WORK/oot4"
aarch64-linux-gnu-objcopy -O binary --only-section=.modinfo "$RNG" "$WORK/mi.bin"
sed -i "s/vermagic=$KVER /vermagic=6.1.0-99-other /" "$WORK/mi.bin"
grep -aq 'vermagic=6.1.0-99-other ' "$WORK/mi.bin" || fail "rewriting vermagic"
aarch64-linux-gnu-objcopy --update-section .modinfo="$WORK/mi.bin" "$RNG" "$WORK/oot4/optee-rng.ko"
mk --late-modules optee_rng --extra-modules "$WORK/oot4"
[ "$RC" != 0 ] || fail "a module built for another kernel went in"
expect_msg "was built for kernel \`6.1.0-99-other', not $KVER"
echo "ok: --extra-modules by path: in the cpio after its depends=; refused: unnamed, misnamed, other kernel"

# --- the TA file ------------------------------------------------------------------
UUID=bc50d971-d4c9-42c4-82cb-343fb7f37896
printf 'root=/dev/vda\ntee_supplicant=/usr/sbin/tee-supplicant\n' >"$WORK/plain.conf"
printf 'TA' >"$WORK/$UUID.ta"
mk --sysroot "$SR" --tee-ta "$WORK/$UUID.ta"
[ "$RC" = 0 ] || fail "a TA file: $OUT"
grep -q "^lib/optee_armtz/$UUID.ta	2	manifest	" "$WORK/mk.list" || fail "the TA is not at lib/optee_armtz/$UUID.ta: $(grep optee_armtz "$WORK/mk.list")"
cp "$WORK/$UUID.ta" "$WORK/ftpm.ta"
mk --sysroot "$SR" --tee-ta "$WORK/ftpm.ta"
[ "$RC" != 0 ] || fail "a TA file not named by its UUID went in"
expect_msg "name the file $UUID.ta"
echo "ok: the TA file at lib/optee_armtz/$UUID.ta; refused under another name"

# --- an L4T-shaped kernel: TEE built in, tpm_ftpm_tee in updates/ -----------------
L=$WORK/l4t/lib/modules/$KVER
mkdir -p "$L/updates"
ln -s "$MODDIR/kernel" "$L/kernel"
cp "$MODDIR/modules.alias" "$L/"
grep -v -e '/drivers/tee/' -e '/hw_random/optee-rng' "$MODDIR/modules.dep" >"$L/modules.dep"
echo "updates/tpm_ftpm_tee.ko:" >>"$L/modules.dep"
{ cat "$MODDIR/modules.builtin"; echo kernel/drivers/tee/tee.ko; echo kernel/drivers/tee/optee/optee.ko; } >"$L/modules.builtin"
cp "$WORK/oot/tpm_ftpm_tee.ko" "$L/updates/"
printf 'root=/dev/vda\ntee_supplicant=/usr/sbin/tee-supplicant\n' >"$WORK/plain.conf"
run "$REPO/initramfs/mkinitramfs" --quiet --arch aarch64 --sealinit "$WORK/build/sealinit" \
	--kernel-dir "$WORK/l4t" --config "$WORK/plain.conf" --busybox no --sysroot "$SR" \
	--modules "$(sed -n 's/^CONFIG_INITRAMFS_MODULES="\(.*\)"$/\1/p' configs/jetson_orin_nano_defconfig)" \
	--late-modules "$(sed -n 's/^CONFIG_INITRAMFS_LATE_MODULES="\(.*\)"$/\1/p' configs/jetson_orin_nano_defconfig)" \
	--out "$WORK/l4t.cpio.gz" --list "$WORK/l4t.list"
[ "$RC" = 0 ] || fail "the Jetson lists against an L4T-shaped tree: $OUT"
! grep -q '/drivers/tee/' "$WORK/l4t.list" || fail "tee/optee shipped though built in: $(grep /drivers/tee/ "$WORK/l4t.list")"
rm -rf "$X" && mkdir -p "$X" && (cd "$X" && gzip -dc "$WORK/l4t.cpio.gz" | cpio -id --quiet etc/sealinit/modules etc/sealinit/modules.late) || fail "unpack"
grep -q '^# built in: tee optee ext4 crc32c_generic$' "$X/etc/sealinit/modules" || fail "tee, optee not noted as built in: $(head -3 "$X/etc/sealinit/modules")"
[ "$(grep -v '^#' "$X/etc/sealinit/modules.late")" = "$M/updates/tpm_ftpm_tee.ko:" ] || fail "late list: $(cat "$X/etc/sealinit/modules.late")"
echo "ok: L4T-shaped tree: tee and optee built in and skipped, tpm_ftpm_tee from updates/, late"
