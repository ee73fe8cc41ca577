#!/bin/bash
# SPDX-License-Identifier: MIT
# dist/yocto/meta-sealinit without BitBake (dist/yocto/bbcheck.py reads
# BitBake's syntax), each check beside a broken copy of the layer that it
# must refuse, by name:
#   - every .conf/.bb/.bbappend/.bbclass line parses as BitBake would assign
#     it (a bare `BBFILES += ${LAYERDIR}/x' is refused);
#   - layer.conf: one collection, its pattern, priority, LAYERDEPENDS without
#     tegra, LAYERSERIES_COMPAT naming real releases only (a `scarthgapp' is
#     refused, as is a missing LAYERSERIES_COMPAT), every BBFILES_DYNAMIC
#     entry matching files, every recipe reached;
#   - SRC_URI: every file:// exists (a missing patch is refused), the
#     default git:// source is this checkout (a copy of the layer outside
#     it is refused, and passes once SEALINIT_SRCDIR names it); LIC_FILES_CHKSUM's md5 holds;
#     no PACKAGECONFIG flag has more than BitBake's 6 fields;
#   - DEPENDS cover what the Makefile links (read from its PKGS, PKGS_TPM2,
#     the legacy libcurl and -l:lib*.a, so that a library added there and
#     not here fails: a Makefile copy with libseccomp is refused), and
#     RDEPENDS the dlopen()ed libraries of initramfs/manifest (libgcc gone
#     is refused);
#   - the recipe's do_configure, do_compile and do_install, expanded as
#     BitBake expands them and run as oe_runmake runs them, for a Tegra
#     machine (the dynamic-layers bbappend: the Jetson defconfig) with
#     CC=aarch64-linux-gnu-gcc and Debian's arm64 .pc files standing in for
#     the staging sysroot: the arm64 binary, /init, the boot config and the
#     module lists land in a fake ${D}, and every installed file is in some
#     package's FILES (a FILES without the manifest is refused, naming it);
#     PACKAGECONFIG without tpm2/legacy turns the Kconfig symbols off, and
#     a SEALINIT_DEFCONFIG of the user's wins over the machine's default;
#   - the image class's module ordering (its IMAGE_PREPROCESS_COMMAND), run
#     on a fake rootfs: dependencies first, the late list apart, a built-in
#     module accepted, a module the kernel lacks refused by name.
# With BITBAKE_DIR (a bitbake checkout) and OE_CORE_DIR (openembedded-core)
# it also runs `bitbake -p' and yocto-check-layer; otherwise it prints
# "not run" for them. A missing tool skips, and fails under CI=true.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS PKG_CONFIG PKG_CONFIG_PATH \
	PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR WERROR DESTDIR PREFIX SBINDIR KCONFIG_CONFIG

missing() {
	if [ "${CI:-}" = true ]; then fail "$* (CI=true: a missing dependency fails)"; fi
	skip "$*"
}
command -v aarch64-linux-gnu-gcc >/dev/null ||
	missing "no aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu; scripts/deps.sh cross)"
/usr/bin/python3 -c 'import kconfiglib, setconfig' 2>/dev/null || missing "no kconfiglib (python3-kconfiglib)"
[ -f /usr/lib/aarch64-linux-gnu/pkgconfig/libcryptsetup.pc ] ||
	missing "no arm64 -dev packages (scripts/deps.sh cross)"

LAYER=$REPO/dist/yocto/meta-sealinit
CHECK=$REPO/dist/yocto/bbcheck.py
TEGRA=tegra:tegra234:aarch64:arm64

# check_layer DIR [ARGS]: bbcheck's static checks, for a generic and a Tegra machine.
check_layer() {
	local dir=$1
	shift
	OUT=$(python3 "$CHECK" "$dir" "$REPO" check "$@" 2>&1 &&
		python3 "$CHECK" "$dir" "$REPO" check --machine-overrides "$TEGRA" "$@" 2>&1)
	RC=$?
}

