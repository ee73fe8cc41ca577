#!/bin/bash
# SPDX-License-Identifier: MIT
# dist/buildroot: the sealinit package's own commands, as Buildroot runs
# them. Buildroot cannot build offline here (its toolchains are downloads),
# so this runs what it would run, taken from sealinit.mk by make itself:
# a small makefile defines Buildroot's variables (package/Makefile.in's
# TARGET_CONFIGURE_OPTS list, for an aarch64 glibc toolchain with the
# default options: -O2 -g0 -D_FORTIFY_SOURCE=1), includes sealinit.mk and
# expands $(SEALINIT_CONFIGURE_CMDS), $(SEALINIT_BUILD_CMDS),
# $(SEALINIT_INSTALL_TARGET_CMDS) and $(SEALINIT_INSTALL_IMAGES_CMDS) with
# $(@D) a copy of the checkout (with the .mk's rsync exclusions). The
# toolchain: $(HOST_DIR)/bin/aarch64-buildroot-linux-gnu-* wrappers around
# Debian's aarch64-linux-gnu-* that log their arguments; pkg-config: a
# wrapper on Debian's arm64 multiarch .pc files, as Buildroot's pkgconf
# wrapper points at its staging directory. Then the post-image script
# (board/common/post-image.sh) against the installed TARGET_DIR, whose
# libraries are Debian's arm64 ones copied to Buildroot's /lib and /usr/lib,
# and whose lib/modules is build/kernels/aarch64's (Debian's arm64 kernel).
# Checked:
#   - configure: the defconfig, the fragment and the TPM2/legacy options
#     reach sealinit's Kconfig file in $(@D); a missing fragment fails;
#   - build: a failing TARGET_CC fails it (the command really uses it); the
#     control, the wrapper, builds an arm64 binary, with TARGET_CFLAGS on
#     every compile and the link, no second _FORTIFY_SOURCE, no -Werror
#     (WERROR=0), the pkg-config wrapper run;
#   - install: /usr/sbin/sealinit, mkinitramfs, install-paths and the
#     manifest in TARGET_DIR; the build is not redone by the host's gcc;
#   - post-image: the initramfs's /init is the installed sealinit (AArch64),
#     the manifest's libraries and the closure are there at Buildroot's
#     paths, taken from TARGET_DIR, and the modules from its lib/modules;
#     the target tree gains no multiarch directory. A library missing from
#     TARGET_DIR fails the script, naming it, although the build host has
#     it (mkinitramfs --sysroot-only; the control: the same run with it
#     present passes).
# With BUILDROOT_DIR (a Buildroot tree; nothing is downloaded): its
# utils/check-package on dist/buildroot, `make BR2_EXTERNAL=...
# sealinit_qemu_aarch64_virt_defconfig' resolving with BR2_PACKAGE_SEALINIT
# and its dependencies set, and `make sealinit-show-recursive-depends'.
# Without it, that part is not run, and the last line says so.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS PKG_CONFIG PKG_CONFIG_PATH \
	PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR WERROR DESTDIR PREFIX SBINDIR BUILD KCONFIG_CONFIG

# A missing tool skips, except under CI, where it fails.
need() {
	if [ "${CI:-}" = true ]; then fail "$1"; else skip "$1"; fi
}
command -v aarch64-linux-gnu-gcc >/dev/null ||
	need "no aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu; scripts/deps.sh cross installs it)"
/usr/bin/python3 -c 'import kconfiglib' 2>/dev/null || need "no kconfiglib (python3-kconfiglib)"
for t in readelf cpio pkg-config modinfo; do
	command -v $t >/dev/null || need "no $t (scripts/deps.sh initramfs)"
done
MA_LIB=/usr/lib/aarch64-linux-gnu
[ -f $MA_LIB/pkgconfig/libcryptsetup.pc ] && [ -f $MA_LIB/libmbedcrypto.a ] ||
	need "no arm64 -dev packages in $MA_LIB (scripts/deps.sh cross)"
KDIR=$REPO/build/kernels/aarch64
[ -d "$KDIR/lib/modules" ] || need "no $KDIR/lib/modules (scripts/fetch-kernel.sh aarch64)"

