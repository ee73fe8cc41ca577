# SPDX-License-Identifier: MIT
SUMMARY = "An initramfs whose /init is sealinit"
DESCRIPTION = "sealinit as PID 1, with its boot config, the dlopen()ed \
libraries of initramfs/manifest (the sealinit package's run-time \
dependencies) and the kernel modules its defconfig names. Use it as \
INITRAMFS_IMAGE."
LICENSE = "MIT"

INITRAMFS_FSTYPES ?= "cpio.gz"
IMAGE_FSTYPES = "${INITRAMFS_FSTYPES}"

# Only sealinit and what it needs: no busybox, no package manager.
PACKAGE_INSTALL = ""
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""
COPY_LIC_MANIFEST = "0"
COPY_LIC_DIRS = "0"
IMAGE_NAME_SUFFIX ?= ""
IMAGE_ROOTFS_SIZE = "8192"
IMAGE_ROOTFS_EXTRA_SPACE = "0"

# x86_64_production_defconfig's CONFIG_INITRAMFS_MODULES, as packages.
SEALINIT_KERNEL_MODULES:x86-64 ?= "kernel-module-tpm-tis kernel-module-tpm-crb \
    kernel-module-dm-mod kernel-module-dm-crypt kernel-module-dm-verity \
    kernel-module-xts kernel-module-ecb kernel-module-aesni-intel \
    kernel-module-efivarfs"

inherit core-image sealinit-initramfs