check_layer "$LAYER"
[ "$RC" = 0 ] || fail "the layer fails its static checks: $OUT"
echo "ok: static checks"
# A copy outside the checkout points its default git:// source nowhere:
# refused, until SEALINIT_SRCDIR names the checkout (as local.conf would);
# that copy, unedited, is the control for the broken ones below.
mkdir -p "$WORK/copy" && cp -a "$LAYER" "$WORK/copy/"
check_layer "$WORK/copy/meta-sealinit"
[ "$RC" != 0 ] || fail "a copy of the layer outside the checkout accepted its git:// source"
grep -qF "is not a git checkout" <<<"$OUT" || fail "the copy outside the checkout refused, but not for its source: $OUT"
echo "ok: a copy outside the checkout refused: $(grep -F 'is not a git checkout' <<<"$OUT" | head -1 | sed "s|$WORK/||g")"
check_layer "$WORK/copy/meta-sealinit" --set "SEALINIT_SRCDIR=$REPO"
[ "$RC" = 0 ] || fail "control: the unedited copy with SEALINIT_SRCDIR=$REPO fails: $OUT"
echo "ok: control: the unedited copy with SEALINIT_SRCDIR set passes"

# broken NAME 'sed script' FILE MESSAGE: a copy of the layer with FILE
# edited must be refused with MESSAGE.
broken() {
	local name=$1 script=$2 file=$3 msg=$4 dir=$WORK/broken-$1/meta-sealinit
	mkdir -p "${dir%/*}"
	cp -a "$LAYER" "$dir"
	sed -i "$script" "$dir/$file"
	cmp -s "$dir/$file" "$LAYER/$file" && fail "broken-$name: the edit changed nothing in $file"
	check_layer "$dir" --set "SEALINIT_SRCDIR=$REPO"
	[ "$RC" != 0 ] || fail "broken-$name: accepted"
	grep -qF -- "$msg" <<<"$OUT" || fail "broken-$name: refused, but not with \`$msg': $OUT"
	echo "ok: broken-$name refused: $(grep -F -- "$msg" <<<"$OUT" | head -1 | sed "s|$WORK/||g")"
}
broken syntax '$a BBFILES += ${LAYERDIR}/extra/*.bb' conf/layer.conf "not BitBake syntax: BBFILES += \${LAYERDIR}/extra/*.bb"
broken quotes 's/^BBFILE_PRIORITY_sealinit = "7"/BBFILE_PRIORITY_sealinit = "7/' conf/layer.conf "not BitBake syntax: BBFILE_PRIORITY_sealinit = \"7"
broken release 's/"scarthgap /"scarthgapp /' conf/layer.conf 'names "scarthgapp", not a Yocto release'
broken no-compat '/^LAYERSERIES_COMPAT_sealinit/d' conf/layer.conf "no LAYERSERIES_COMPAT_sealinit"
broken tegra-dep 's/^LAYERDEPENDS_sealinit = "core /LAYERDEPENDS_sealinit = "core tegra /' conf/layer.conf "LAYERDEPENDS_sealinit names tegra"
broken dynamic 's|dynamic-layers/tegra/recipes-|dynamic-layers/tegra/recipe-|' conf/layer.conf "matches no file"
broken file-uri '/^SRC_URI = /a SRC_URI += "file://0001-missing.patch"' recipes-security/sealinit/sealinit_git.bb "SRC_URI file://0001-missing.patch: no such file"
broken not-repo "s|^SEALINIT_SRCDIR ?= .*|SEALINIT_SRCDIR = \"$WORK\"|" recipes-security/sealinit/sealinit_git.bb "is not a git checkout"
broken license 's/md5=b/md5=c/' recipes-security/sealinit/sealinit_git.bb "LIC_FILES_CHKSUM"
broken pkgconfig-fields 's/^PACKAGECONFIG\[tpm2\] = ",,tpm2-tss,libtss2-tcti-device"/PACKAGECONFIG[tpm2] = ",,tpm2-tss,libtss2-tcti-device,,,x"/' recipes-security/sealinit/sealinit_git.bb "PACKAGECONFIG[tpm2]"
broken depends 's/^DEPENDS = "cryptsetup json-c /DEPENDS = "cryptsetup /' recipes-security/sealinit/sealinit_git.bb "the Makefile links json-c (recipe json-c), but DEPENDS lacks json-c"
broken tpm2-depends 's/^PACKAGECONFIG\[tpm2\] = ",,tpm2-tss,/PACKAGECONFIG[tpm2] = ",,,/' recipes-security/sealinit/sealinit_git.bb "the Makefile links tss2-esys (recipe tpm2-tss), but PACKAGECONFIG[tpm2]"
broken rdepends 's/^RDEPENDS:${PN} += "libgcc"/RDEPENDS:${PN} += ""/' recipes-security/sealinit/sealinit_git.bb "libgcc_s.so.1 is dlopen()ed (sealinit), but no RDEPENDS names libgcc"
broken tcti-rdepends 's/,tpm2-tss,libtss2-tcti-device"/,tpm2-tss,"/' recipes-security/sealinit/sealinit_git.bb "libtss2-tcti-device.so.0 is dlopen()ed"
# Drift: the Makefile links a library the recipe does not know of. A copy
# of the checkout's Makefile and manifest with libseccomp added to PKGS.
mkdir -p "$WORK/drift/initramfs"
sed 's/^PKGS      := libcryptsetup json-c blkid/& libseccomp/' Makefile > "$WORK/drift/Makefile"
cmp -s Makefile "$WORK/drift/Makefile" && fail "drift: the Makefile's PKGS line moved; update this test"
cp initramfs/manifest "$WORK/drift/initramfs/"
OUT=$(python3 "$CHECK" "$LAYER" "$WORK/drift" check 2>&1) && fail "drift: a Makefile linking libseccomp accepted"
grep -qF "the Makefile links libseccomp (recipe libseccomp), but DEPENDS lacks libseccomp" <<<"$OUT" ||
	fail "drift: refused, but not for libseccomp: $OUT"
