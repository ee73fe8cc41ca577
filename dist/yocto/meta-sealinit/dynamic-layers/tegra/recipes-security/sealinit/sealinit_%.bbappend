# SPDX-License-Identifier: MIT
# On Tegra machines: the Jetson defconfig (OP-TEE fTPM, its modules, the
# board's boot config with tee_supplicant=).
SEALINIT_DEFCONFIG_DEFAULT:tegra = "jetson_orin_nano_defconfig"