EXT=$REPO/dist/buildroot
HOST_DIR=$WORK/host BUILD_DIR=$WORK/build TARGET_DIR=$WORK/target BINARIES_DIR=$WORK/images
D=$BUILD_DIR/sealinit-0.1
mkdir -p "$HOST_DIR/bin" "$BUILD_DIR" "$TARGET_DIR" "$BINARIES_DIR"

# --- the toolchain and pkg-config stand-ins ----------------------------------
CCLOG=$WORK/cc.log PCLOG=$WORK/pc.log
: > "$CCLOG"; : > "$PCLOG"
for t in gcc cpp g++ ar as ld nm ranlib readelf strip objcopy objdump; do
	printf '#!/bin/sh\n' > "$HOST_DIR/bin/aarch64-buildroot-linux-gnu-$t"
	[ "$t" != gcc ] || printf '%s\n' \
		"[ ! -e $WORK/cc-fails ] || { echo 'aarch64-buildroot-linux-gnu-gcc: failing on purpose' >&2; exit 1; }" \
		"printf '%s\\n' \"\$*\" >> $CCLOG" >> "$HOST_DIR/bin/aarch64-buildroot-linux-gnu-$t"
	printf 'exec aarch64-linux-gnu-%s "$@"\n' "$t" >> "$HOST_DIR/bin/aarch64-buildroot-linux-gnu-$t"
	chmod +x "$HOST_DIR/bin/aarch64-buildroot-linux-gnu-$t"
done
cat > "$HOST_DIR/bin/pkg-config" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >> $PCLOG
PKG_CONFIG_LIBDIR=$MA_LIB/pkgconfig:/usr/share/pkgconfig exec /usr/bin/pkg-config "\$@"
EOF
chmod +x "$HOST_DIR/bin/pkg-config"