echo "ok: a Makefile linking libseccomp refused (DEPENDS lacks libseccomp)"

# --- the recipe's tasks, as BitBake would run them ---------------------------
# S: a copy of the checkout's tracked files (what the git fetch unpacks).
S=$WORK/unpack/sealinit-src D=$WORK/image
mkdir -p "$S" "$D"
git ls-files -z | xargs -0 cp -a --parents -t "$S" || fail "copy the checkout into $S"
# recipe_shell [--set VAR=VAL]... TASK...: the tasks, expanded, with the stand-ins.
recipe_shell() {
	python3 "$CHECK" "$LAYER" "$REPO" shell recipes-security/sealinit/sealinit_git.bb \
		--machine-overrides "$TEGRA" --set CC=aarch64-linux-gnu-gcc \
		--set 'CFLAGS=-O2 -pipe -g -feliminate-unused-debug-types' --set CPPFLAGS= \
		--set 'LDFLAGS=-Wl,-O1 -Wl,--hash-style=gnu -Wl,--as-needed' \
		--set PYTHON=/usr/bin/python3 --set "D=$D" --set "UNPACKDIR=$WORK/unpack" "$@"
}
recipe_shell do_configure do_compile do_install > "$WORK/tasks.sh" || fail "expand the tasks: $(cat "$WORK/tasks.sh")"
# The staging sysroot's pkg-config: Debian's arm64 multiarch .pc files.
( export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
  sh "$WORK/tasks.sh" ) > "$WORK/tasks.log" 2>&1 || fail "do_configure/do_compile/do_install: $(tail -20 "$WORK/tasks.log")"
grep -q '^CONFIG_LOCKDOWN=y$' "$S/.config" && grep -q '^CONFIG_INITRAMFS_LATE_MODULES="tpm_ftpm_tee"$' "$S/.config" ||
	fail "do_configure did not take jetson_orin_nano_defconfig (the tegra bbappend): $(cat "$S/.config")"
