# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/boot rows built in Debian chroots (tests/lib/distro.sh): the peers
# and sealinit as a step of the distributions' own initramfs.
#   dracut_systemd    stock dracut with systemd-cryptsetup (tpm2-device=auto)
#   itools_clevis     stock initramfs-tools with clevis tpm2
#   itools_sealinit   sealinit in initramfs-tools (dist/initramfs-tools)
#   dracut_sealinit   sealinit in dracut (dist/dracut)
# Each is a hook still to be filled: until tests/lib/distro.sh can build
# their images, `need' says so and the row is skipped. What a row has to
# provide is in bench/rows/README: its initramfs for the cloud kernel in
# build/kernels/ARCH, the shared disks (bench_shared_disks) with its own
# copy of the data volume enrolled for its unlocker, and bench/root-init as
# the init the root runs (the shared rootfs already has it).
#
# What each builder has to do, so that the measure stays the one of every
# other row:
#   - the initramfs for this very kernel: the chroot's builder (dracut,
#     mkinitramfs) run against build/kernels/x86_64's lib/modules and
#     config for $(cat $KDIR/kver), cached in $BENCH_CACHE by bench_key of
#     its inputs; ROW_INITRD[NAME] is that image;
#   - root=/dev/vda (the shared rootfs, ext4, read-only: its /sbin/init is
#     bench/root-init), the data volume vdb: $RW/data.img, a copy of
#     $IMG_DATA (passphrase in $IMG_RECOVERY_KEY) enrolled against $RW/tpm
#     (qemu_swtpm_tcp "$RW/tpm", then systemd-cryptenroll --tpm2-device=...,
#     clevis luks bind ... tpm2, or sealinit enroll --expect for what the
#     step will measure; qemu_swtpm_stop), listed in the image's crypttab
#     (or rd.luks.* words in ROW_APPEND[NAME]); the verity tree vdc stays
#     attached and unused;
#   - check: the volume was opened by the TPM, not by a prompt (the root's
#     init prints "BENCH: data=... mapper=NAME,"; a prompt on the console
#     would hang the boot until QEMU's timeout, and the check names it).

BENCH_DISTRO_LIB=$REPO/tests/lib/distro.sh

distro_need() {
	[ "$ARCH" = x86_64 ] || { echo "x86_64 only (the Debian chroots are amd64)"; return 1; }
	[ -f "$BENCH_DISTRO_LIB" ] || { echo "needs tests/lib/distro.sh (Debian chroots), not in this tree"; return 1; }
	echo "not written yet: bench/rows/distro.sh has no builder for this row"
	return 1
}

row_dracut_systemd_title() { echo "dracut + systemd-cryptsetup (tpm2-device=auto)"; }
row_itools_clevis_title() { echo "initramfs-tools + clevis tpm2"; }
row_itools_sealinit_title() { echo "sealinit in initramfs-tools"; }
row_dracut_sealinit_title() { echo "sealinit in dracut"; }

row_dracut_systemd_need() { distro_need; }
row_itools_clevis_need() { distro_need; }
row_itools_sealinit_need() { distro_need; }
row_dracut_sealinit_need() { distro_need; }
