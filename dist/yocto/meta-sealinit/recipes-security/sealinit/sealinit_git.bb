# SPDX-License-Identifier: MIT
SUMMARY = "Measured-boot PID 1 for the initramfs: TPM2-sealed LUKS2 unlock"
DESCRIPTION = "sealinit measures the root filesystem into a TPM PCR, unseals \
the data volume's LUKS2 key from the TPM, unlocks it, caps the PCRs and \
switches to the root. The -init package makes it the initramfs's /init."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://Makefile;beginline=1;endline=1;md5=b2dccaa94b3629a08bfb4f983cad6f89"

# The source: by default the git checkout this layer sits in
# (dist/yocto/meta-sealinit/ inside it), at the tip of SEALINIT_BRANCH.
# For a release, set in local.conf (or a bbappend):
#   SEALINIT_GIT_URI = "git://<your sealinit repository>;protocol=https"
#   SEALINIT_BRANCH = "main"
#   SRCREV:pn-sealinit = "<the release tag's commit>"
SEALINIT_SRCDIR ?= "${@os.path.abspath(os.path.join(d.getVar('FILE_DIRNAME'), '../../../../..'))}"
SEALINIT_GIT_URI ?= "git://${SEALINIT_SRCDIR};protocol=file"
SEALINIT_BRANCH ?= "main"
SRC_URI = "${SEALINIT_GIT_URI};branch=${SEALINIT_BRANCH};destsuffix=sealinit-src"
SRCREV ?= "${AUTOREV}"
PV = "0.0+git"
# scarthgap unpacks into WORKDIR; later releases into UNPACKDIR.
S = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}/sealinit-src"
B = "${S}"

# The Makefile's pkg-config list (PKGS), and mbedcrypto (linked statically).
# Kconfig runs with kconfiglib (meta-oe's python3-kconfiglib-native).
DEPENDS = "cryptsetup json-c util-linux mbedtls python3-kconfiglib-native"

inherit pkgconfig python3native

# Each flag sets the Kconfig symbol in do_configure; the dlopen()ed
# libraries (initramfs/manifest) are run-time dependencies.
PACKAGECONFIG ??= "tpm2 legacy"
PACKAGECONFIG[tpm2] = ",,tpm2-tss,libtss2-tcti-device"
PACKAGECONFIG[legacy] = ",,curl,libcurl"

# configs/<name>: the board's defconfig. Empty: the Kconfig defaults.
# The machine's default is SEALINIT_DEFCONFIG_DEFAULT (the tegra
# dynamic layer sets it), so that a plain SEALINIT_DEFCONFIG = "..." in
# local.conf still wins over it.
SEALINIT_DEFCONFIG_DEFAULT ?= ""
SEALINIT_DEFCONFIG_DEFAULT:x86-64 = "x86_64_production_defconfig"
SEALINIT_DEFCONFIG ??= "${SEALINIT_DEFCONFIG_DEFAULT}"
# The boot config that becomes /etc/sealinit.conf in the -init package:
# empty takes the defconfig's CONFIG_BOOT_CONFIG (a file in the source tree);
# a path here (absolute, or relative to the source) wins.
SEALINIT_BOOT_CONFIG ?= ""

EXTRA_OEMAKE = "'CC=${CC}' 'CFLAGS=${CFLAGS}' 'CPPFLAGS=${CPPFLAGS}' \
    'LDFLAGS=${LDFLAGS}' PKG_CONFIG=pkg-config 'PYTHON=${PYTHON}' \
    WERROR=0 V=1"

do_configure() {
    rm -f .config
    oe_runmake ${@d.getVar('SEALINIT_DEFCONFIG') or 'olddefconfig'}
    ${PYTHON} -m setconfig --kconfig Kconfig \
        TPM2=${@bb.utils.contains('PACKAGECONFIG', 'tpm2', 'y', 'n', d)} \
        LEGACY_NET=${@bb.utils.contains('PACKAGECONFIG', 'legacy', 'y', 'n', d)}
}

do_compile() {
    oe_runmake all
}

do_install() {
    oe_runmake install DESTDIR=${D} PREFIX=${prefix} SBINDIR=${sbindir} \
        LIBEXECDIR=${libexecdir} DATADIR=${datadir}

    # The -init package: /init, the boot config, the module lists.
    ln -sf ${sbindir}/sealinit ${D}/init
    . ./.config
    conf="${SEALINIT_BOOT_CONFIG}"
    [ -n "$conf" ] || conf="${CONFIG_BOOT_CONFIG:-}"
    if [ -n "$conf" ]; then
        install -D -m 0644 "$conf" ${D}${sysconfdir}/sealinit.conf
    fi
    install -d ${D}${datadir}/sealinit
    echo "${CONFIG_INITRAMFS_MODULES:-}" | tr ' ' '\n' | sed '/^$/d' \
        > ${D}${datadir}/sealinit/modules.names
    echo "${CONFIG_INITRAMFS_LATE_MODULES:-}" | tr ' ' '\n' | sed '/^$/d' \
        > ${D}${datadir}/sealinit/modules.late.names
}

PACKAGES =+ "${PN}-init ${PN}-mkinitramfs"
FILES:${PN} = "${sbindir}/sealinit"
FILES:${PN}-init = "/init ${sysconfdir}/sealinit.conf ${datadir}/sealinit/modules.names \
    ${datadir}/sealinit/modules.late.names"
FILES:${PN}-mkinitramfs = "${libexecdir}/sealinit ${datadir}/sealinit/initramfs"

# glibc dlopen()s libgcc_s (pthread_cancel, unwinding); the TCTI and libcurl
# come with their PACKAGECONFIG flags.
RDEPENDS:${PN} += "libgcc"
RDEPENDS:${PN}-init = "${PN}"
RDEPENDS:${PN}-mkinitramfs = "bash cpio gzip kmod binutils"