grep -q -- '-feliminate-unused-debug-types' "$WORK/tasks.log" || fail "the recipe's CFLAGS reached no compile"
file -L "$D/usr/sbin/sealinit" | grep -q 'ARM aarch64' || fail "\${D}/usr/sbin/sealinit is not arm64: $(file -L "$D/usr/sbin/sealinit")"
[ "$(readlink "$D/init")" = /usr/sbin/sealinit ] || fail "\${D}/init is not a link to /usr/sbin/sealinit: $(ls -l "$D/init")"
cmp -s "$D/etc/sealinit.conf" board/jetson-orin-nano/sealinit.conf || fail "\${D}/etc/sealinit.conf is not the Jetson defconfig's boot config"
[ "$(cat "$D/usr/share/sealinit/modules.late.names")" = tpm_ftpm_tee ] || fail "modules.late.names: $(cat "$D/usr/share/sealinit/modules.late.names")"
grep -qx optee "$D/usr/share/sealinit/modules.names" || fail "modules.names lacks optee: $(cat "$D/usr/share/sealinit/modules.names")"
[ -x "$D/usr/libexec/sealinit/mkinitramfs" ] && [ -f "$D/usr/share/sealinit/initramfs/manifest" ] ||
	fail "make install's builder and manifest are missing from \${D}: $(cd "$D" && find . | sort)"
grep -qx "SEALINIT_DATADIR='/usr/share/sealinit/initramfs'" "$D/usr/libexec/sealinit/install-paths" ||
	fail "install-paths does not name \${datadir}'s manifest: $(cat "$D/usr/libexec/sealinit/install-paths")"
echo "ok: do_configure, do_compile, do_install (arm64, Jetson defconfig): $(cd "$D" && find . ! -type d | wc -l) files in \${D}"

OUT=$(python3 "$CHECK" "$LAYER" "$REPO" files recipes-security/sealinit/sealinit_git.bb "$D" --machine-overrides "$TEGRA" 2>&1) ||
	fail "installed files not shipped: $OUT"
echo "ok: every installed file is in a package's FILES"
dir=$WORK/broken-files/meta-sealinit
mkdir -p "${dir%/*}" && cp -a "$LAYER" "$dir"
sed -i 's| ${datadir}/sealinit/initramfs"$|"|' "$dir/recipes-security/sealinit/sealinit_git.bb"
OUT=$(python3 "$CHECK" "$dir" "$REPO" files recipes-security/sealinit/sealinit_git.bb "$D" --machine-overrides "$TEGRA" 2>&1) &&
	fail "broken-files: FILES without \${datadir}/sealinit/initramfs accepted"
grep -qF "installed but not shipped in any package: /usr/share/sealinit/initramfs/manifest" <<<"$OUT" ||
	fail "broken-files: refused, but not naming the manifest: $OUT"
echo "ok: broken-files refused: installed but not shipped: /usr/share/sealinit/initramfs/manifest"

# PACKAGECONFIG drives the Kconfig symbols (configure only).
recipe_shell --set PACKAGECONFIG= do_configure > "$WORK/cfg.sh" || fail "expand do_configure"
sh "$WORK/cfg.sh" > "$WORK/cfg.log" 2>&1 || fail "do_configure with PACKAGECONFIG empty: $(tail "$WORK/cfg.log")"
grep -q '^# CONFIG_TPM2 is not set$' "$S/.config" && grep -q '^# CONFIG_LEGACY_NET is not set$' "$S/.config" ||
	fail "PACKAGECONFIG empty left TPM2/LEGACY_NET on: $(grep -E 'TPM2=|LEGACY_NET' "$S/.config")"
grep -q '^CONFIG_LOCKDOWN=y$' "$S/.config" || fail "PACKAGECONFIG empty lost the defconfig"
echo "ok: PACKAGECONFIG without tpm2 and legacy turns CONFIG_TPM2 and CONFIG_LEGACY_NET off"
# A SEALINIT_DEFCONFIG from local.conf wins over the machine's default
# (the tegra bbappend's SEALINIT_DEFCONFIG_DEFAULT:tegra).
recipe_shell --set SEALINIT_DEFCONFIG=x86_64_production_defconfig do_configure > "$WORK/cfg.sh" || fail "expand do_configure"
sh "$WORK/cfg.sh" > "$WORK/cfg.log" 2>&1 || fail "do_configure with SEALINIT_DEFCONFIG: $(tail "$WORK/cfg.log")"
grep -q '^CONFIG_INITRAMFS_COMPRESSION="zstd"$' "$S/.config" ||
	fail "SEALINIT_DEFCONFIG=x86_64_production_defconfig lost to the tegra default: $(grep INITRAMFS "$S/.config")"