# --- Buildroot's variables, and sealinit.mk ------------------------------------
FRAG=$WORK/fragment
printf 'CONFIG_LOG_LEVEL=3\n' > "$FRAG"
cat > "$WORK/br.mk" <<EOF
# package/Makefile.in and support/misc/utils.mk, for an aarch64 glibc
# toolchain with Buildroot's default options.
qstrip = \$(strip \$(subst ",,\$(1)))
SED := sed -i -e
INSTALL := /usr/bin/install
BR2_EXTERNAL_SEALINIT_PATH := $EXT
BR2_PACKAGE_SEALINIT_DEFCONFIG ?= "qemu_aarch64"
BR2_PACKAGE_SEALINIT_CONFIG_FRAGMENT_FILES ?= "$FRAG"
BR2_PACKAGE_SEALINIT_TPM2 ?= y
BR2_PACKAGE_SEALINIT_LEGACY_NET ?= y
HOST_DIR := $HOST_DIR
BUILD_DIR := $BUILD_DIR
TARGET_DIR := $TARGET_DIR
BINARIES_DIR := $BINARIES_DIR
GNU_TARGET_NAME := aarch64-buildroot-linux-gnu
STAGING_DIR = \$(HOST_DIR)/\$(GNU_TARGET_NAME)/sysroot
TARGET_CROSS = \$(HOST_DIR)/bin/\$(GNU_TARGET_NAME)-
TARGET_AR       = \$(TARGET_CROSS)ar
TARGET_AS       = \$(TARGET_CROSS)as
TARGET_CC       = \$(TARGET_CROSS)gcc
TARGET_CPP      = \$(TARGET_CROSS)cpp
TARGET_CXX      = \$(TARGET_CROSS)g++
TARGET_FC       = \$(TARGET_CROSS)gfortran
TARGET_LD       = \$(TARGET_CROSS)ld
TARGET_NM       = \$(TARGET_CROSS)nm
TARGET_RANLIB   = \$(TARGET_CROSS)ranlib
TARGET_READELF  = \$(TARGET_CROSS)readelf
TARGET_OBJCOPY  = \$(TARGET_CROSS)objcopy
TARGET_OBJDUMP  = \$(TARGET_CROSS)objdump
TARGET_STRIP    = \$(TARGET_CROSS)strip
HOSTAR := ar
HOSTAS := as
HOSTCC := gcc
HOSTCXX := g++
HOSTLD := ld
HOST_CPPFLAGS = -I\$(HOST_DIR)/include
HOST_CFLAGS = -O2 \$(HOST_CPPFLAGS)
HOST_CXXFLAGS = \$(HOST_CFLAGS)
HOST_LDFLAGS = -L\$(HOST_DIR)/lib -Wl,-rpath,\$(HOST_DIR)/lib
TARGET_CPPFLAGS = -D_LARGEFILE_SOURCE -D_LARGEFILE64_SOURCE -D_FILE_OFFSET_BITS=64
TARGET_OPTIMIZATION = -O2
TARGET_DEBUGGING = -g0
TARGET_HARDENED = -D_FORTIFY_SOURCE=1
TARGET_CFLAGS = \$(TARGET_CPPFLAGS) \$(TARGET_ABI) \$(TARGET_OPTIMIZATION) \$(TARGET_DEBUGGING) \$(TARGET_HARDENED)
TARGET_CXXFLAGS = \$(TARGET_CFLAGS)
TARGET_FCFLAGS = \$(TARGET_ABI) \$(TARGET_OPTIMIZATION) \$(TARGET_DEBUGGING)
TARGET_LDFLAGS =
PKG_CONFIG_HOST_BINARY = \$(HOST_DIR)/bin/pkg-config
PERL := perl
BR_PATH = "\$(HOST_DIR)/bin:\$(HOST_DIR)/sbin:\$(PATH)"
TARGET_MAKE_ENV = \\
	GIT_DIR=. \\
	PATH=\$(BR_PATH)
TARGET_CONFIGURE_OPTS = \\
	\$(TARGET_MAKE_ENV) \\
	AR="\$(TARGET_AR)" \\
	AS="\$(TARGET_AS)" \\
	LD="\$(TARGET_LD)" \\
	NM="\$(TARGET_NM)" \\
	CC="\$(TARGET_CC)" \\
	GCC="\$(TARGET_CC)" \\
	CPP="\$(TARGET_CPP)" \\
	CXX="\$(TARGET_CXX)" \\
	FC="\$(TARGET_FC)" \\
	F77="\$(TARGET_FC)" \\
	RANLIB="\$(TARGET_RANLIB)" \\
	READELF="\$(TARGET_READELF)" \\
	STRIP="\$(TARGET_STRIP)" \\
	OBJCOPY="\$(TARGET_OBJCOPY)" \\
	OBJDUMP="\$(TARGET_OBJDUMP)" \\
	AR_FOR_BUILD="\$(HOSTAR)" \\
	AS_FOR_BUILD="\$(HOSTAS)" \\
	CC_FOR_BUILD="\$(HOSTCC)" \\
	GCC_FOR_BUILD="\$(HOSTCC)" \\
	CXX_FOR_BUILD="\$(HOSTCXX)" \\
	LD_FOR_BUILD="\$(HOSTLD)" \\
	CPPFLAGS_FOR_BUILD="\$(HOST_CPPFLAGS)" \\
	CFLAGS_FOR_BUILD="\$(HOST_CFLAGS)" \\
	CXXFLAGS_FOR_BUILD="\$(HOST_CXXFLAGS)" \\
	LDFLAGS_FOR_BUILD="\$(HOST_LDFLAGS)" \\
	FCFLAGS_FOR_BUILD="\$(HOST_FCFLAGS)" \\
	DEFAULT_ASSEMBLER="\$(TARGET_AS)" \\
	DEFAULT_LINKER="\$(TARGET_LD)" \\
	CPPFLAGS="\$(TARGET_CPPFLAGS)" \\
	CFLAGS="\$(TARGET_CFLAGS)" \\
	CXXFLAGS="\$(TARGET_CXXFLAGS)" \\
	LDFLAGS="\$(TARGET_LDFLAGS)" \\
	FCFLAGS="\$(TARGET_FCFLAGS)" \\
	FFLAGS="\$(TARGET_FCFLAGS)" \\
	PKG_CONFIG="\$(PKG_CONFIG_HOST_BINARY)" \\
	STAGING_DIR="\$(STAGING_DIR)" \\
	INTLTOOL_PERL=\$(PERL)
generic-package =
include \$(BR2_EXTERNAL_SEALINIT_PATH)/package/sealinit/sealinit.mk

# Buildroot's stamp files are in \$(@D), so \$(@D) is the package's directory.
D := \$(BUILD_DIR)/sealinit-\$(SEALINIT_VERSION)
.PHONY: configure build install-target install-images
configure: ; +\$(MAKE) -f \$(firstword \$(MAKEFILE_LIST)) \$(D)/.stamp_configured
build: ; +\$(MAKE) -f \$(firstword \$(MAKEFILE_LIST)) \$(D)/.stamp_built
install-target: ; +\$(MAKE) -f \$(firstword \$(MAKEFILE_LIST)) \$(D)/.stamp_target_installed
install-images: ; +\$(MAKE) -f \$(firstword \$(MAKEFILE_LIST)) \$(D)/.stamp_images_installed
\$(D)/.stamp_configured:
	\$(SEALINIT_CONFIGURE_CMDS)
\$(D)/.stamp_built:
	\$(SEALINIT_BUILD_CMDS)
\$(D)/.stamp_target_installed:
	\$(SEALINIT_INSTALL_TARGET_CMDS)
\$(D)/.stamp_images_installed:
	\$(SEALINIT_INSTALL_IMAGES_CMDS)
print-%: ; @echo '\$(\$*)'
EOF
# br_make ARGS: the makefile above, as Buildroot's make runs it (-j2).
br_make() { make --no-print-directory -j2 -f "$WORK/br.mk" "$@"; }

# The local site's copy, with the .mk's exclusions (Buildroot uses rsync;
# this is tar with the same patterns, anchored at the top as rsync's /X).
EXCL=$(br_make print-SEALINIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS) || fail "print the exclusions"
SITE=$(br_make print-SEALINIT_SITE) || fail "print SEALINIT_SITE"
[ "$SITE" = "$REPO" ] || fail "SEALINIT_SITE is \`$SITE', expected the checkout $REPO"
[ "$(br_make print-SEALINIT_SITE_METHOD)" = local ] || fail "SEALINIT_SITE_METHOD is not local"
tarx=(--exclude=.git)
set -- $EXCL
while [ $# -gt 0 ]; do
	[ "$1" = --exclude ] || fail "exclusion \`$1' in sealinit.mk: expected --exclude /PATH"
	tarx+=("--exclude=./${2#/}"); shift 2
done
mkdir -p "$D"
tar -C "$REPO" "${tarx[@]}" -cf - . | tar -C "$D" -xf - || fail "copy the checkout to $D"
[ ! -e "$D/build" ] && [ ! -e "$D/.config" ] || fail "build/ or .config copied to $D despite the exclusions"

# --- configure ----------------------------------------------------------------
KC=$D/sealinit.config
BR2_PACKAGE_SEALINIT_CONFIG_FRAGMENT_FILES="$WORK/no-such-fragment" run br_make configure
[ "$RC" != 0 ] || fail "configure with a missing fragment passed: $OUT"
expect_msg "no-such-fragment"
rm -f "$D/.stamp_configured" "$KC"
BR2_PACKAGE_SEALINIT_LEGACY_NET=n run br_make configure
[ "$RC" = 0 ] || fail "configure: $OUT"
grep -q '^# CONFIG_LEGACY_NET is not set$' "$KC" || fail "legacy fetch off does not reach $KC: $(grep LEGACY_NET "$KC")"
rm -f "$D/.stamp_configured"
run br_make configure
[ "$RC" = 0 ] || fail "configure: $OUT"
for l in 'CONFIG_TPM2=y' 'CONFIG_LEGACY_NET=y' 'CONFIG_LOG_LEVEL=3' \
	'CONFIG_INITRAMFS_MODULES="tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb aes_ce_blk"'; do
	grep -qx "$l" "$KC" || fail "$KC lacks \`$l' (the defconfig, the fragment, the options)"
done
[ ! -e "$D/.config" ] || fail "configure wrote $D/.config, not KCONFIG_CONFIG"

# --- build: a failing TARGET_CC fails it; the wrapper builds it ---------------
touch "$WORK/cc-fails"
run br_make build
rm -f "$WORK/cc-fails"
[ "$RC" != 0 ] || fail "the build passed with a TARGET_CC that fails: $OUT"
expect_msg "failing on purpose"
rm -rf "$D/br-build"
run br_make build
[ "$RC" = 0 ] || fail "build: $(echo "$OUT" | tail -20)"
BIN=$D/br-build/sealinit
readelf -hW "$BIN" | grep -q 'Machine: *AArch64' || fail "$BIN is not an AArch64 ELF"
ncc=$(grep -c . "$CCLOG")
[ "$ncc" -gt 20 ] || fail "the TARGET_CC wrapper ran $ncc times"
# Every compile and link (not the Makefile's -dumpmachine probes).
bad=$(grep -v -- '^-dumpmachine$' "$CCLOG" | grep -v -- '-D_LARGEFILE64_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -g0 -D_FORTIFY_SOURCE=1' | head -3)
[ -z "$bad" ] || fail "TARGET_CFLAGS missing from: $bad"
! grep -q -- '-D_FORTIFY_SOURCE=2' "$CCLOG" || fail "a second _FORTIFY_SOURCE beside TARGET_CFLAGS' =1"
! grep -q -- '-Werror' "$CCLOG" || fail "-Werror despite WERROR=0"
grep -q -- "-pie .*-o $D/br-build/sealinit " "$CCLOG" || fail "no link of br-build/sealinit through TARGET_CC, with TARGET_CFLAGS and -pie"
grep -q -- '--cflags.*libcryptsetup' "$PCLOG" || fail "the pkg-config wrapper (PKG_CONFIG_HOST_BINARY) did not run"

# --- install into TARGET_DIR ---------------------------------------------------
: > "$CCLOG"
run br_make install-target
[ "$RC" = 0 ] || fail "install: $OUT"
! grep -qv -- "^-dumpmachine$" "$CCLOG" || fail "install recompiled: $(grep -v -- "^-dumpmachine$" "$CCLOG" | head -2)"
for f in usr/sbin/sealinit usr/libexec/sealinit/mkinitramfs usr/libexec/sealinit/install-paths \
	usr/share/sealinit/initramfs/manifest; do
	[ -f "$TARGET_DIR/$f" ] || fail "install: no $TARGET_DIR/$f"
done
cmp -s "$BIN" "$TARGET_DIR/usr/sbin/sealinit" || fail "the installed sealinit is not the one built"
grep -qx "SEALINIT_DATADIR='/usr/share/sealinit/initramfs'" "$TARGET_DIR/usr/libexec/sealinit/install-paths" ||
	fail "install-paths: $(cat "$TARGET_DIR/usr/libexec/sealinit/install-paths")"
run br_make install-images
[ "$RC" = 0 ] || fail "install images: $OUT"
cmp -s "$D/board/qemu/sealinit.conf" "$BINARIES_DIR/sealinit/sealinit.conf" ||
	fail "images: sealinit.conf is not the defconfig's CONFIG_BOOT_CONFIG"
cmp -s "$KC" "$BINARIES_DIR/sealinit/sealinit.config" || fail "images: sealinit.config is not $KC"

# --- the target's libraries and modules -------------------------------------------
# Debian's arm64 libraries at Buildroot's paths: the loader in /lib, the rest
# in /usr/lib. lib/modules/<version> is the cached arm64 kernel's.
mkdir -p "$TARGET_DIR/lib/modules" "$TARGET_DIR/usr/lib"
cp -a "$MA_LIB/." "$TARGET_DIR/usr/lib/" || fail "copy the arm64 libraries"
cp -L /lib/ld-linux-aarch64.so.1 "$TARGET_DIR/lib/" || fail "copy the arm64 loader"
KVER=$(cat "$KDIR/kver" 2>/dev/null || ls "$KDIR/lib/modules" | head -n1)
ln -s "$KDIR/lib/modules/$KVER" "$TARGET_DIR/lib/modules/$KVER"

post_image() {
	run env -u SEALINIT_DATADIR TARGET_DIR="$TARGET_DIR" "$EXT/board/common/post-image.sh" "$BINARIES_DIR" "$EXT/configs/sealinit_qemu_aarch64_virt_defconfig"
}

# Attack: a library the target lacks (json-c), which the build host has in
# its arm64 multiarch directory. It must not come from there.
JSONC=$(cd "$TARGET_DIR/usr/lib" && ls libjson-c.so.* | head -n1)
[ -n "$JSONC" ] && [ -e "$MA_LIB/$JSONC" ] || fail "no libjson-c.so.N in $MA_LIB"
mkdir -p "$WORK/aside"
mv "$TARGET_DIR/usr/lib"/libjson-c.so.* "$WORK/aside/"
post_image
[ "$RC" != 0 ] || fail "post-image passed with libjson-c missing from TARGET_DIR: $OUT"
expect_msg "libjson-c.so"
expect_msg "not found in --sysroot $(cd "$TARGET_DIR" && pwd)"
[ ! -e "$BINARIES_DIR/sealinit-initramfs.cpio.gz" ] || fail "a failed post-image left its initramfs"
mv "$WORK/aside"/libjson-c.so.* "$TARGET_DIR/usr/lib/"

# Control: the same run with the library back.
post_image
[ "$RC" = 0 ] || fail "post-image: $OUT"
IMG=$BINARIES_DIR/sealinit-initramfs.cpio.gz LIST=$BINARIES_DIR/sealinit-initramfs.list
[ -f "$IMG" ] && [ -f "$LIST" ] || fail "post-image made no $IMG and list"
for l in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
	[ ! -e "$TARGET_DIR/$l" ] && [ ! -L "$TARGET_DIR/$l" ] || fail "post-image made $TARGET_DIR/$l"
done
X=$WORK/x
mkdir -p "$X"
(cd "$X" && gzip -dc "$IMG" | cpio -id --quiet) || fail "unpack $IMG"
[ -f "$X/init" ] || fail "no /init in the image"
readelf -hW "$X/init" | grep -q 'Machine: *AArch64' || fail "/init is not an AArch64 ELF"
cmp -s "$X/init" "$TARGET_DIR/usr/sbin/sealinit" || fail "/init is not the installed sealinit"
# The manifest's dlopen'd libraries (legacy on: libcurl too), and the loader.
for so in libtss2-tcti-device.so.0 libgcc_s.so.1 libcurl.so.4 libjson-c.so.5 libcryptsetup.so.12; do
	[ -e "$X/usr/lib/$so" ] || [ -e "$X/lib/$so" ] || fail "no $so in /lib or /usr/lib of the image: $(grep -e "${so%%.so*}" "$LIST")"
done
[ -e "$X/lib/ld-linux-aarch64.so.1" ] || fail "no loader /lib/ld-linux-aarch64.so.1 in the image"
[ ! -e "$X/usr/lib/aarch64-linux-gnu" ] && [ ! -e "$X/lib/aarch64-linux-gnu" ] ||
	fail "multiarch directories in the image: Buildroot's loader does not search them"
awk -F'\t' -v t="$TARGET_DIR/" '$1 ~ /^usr\/lib\/lib/ && $4 ~ /^\// && index($4, t) != 1 { bad = bad " " $1 } END { if (bad) { print bad; exit 1 } }' "$LIST" >/dev/null ||
	fail "libraries not from TARGET_DIR in $LIST"
find "$X/lib/modules/$KVER" -name 'dm-crypt.ko' | grep -q . || fail "no dm-crypt.ko from $TARGET_DIR/lib/modules/$KVER"
cmp -s "$X/etc/sealinit.conf" "$BINARIES_DIR/sealinit/sealinit.conf" || fail "/etc/sealinit.conf is not the boot config"
echo "post-image: $(stat -c %s "$IMG") bytes, $(grep -vc '^#' "$LIST") entries"

# --- a Buildroot tree, when given -------------------------------------------------
if [ -z "${BUILDROOT_DIR:-}" ]; then
	echo "Buildroot tree checks: not run (set BUILDROOT_DIR to a Buildroot tree)"
	exit 0
fi
[ -f "$BUILDROOT_DIR/Makefile" ] && [ -x "$BUILDROOT_DIR/utils/check-package" ] ||
	fail "BUILDROOT_DIR=$BUILDROOT_DIR is not a Buildroot tree"
BRV=$(make -s -C "$BUILDROOT_DIR" --no-print-directory print-version 2>/dev/null)
# check-package's own needs (Debian's python3, whatever python3 is first).
/usr/bin/python3 -c 'import magic, flake8' 2>/dev/null && command -v shellcheck >/dev/null ||
	need "check-package needs python3-magic, python3-flake8 and shellcheck"
(cd "$EXT" && /usr/bin/python3 "$BUILDROOT_DIR/utils/check-package" -b external.desc Config.in external.mk \
	package/sealinit/* board/common/post-image.sh board/qemu-aarch64-virt/* configs/*) > "$WORK/check-package.log" 2>&1 ||
	fail "check-package: $(cat "$WORK/check-package.log")"
grep -qx '0 warnings generated' "$WORK/check-package.log" || fail "check-package: $(cat "$WORK/check-package.log")"
O=$WORK/br-out
run make -C "$BUILDROOT_DIR" O="$O" BR2_EXTERNAL="$EXT" sealinit_qemu_aarch64_virt_defconfig
[ "$RC" = 0 ] || fail "defconfig: $OUT"
for l in BR2_PACKAGE_SEALINIT=y BR2_PACKAGE_SEALINIT_TPM2=y BR2_PACKAGE_TPM2_TSS=y BR2_PACKAGE_CRYPTSETUP=y \
	BR2_PACKAGE_JSON_C=y BR2_PACKAGE_MBEDTLS=y BR2_PACKAGE_UTIL_LINUX_LIBBLKID=y \
	'BR2_PACKAGE_SEALINIT_DEFCONFIG="qemu_aarch64"' BR2_SHARED_STATIC_LIBS=y; do
	grep -qx "$l" "$O/.config" || fail "the defconfig did not resolve to $l"
done
! grep -q '^BR2_PACKAGE_SEALINIT_LEGACY_NET=y' "$O/.config" || fail "legacy fetch on by default"
# Shared libraries only (Buildroot's default, no libmbedcrypto.a): sealinit
# stays selected and links mbedcrypto dynamically; the control is the
# defconfig's shared+static build, which links it statically.
sed 's/^BR2_SHARED_STATIC_LIBS=y/BR2_SHARED_LIBS=y/' "$EXT/configs/sealinit_qemu_aarch64_virt_defconfig" > "$WORK/shared_defconfig"
run make -C "$BUILDROOT_DIR" O="$WORK/br-out2" BR2_EXTERNAL="$EXT" defconfig BR2_DEFCONFIG="$WORK/shared_defconfig"
[ "$RC" = 0 ] || fail "defconfig (shared only): $OUT"
grep -qx 'BR2_SHARED_LIBS=y' "$WORK/br-out2/.config" && grep -qx 'BR2_aarch64=y' "$WORK/br-out2/.config" ||
	fail "the shared-only defconfig did not load"
grep -q '^BR2_PACKAGE_SEALINIT=y' "$WORK/br-out2/.config" || fail "sealinit dropped with shared libraries only"
run make -s -C "$BUILDROOT_DIR" O="$WORK/br-out2" printvars VARS=SEALINIT_MAKE_OPTS
grep -q 'MBEDCRYPTO_LIBS=-lmbedcrypto' <<<"$OUT" || fail "shared only: SEALINIT_MAKE_OPTS without MBEDCRYPTO_LIBS=-lmbedcrypto: $OUT"
run make -s -C "$BUILDROOT_DIR" O="$O" printvars VARS=SEALINIT_MAKE_OPTS
grep -q 'MBEDCRYPTO_LIBS' <<<"$OUT" && fail "shared+static: SEALINIT_MAKE_OPTS links mbedcrypto dynamically: $OUT"
run make -C "$BUILDROOT_DIR" O="$O" sealinit-show-recursive-depends
[ "$RC" = 0 ] || fail "sealinit-show-recursive-depends: $OUT"
for p in tpm2-tss cryptsetup json-c mbedtls util-linux host-pkgconf; do
	grep -qw -- "$p" <<<"$OUT" || fail "sealinit-show-recursive-depends lacks $p: $OUT"
done
echo "Buildroot $BRV: check-package clean, defconfig resolves, recursive depends: $(echo $OUT | wc -w) packages"
