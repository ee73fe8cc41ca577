#!/bin/bash
# SPDX-License-Identifier: MIT
# bitbake -p (parse every recipe) and yocto-check-layer with meta-sealinit,
# for whoever has BitBake and the layers at hand (tests/build/yocto.sh runs
# it when BITBAKE_DIR and OE_CORE_DIR are set):
#   bitbake-check.sh BITBAKE_DIR OE_CORE_DIR WORKDIR
# with, from the environment, META_OE_DIR (meta-openembedded),
# META_SECURITY_DIR (meta-security, for meta-tpm) and, optionally,
# META_TEGRA_DIR (then a Tegra MACHINE parses too, with the dynamic layer).
# Every layer must be of one release series (e.g. wrynose, bitbake 2.18).
# Parsing only: nothing is fetched or built (BB_NO_NETWORK). Run it as a
# user other than root (OE refuses root); BB_EXTRA_LOCAL_CONF adds lines to
# local.conf, e.g. HOSTTOOLS:remove and SANITY_REQUIRED_UTILITIES:remove
# for host tools a parse does not need. The default git:// source is this
# checkout: a user who does not own it needs git's safe.directory for it.
set -eu
BB=$(cd "$1" && pwd) CORE=$(cd "$2" && pwd) W=$3
LAYER=$(cd "$(dirname "$0")/meta-sealinit" && pwd)
: "${META_OE_DIR:?set META_OE_DIR to a meta-openembedded checkout}"
: "${META_SECURITY_DIR:?set META_SECURITY_DIR to a meta-security checkout (meta-tpm)}"
mkdir -p "$W/build/conf"
deps="$CORE/meta $META_OE_DIR/meta-oe $META_OE_DIR/meta-python $META_OE_DIR/meta-networking $META_SECURITY_DIR/meta-tpm"
machine=qemuarm64 image=sealinit-initramfs
if [ -n "${META_TEGRA_DIR:-}" ]; then
	deps="$deps $META_TEGRA_DIR"
	machine=jetson-orin-nano-devkit image=tegra-minimal-initramfs
fi
cat > "$W/build/conf/bblayers.conf" <<BBL
BBPATH = "\${TOPDIR}"
BBFILES ?= ""
BBLAYERS = "$deps $LAYER"
BBL
cat > "$W/build/conf/local.conf" <<LOC
MACHINE = "$machine"
DISTRO = ""
BB_NO_NETWORK = "1"
DISTRO_FEATURES:append = " tpm2"
DL_DIR = "$W/downloads"
TMPDIR = "$W/tmp"
INITRAMFS_IMAGE = "$image"
LOC
[ -z "${BB_EXTRA_LOCAL_CONF:-}" ] || printf '%s\n' "$BB_EXTRA_LOCAL_CONF" >> "$W/build/conf/local.conf"
# BitBake needs the en_US.UTF-8 locale; without it on the system, one
# compiled here (localedef) through LOCPATH.
if ! LC_ALL=en_US.UTF-8 python3 -c 'import locale; locale.setlocale(locale.LC_ALL, "")' 2>/dev/null; then
	mkdir -p "$W/locale"
	[ -d "$W/locale/en_US.UTF-8" ] || localedef -i en_US -f UTF-8 "$W/locale/en_US.UTF-8"
	export LOCPATH="$W/locale" BB_ENV_PASSTHROUGH_ADDITIONS="${BB_ENV_PASSTHROUGH_ADDITIONS:-} LOCPATH"
fi
cd "$W/build"
export PATH="$BB/bin:$CORE/scripts:$PATH" BBPATH="$W/build"
echo "== bitbake -p (MACHINE=$machine; layers: $deps $LAYER)"
bitbake -p
echo "== bitbake-layers show-layers"
bitbake-layers show-layers
echo "== bitbake -e sealinit: the values the recipe builds with"
bitbake -e sealinit | grep -E '^(DEPENDS|PACKAGECONFIG|EXTRA_OEMAKE|SEALINIT_DEFCONFIG|S|SRC_URI|RDEPENDS:sealinit|FILES:sealinit-init)='
echo "== bitbake -e $image: what goes in"
bitbake -e "$image" | grep -E '^(export )?(PACKAGE_INSTALL|PACKAGE_INSTALL_ATTEMPTONLY|IMAGE_PREPROCESS_COMMAND)='
echo "== bitbake -g $image: sealinit's recipes in its build list"
bitbake -g "$image" >/dev/null
grep -xE 'sealinit|optee-client|tpm2-tss|mbedtls|cryptsetup|curl|json-c|util-linux|python3-kconfiglib-native' pn-buildlist | sort | tr '\n' ' '
echo
if [ "${YOCTO_CHECK_LAYER:-1}" = 1 ]; then
	echo "== yocto-check-layer $LAYER"
	yocto-check-layer --dependency $deps -- "$LAYER"
fi