echo "ok: a SEALINIT_DEFCONFIG from local.conf wins over the tegra machine's default"

# --- the image class: /etc/sealinit/modules from the image's modules.dep -----
R=$WORK/rootfs K=$WORK/rootfs/lib/modules/6.8.12-tegra
mkdir -p "$K" "$R/usr/share/sealinit"
printf '%s\n' tee optee dm_mod ext4 > "$R/usr/share/sealinit/modules.names"
echo tpm_ftpm_tee > "$R/usr/share/sealinit/modules.late.names"
cat > "$K/modules.dep" <<'DEP'
kernel/drivers/tee/tee.ko:
kernel/drivers/tee/optee/optee.ko: kernel/drivers/tee/tee.ko
kernel/drivers/md/dm-mod.ko:
kernel/drivers/char/tpm/tpm_ftpm_tee.ko: kernel/drivers/char/tpm/tpm.ko kernel/drivers/tee/tee.ko
kernel/drivers/char/tpm/tpm.ko:
DEP
echo kernel/fs/ext4/ext4.ko > "$K/modules.builtin"
order() {
	python3 "$CHECK" "$LAYER" "$REPO" func recipes-core/images/sealinit-initramfs.bb sealinit_module_order \
		--set "IMAGE_ROOTFS=$R" > "$WORK/order.sh" || fail "expand sealinit_module_order"
	OUT=$(sh -c '. "$1"; bbfatal() { echo "$*" >&2; exit 1; }; set -e; sealinit_module_order' sh "$WORK/order.sh" 2>&1)
	RC=$?
}
order
[ "$RC" = 0 ] || fail "sealinit_module_order: $OUT"
want="/lib/modules/6.8.12-tegra/kernel/drivers/tee/tee.ko
/lib/modules/6.8.12-tegra/kernel/drivers/tee/optee/optee.ko
/lib/modules/6.8.12-tegra/kernel/drivers/md/dm-mod.ko"
[ "$(cat "$R/etc/sealinit/modules")" = "$want" ] || fail "/etc/sealinit/modules: $(cat "$R/etc/sealinit/modules"), want $want"
want="/lib/modules/6.8.12-tegra/kernel/drivers/tee/tee.ko
/lib/modules/6.8.12-tegra/kernel/drivers/char/tpm/tpm.ko
/lib/modules/6.8.12-tegra/kernel/drivers/char/tpm/tpm_ftpm_tee.ko"
[ "$(cat "$R/etc/sealinit/modules.late")" = "$want" ] || fail "/etc/sealinit/modules.late: $(cat "$R/etc/sealinit/modules.late"), want $want"
echo "ok: the image class orders the modules (deps first, ext4 built in, tpm_ftpm_tee late)"
echo dm_crypt >> "$R/usr/share/sealinit/modules.names"
order
[ "$RC" != 0 ] || fail "a module the kernel lacks (dm_crypt) accepted"
grep -qF "module dm_crypt (" <<<"$OUT" || fail "dm_crypt refused, but not by name: $OUT"
echo "ok: a module the kernel lacks refused: $(grep -F 'module dm_crypt' <<<"$OUT" | sed "s|$WORK/||g")"

# --- with BitBake and OE-core at hand -----------------------------------------
if [ -n "${BITBAKE_DIR:-}" ] && [ -n "${OE_CORE_DIR:-}" ]; then
	"$REPO/dist/yocto/bitbake-check.sh" "$BITBAKE_DIR" "$OE_CORE_DIR" "$WORK/bb" || fail "bitbake -p / yocto-check-layer (above)"
else
	echo "not run: bitbake -p and yocto-check-layer (set BITBAKE_DIR and OE_CORE_DIR)"
fi
