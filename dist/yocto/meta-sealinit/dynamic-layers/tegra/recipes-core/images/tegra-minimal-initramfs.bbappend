# SPDX-License-Identifier: MIT
# sealinit in meta-tegra's initramfs (INITRAMFS_IMAGE, tegra-common.inc):
# sealinit becomes /init instead of tegra-minimal-init's script, with
# OP-TEE's tee-supplicant and libteec (optee-client: the boot config's
# tee_supplicant=, initramfs/manifest) and the fTPM driver, loaded late, once
# the supplicant runs (jetson_orin_nano_defconfig's modules).
PACKAGE_INSTALL:remove = "tegra-minimal-init"
SEALINIT_INITRAMFS_INSTALL = "sealinit sealinit-init optee-client"
SEALINIT_KERNEL_MODULES = "kernel-module-tee kernel-module-optee \
    kernel-module-dm-mod kernel-module-dm-crypt kernel-module-dm-verity \
    kernel-module-ext4 kernel-module-crc32c-generic kernel-module-tpm-ftpm-tee"

inherit sealinit-initramfs
