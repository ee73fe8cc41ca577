#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: boot a QEMU aarch64 guest with a software TPM through the
# whole product flow: measure -> unseal -> unlock -> cap -> switch_root.
#   scripts/demo-qemu.sh            the happy path
#   TAMPER=1 scripts/demo-qemu.sh   one byte of the rootfs changed: no key
# No root-only step beyond installing packages: images are built as files.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
ARCH=aarch64
TAMPER=${TAMPER:-0}
. tests/qemu/lib.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

qemu_need $ARCH || die "cannot install qemu-system-arm"
step "Build: sealinit for the host (enroll) and for arm64 (the guest's /init)"
make -s --no-print-directory all >/dev/null || die "host build failed"
make -s --no-print-directory CROSS_COMPILE=aarch64-linux-gnu- BUILD=build/aarch64 all >/dev/null ||
	die "arm64 build failed"
HOST_SEALINIT=$REPO/build/$(uname -m)/sealinit

step "Debian's cloud kernel for arm64 (cached after the first run)"
KVER=$(scripts/fetch-kernel.sh $ARCH) || die "fetching the kernel failed"
KDIR=build/kernels/$ARCH
echo "kernel $KVER"

step "Disk images: rootfs + dm-verity tree, LUKS2 data volume with a marker"
SEALINIT=build/aarch64/sealinit tests/qemu/mkimages.sh "$QEMU_WORK/img" $ARCH >/dev/null ||
	die "building images failed"
. "$QEMU_WORK/img/images.env"
echo "root hash: $IMG_ROOTHASH"

step "Provision: what the boot will measure (sealinit predict, offline), into the guest's TPM state; the key is sealed to it"
APPEND="roothash=$IMG_ROOTHASH sealinit.loglevel=7 quiet"
qemu_predict "$HOST_SEALINIT" board/qemu/sealinit.conf "$(qemu_console $ARCH) panic=-1 $APPEND" ||
	die "predict failed"
printf '  PCR 15 <- %s\n' "${QEMU_EVENTS[@]}" | cut -c1-110
qemu_enroll_events "$HOST_SEALINIT" "$QEMU_WORK/tpm" "$IMG_DATA" "$IMG_RECOVERY_KEY" "${QEMU_EVENTS[@]}" ||
	die "enroll failed"
echo "  sealed to PCR 15; after the boot's cap it will read $QEMU_PREDICTED"

step "The initramfs: sealinit as /init, its libraries, the modules"
initramfs/mkinitramfs --arch $ARCH --sealinit build/aarch64/sealinit --kernel-dir "$KDIR" \
	--modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb aes_ce_blk" \
	--config board/qemu/sealinit.conf --busybox no --quiet --out "$QEMU_WORK/initrd.cpio.gz" ||
	die "mkinitramfs failed"
ls -l "$QEMU_WORK/initrd.cpio.gz" | awk '{printf "%s: %.1f MiB\n", $NF, $5 / 1048576}'

if [ "$TAMPER" = 1 ]; then
	step "Tampering: one byte of /sbin/init inside the rootfs image"
	# The first data block of /sbin/init (4 KiB blocks), from debugfs: the
	# boot stage reads init in full before unsealing, so verity trips here.
	blk=$(debugfs -R "bmap /sbin/init 0" "$IMG_ROOTFS" 2>/dev/null | tail -1)
	[ -n "$blk" ] && [ "$blk" -gt 0 ] 2>/dev/null || die "cannot locate /sbin/init in the image"
	off=$((blk * 4096 + 100))
	printf 'X' | dd of="$IMG_ROOTFS" bs=1 seek="$off" conv=notrunc status=none
	echo "changed the byte at offset $off"
fi

step "Boot: QEMU aarch64 (TCG) with swtpm; sealinit's log at debug level"
qemu_swtpm_start "$QEMU_WORK/tpm" >/dev/null || die "swtpm"
qemu_disk "$IMG_ROOTFS" ro rootfs
qemu_disk "$IMG_DATA" "" data
qemu_disk "$IMG_VERITY" ro verity
log=$QEMU_WORK/serial.log
qemu_start $ARCH "$KDIR/vmlinuz" "$QEMU_WORK/initrd.cpio.gz" "$APPEND" "$log"
# Show the console as it comes: sealinit's lines and the new root's report.
tail -n +1 -f "$log" --pid="$QEMU_PID" 2>/dev/null | grep -aE --line-buffered 'sealinit|SEALINIT-TEST|Run /init' &
tailer=$!
qemu_wait
rc=$?
sleep 0.5
kill $tailer 2>/dev/null

step "Result"
if [ "$TAMPER" = 1 ]; then
	if qemu_grep "$log" 'sealinit: FAILED' && ! qemu_grep "$log" "marker=$IMG_MARKER"; then
		echo "The tampered rootfs got no key: the boot stopped before unsealing and powered off."
		exit 0
	fi
	die "expected a failed boot (qemu exit $rc)"
fi
marker=$(qemu_value "$log" 'SEALINIT-TEST: marker')
reunseal=$(qemu_value "$log" 'SEALINIT-TEST: reunseal-exit')
pcr=$(qemu_value "$log" 'SEALINIT-TEST: pcr15')
cat <<EOT
  data partition : mounted at /var/lib/sealdata, marker $( [ "$marker" = "$IMG_MARKER" ] && echo "read back: $marker" || echo "MISSING" )
  PCR 15 (capped): ${pcr:-?} $( [ "$(tr 'A-F' 'a-f' <<<"$pcr")" = "$QEMU_PREDICTED" ] && echo "(as predicted)" || echo "(predicted $QEMU_PREDICTED)")
  unseal again   : exit ${reunseal:-?} (4 = policy mismatch: the key stays sealed until reboot)
  qemu           : exit $rc (the guest powered off)

Now see the failure path:  make demo TAMPER=1
EOT
[ "$marker" = "$IMG_MARKER" ] && [ "$reunseal" = 4 ] && [ $rc = 0 ]
