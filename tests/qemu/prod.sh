#!/bin/bash
# SPDX-License-Identifier: MIT
# The production configurations, built as a user builds them, booted under
# QEMU with swtpm; the attacks on the shipped defaults, each beside its
# control.
#
#   tests/qemu/prod.sh [aarch64|x86_64|all] [SCENARIO...]
#
# aarch64 is configs/jetson_orin_nano_defconfig with
# board/jetson-orin-nano/sealinit.conf (PCR 15, direct kernel boot, as L4T
# measures nothing sealinit can rely on yet); x86_64 is
# configs/x86_64_production_defconfig with board/x86_64-server/sealinit.conf
# (PCRs 4+7+9+15, booted through OVMF, whose firmware and EFI stub measure
# the kernel, the initramfs and the command line).
#
# What "as a user builds it" means here, step by step, as a fleet's CI
# and factory do it (docs/fleet.md):
#   make <board>_defconfig; make                     (aarch64: cross, as pinned)
#   the same defconfig built for the host            (sealinit predict, sign)
#   the fleet's two keys (openssl): PCR signing and escrow
#   per release: the board's sealinit.conf with the root hash filled in;
#   make initramfs with the two public keys and the target's mke2fs
#   (CONFIG_INITRAMFS_EXTRA_FILES, CONFIG_INITRAMFS_SYSROOT on aarch64);
#   the state predicted (x86_64: from a reference boot's event log, with
#   --initrd), then signed once (sign --record, counter limit 1); the
#   signature file in the initramfs (aarch64) or on the system disk's
#   sealinit-sig partition (x86_64, where PCR 9 covers the initramfs)
#   device A: an empty TPM, a blank data partition, an escrow medium; its
#   first boot provisions, and its state after that boot is where every
#   scenario starts
# and the only departures, because this is a QEMU machine: the initramfs
# also carries the machine's drivers (virtio; on aarch64 tpm_tis and the
# AES modules), and on aarch64 tpm_tis takes the place of tpm_ftpm_tee as
# the late module (no Debian kernel builds tpm_ftpm_tee), and with no
# OP-TEE there is no supplicant: tee_supplicant= is emptied in the
# release's configuration (a configured supplicant that is absent fails
# the boot by name, as it would on a board that lacks it: it never opens
# /dev/teepriv0). The disks carry GPT partitions named as the
# board configurations name them (APP_root, APP_verity, models on Jetson; root,
# root-verity, data on x86_64; sealinit-escrow on the escrow medium).
#
# Scenarios (default: all, on both arches; blacklist is aarch64's, where
# tpm_tis is a module):
#   happy       the shipped configuration unlocks by the TPM: the data volume
#               at /var/lib/docker, PCR 15 equal to the replay of predict's
#               events and the cap (x86_64: PCRs 4, 7, 9 as predicted too),
#               unsealing again refused (exit 4)
#   loglevel    the same boot with sealinit.loglevel=7 added (what an
#               engineer debugging a device does): sealinit measures the same
#               events, because lockdown-allowed keys are not measured, so
#               the Jetson boot unlocks; under UEFI (x86_64) the EFI stub
#               measures the whole command line into PCR 9, so the boot is
#               refused on PCR 9 with sealinit's events unchanged
#               (docs/boot.md, "When a device will not boot")
#   blacklist   module_blacklist=tpm_tis (on the device: tpm_ftpm_tee), a
#               kernel argument that keeps the TPM away: refused by name
#               before the TPM is waited for; the header is unchanged
#   timeout     sealinit.device_timeout=1, a lockdown-allowed key that used
#               to make the TPM "absent": refused by name (a locked-down
#               command line may lengthen a wait, never shorten it); on
#               x86_64 the reboot (same UEFI variables) unlocks, prints the
#               previous failure, and `sealinit last-failure' reads it
#   env         SSLKEYLOGFILE=/dev/console TSS2_LOG=all+TRACE: the kernel hands
#               unknown words to PID 1 as environment; the measured command
#               line changes, so the TPM refuses, and before it does the TSS
#               printed no trace (PID 1 starts from an empty environment)
#   reseal      (x86_64) the booted system reseals with the escrowed
#               recovery key, as after a recovery boot: the provisioned
#               token is signed, so `sealinit reseal --pcrs 15' keeps the
#               signed 4+7+9+15 (the shortcut no longer makes a token any
#               code after a reset could replay; reseal_firmware.sh refuses
#               it for literal tokens); plain `sealinit reseal', with the
#               configuration the boot left in /run/sealinit and both event
#               logs, keeps them too, and the reboot into the same state
#               unlocks with that token
#   fleet       device B, flashed from the same image, provisions on its
#               first boot (one escrow medium then holds both devices'
#               documents, each key opening its own volume only) and unlocks
#               by the TPM alone on its second; A's data disk in B is
#               refused; one signed update (a new root, one new signature
#               file) boots both devices with no per-device step
#   rogue       on device A's own TPM, after a reset, the attacker seals a
#               key of their own to the genuine token's public policy (the
#               fleet key, its PCRs, the counter) on a volume of their own:
#               the genuine boot refuses it before activation (the device
#               record names another volume)
#   server      (aarch64) a release whose configuration escrows to the fleet
#               server (escrow=server, the legacy API's HTTPS, a static ip=
#               in the configuration), on a device with a blank partition:
#               while the server refuses the escrow (403) the first boot
#               fails by name and the partition stays all zeros; once it
#               takes it, the next boot provisions, the server holds the
#               document and the escrow key's private half opens the volume
#   cut         power cuts (QEMU ended at a console line) during a first
#               boot, at the file system, the header copy and the read-back:
#               each next boot provisions again or unlocks the whole volume
#   smuggle     bl_prof_dataptr (left out of the Jetson measurement as L4T
#               changes it every boot) joined by a vertical tab to
#               systemd.unit=rescue.target, which the kernel splits off for
#               the real init: refused by byte and offset
# The control of each refusal is happy: the same images and initramfs with
# the genuine command line. The boots that are refused also carry
# sealinit.failure_delay=1 (FAST), which a locked-down command line may
# set and nothing measures, so that each reboots after 1 s instead of the
# board's 30.
#
# Output: one line per scenario, then "N passed, N failed, N skipped". The
# two arches run side by side, one child process each.
# Environment: QEMU_KEEP=1 keeps the work directory; BOOT_TIMEOUT (default
# 150; a refused boot waits the board's failure_delay of 30 s) bounds each QEMU run in seconds.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/qemu/lib.sh"

ALL="happy loglevel blacklist timeout env smuggle reseal fleet rogue server cut"
QEMU_TIMEOUT=${BOOT_TIMEOUT:-240}
ARCHES="aarch64 x86_64"
FAST=" sealinit.failure_delay=1"
case "${1:-}" in
aarch64|x86_64) ARCHES=$1; shift ;;
all) shift ;;
esac
NPASS=0 NFAIL=0 NSKIP=0
WANT=("$@")
[ ${#WANT[@]} -gt 0 ] || read -ra WANT <<<"$ALL"
for s in "${WANT[@]}"; do
	case " $ALL " in *" $s "*) ;; *) echo "prod.sh: unknown scenario '$s' (expected: $ALL)" >&2; exit 2 ;; esac
done

PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
chk() { local what=$1; shift; "$@" || problem "$what"; }
not() { ! "$@"; }
verdict() {
	if [ ${#PROBLEMS[@]} = 0 ]; then
		NPASS=$((NPASS + 1)); echo "PASS  $ARCH prod-$1${2:+: $2}"
	else
		NFAIL=$((NFAIL + 1)); QEMU_KEEP=1
		echo "FAIL  $ARCH prod-$1: $(IFS=';'; echo "${PROBLEMS[*]}" | sed 's/;/; /g')"
		[ -f "${LOG:-}" ] && tail -n 15 "$LOG" | sed 's/^/    /'
	fi
	PROBLEMS=()
}
finish() {
	echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" = 0 ]
	exit
}

command -v sfdisk >/dev/null || "$REPO/scripts/deps.sh" test >/dev/null

# Per arch: the defconfig, the board, the GPT names of root, verity and
# data, the machine's extra modules, the module loaded late, the firmware,
# and the command line the boot loader passes (no sealinit.* word, no
# roothash=: a locked-down build takes it from the configuration).
set_arch() {
	ARCH=$1
	W=$QEMU_WORK/$ARCH
	mkdir -p "$W"
	case $ARCH in
	aarch64)
		DEFCONFIG=jetson_orin_nano BOARD=jetson-orin-nano PARTS="APP_root APP_verity models"
		EXTRA_MODS="virtio_pci virtio_blk xts ecb aes_ce_blk" LATE='"tpm_tis"'
		QEMU_FIRMWARE="" PCRS=15 CMDLINE_BASE="root=PARTLABEL=APP_root rw rootwait" ;;
	x86_64)
		DEFCONFIG=x86_64_production BOARD=x86_64-server PARTS="root root-verity data"
		EXTRA_MODS="virtio_pci virtio_blk" LATE=""
		QEMU_FIRMWARE=uefi PCRS=4+7+9+15 CMDLINE_BASE="root=PARTLABEL=root ro" ;;
	esac
}

# --- the build, as a user runs it ---------------------------------------------
prep() {
	local kc=$W/defconfig.config kver root
	(cd "$REPO" && KCONFIG_CONFIG=$kc make -s "${DEFCONFIG}_defconfig") >"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-target" all) >>"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-host" CROSS_COMPILE= all) >>"$W/build.log" 2>&1 ||
		{ PREP_ERR="build: $(tail -n 3 "$W/build.log")"; return 1; }
	case $ARCH in aarch64) root='ARM aarch64' ;; *) root='x86-64' ;; esac
	file -b "$W/build-target/sealinit" | grep -q "$root" || { PREP_ERR="the defconfig did not build for $ARCH"; return 1; }
	HOSTBIN=$W/build-host/sealinit KCONF=$kc
	kver=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" "$ARCH") || { PREP_ERR="fetch-kernel failed"; return 1; }
	KDIR=$REPO/build/kernels/$ARCH
	# The fleet's two keys, as its CI and its recovery desk hold them: the
	# PCR-signing key (the image carries its public half) and the escrow
	# key (the image carries its public half; the private one opens the
	# escrowed recovery keys).
	for k in pcr escrow; do
		openssl genrsa -out "$W/fleet-$k-key.pem" "$([ $k = pcr ] && echo 2048 || echo 3072)" 2>/dev/null &&
			openssl rsa -in "$W/fleet-$k-key.pem" -pubout -out "$W/fleet-$k-pub.pem" 2>/dev/null ||
			{ PREP_ERR="openssl: the fleet's $k key"; return 1; }
	done
	# mke2fs for the target, and the root its libraries come from.
	case $ARCH in
	x86_64) MKFS=/sbin/mke2fs MKFS_ROOT="" ;;
	aarch64)
		MKFS_ROOT=$(qemu_deb_root arm64 e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1) ||
			{ PREP_ERR="arm64 e2fsprogs"; return 1; }
		MKFS=$MKFS_ROOT/sbin/mke2fs ;;
	esac
	[ -x "$MKFS" ] || { PREP_ERR="no mke2fs at $MKFS"; return 1; }
	SEALINIT=$W/build-target/sealinit timeout 600 "$REPO/tests/qemu/mkimages.sh" "$W/img" "$ARCH" \
		>"$W/mkimages.log" 2>&1 || { PREP_ERR="mkimages: $(tail -n 3 "$W/mkimages.log")"; return 1; }
	echo "info  $ARCH: kernel $kver"
}

# make_initramfs OUT [SIGFILE]: `make initramfs' of the defconfig, with the
# fleet's public keys, mke2fs and (Jetson) the release's signature file as
# CONFIG_INITRAMFS_EXTRA_FILES, the machine's drivers added.
make_initramfs() {
	local out=$1 sig=${2:-} mods cross="" extra
	[ "$ARCH" = aarch64 ] || cross="CROSS_COMPILE="
	mods=$(sed -n 's/^CONFIG_INITRAMFS_MODULES="\(.*\)"$/\1/p' "$KCONF")
	extra="$W/fleet-pcr-pub.pem:/etc/sealinit/fleet-pcr-key.pem $W/fleet-escrow-pub.pem:/etc/sealinit/fleet-escrow-key.pem $MKFS:/sbin/mke2fs${REL_FILES:+ $REL_FILES}"
	[ -z "$sig" ] || extra+=" $sig:/etc/sealinit/tpm2-pcr-signature.json"
	rm -f "$W/build-target/initramfs.cpio.gz"
	# Values as the .config writes them, quotes included.
	(cd "$REPO" && KCONFIG_CONFIG=$KCONF make -s BUILD="$W/build-target" $cross initramfs \
		CONFIG_BOOT_CONFIG="\"$REL/sealinit.conf\"" \
		CONFIG_INITRAMFS_MODULES="\"$mods $EXTRA_MODS${REL_MODS:+ $REL_MODS}\"" \
		CONFIG_INITRAMFS_EXTRA_FILES="\"$extra\"" CONFIG_INITRAMFS_SYSROOT="\"$MKFS_ROOT\"" \
		${LATE:+CONFIG_INITRAMFS_LATE_MODULES=$LATE}) >"$REL/initramfs.log" 2>&1 ||
		{ PREP_ERR="make initramfs: $(tail -n 3 "$REL/initramfs.log")"; return 1; }
	mv "$W/build-target/initramfs.cpio.gz" "$out"
}

# release NAME IMGDIR: one release of the fleet's image, as its CI makes it
# once for every device: the board's configuration with the release's root
# hash, the initramfs, the PCR values predicted for it, the one signature
# file (sealinit sign --record: the tokens' entry and the device record's,
# with the rollback counter's limit), and the system disk (root, verity
# and, on x86_64, the signature partition). Sets REL, INITRD, SYSTEM,
# EVENTS, PREDICTED, ROOTHASH for the boots that follow. A fleet's own
# settings: REL_CONF (lines that take the place of the board's escrow=
# line), REL_FILES (more CONFIG_INITRAMFS_EXTRA_FILES), REL_MODS (more
# modules).
release() {
	local name=$1 img=$2 out cmdline args=() disk
	REL=$W/$name
	mkdir -p "$REL"
	. "$img/images.env"
	ROOTHASH=$IMG_ROOTHASH ROOTFS=$IMG_ROOTFS VERITY=$IMG_VERITY
	# What the build writes: the root hash.
	sed -e "s/^#roothash=<filled in by the build>\$/roothash=$IMG_ROOTHASH/" \
		-e 's/^tee_supplicant=.*$/tee_supplicant=/' \
		"$REPO/board/$BOARD/sealinit.conf" >"$REL/sealinit.conf"
	grep -qx "roothash=$IMG_ROOTHASH" "$REL/sealinit.conf" ||
		{ PREP_ERR="board/$BOARD/sealinit.conf has no '#roothash=<filled in by the build>' line"; return 1; }
	if [ -n "${REL_CONF:-}" ]; then
		grep -q '^escrow=' "$REL/sealinit.conf" || { PREP_ERR="board/$BOARD/sealinit.conf has no escrow= line"; return 1; }
		REPL=$REL_CONF awk '/^escrow=/ { print ENVIRON["REPL"]; next } { print }' "$REL/sealinit.conf" >"$REL/conf.new" &&
			mv "$REL/conf.new" "$REL/sealinit.conf"
	fi
	INITRD=$REL/initramfs.cpio.gz
	if [ "$QEMU_FIRMWARE" = uefi ]; then
		# The initramfs is measured (PCR 9): built first, its signature
		# goes to a partition of its own.
		make_initramfs "$INITRD" || return 1
		reference_boot || return 1
		cmdline=$REF_CMDLINE
		args=(--firmware-log "$REL/ref.log" --initrd "$INITRD")
	else
		cmdline="$(qemu_console "$ARCH") panic=-1 $CMDLINE_BASE"
	fi
	out=$(timeout 60 "$HOSTBIN" predict --config "$REL/sealinit.conf" --cmdline "$cmdline" \
		--init "$QEMU_LIB_DIR/guest-init" "${args[@]}" --pcrs "$PCRS" 2>&1) ||
		{ PREP_ERR="predict: $out"; return 1; }
	mapfile -t EVENTS < <(sed -n 's/^15 //p' <<<"$out")
	PREDICTED=$(sed -n 's/^pcr15-capped=//p' <<<"$out")
	grep -E '^pcr[0-9]+=' <<<"$out" >"$REL/expect.pcrs"
	[ ${#EVENTS[@]} -ge 4 ] && [ -n "$PREDICTED" ] || { PREP_ERR="predict printed: $out"; return 1; }
	rm -f "$REL/sig.json"
	out=$(timeout 60 "$HOSTBIN" sign --private-key "$W/fleet-pcr-key.pem" --pcrs "$PCRS" \
		--values "$REL/expect.pcrs" --counter-value 1 --record --signature "$REL/sig.json" 2>&1) ||
		{ PREP_ERR="sign: $out"; return 1; }
	set -- $PARTS
	disk=("$1:$IMG_ROOTFS" "$2:$IMG_VERITY")
	if [ "$QEMU_FIRMWARE" = uefi ]; then
		disk+=("sealinit-sig:$REL/sig.json")
	else
		make_initramfs "$INITRD" "$REL/sig.json" || return 1
	fi
	SYSTEM=$REL/system.img
	gpt_disk "$SYSTEM" "${disk[@]}" || { PREP_ERR="sfdisk: the system disk"; return 1; }
	DATA_PART=$3
	declare -p REL INITRD SYSTEM EVENTS PREDICTED ROOTHASH DATA_PART | sed "s/^declare -/declare -g -/" >"$REL/vars"
	echo "info  $ARCH: release $name: initramfs $(($(stat -c %s "$INITRD") >> 10)) KiB, one signature file of $(jq '.sha256 | length' "$REL/sig.json") entries"
}

# gpt_disk OUT NAME:FILE...: a GPT disk image holding each FILE in a
# partition named NAME, 1 MiB aligned.
gpt_disk() {
	local out=$1 spec name f start=2048 sz script="label: gpt" parts=()
	shift
	for spec in "$@"; do
		name=${spec%%:*} f=${spec#*:}
		sz=$(( ($(stat -c %s "$f") + 1048575) / 1048576 * 2048 ))
		script+=$'\n'"start=$start, size=$sz, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"$name\""
		parts+=("$start:$f")
		start=$((start + sz))
	done
	rm -f "$out"
	truncate -s $(( (start + 2048) * 512 )) "$out"
	sfdisk -q "$out" <<<"$script" >/dev/null 2>&1 || return 1
	for spec in "${parts[@]}"; do
		dd if="${spec#*:}" of="$out" bs=512 seek="${spec%%:*}" conv=notrunc,sparse status=none || return 1
	done
}

# reference_boot: x86_64's firmware PCRs come from a reference boot of the
# same firmware, kernel and command line with another initramfs, as a
# fleet's build host takes them from a reference device
# (docs/firmware-pcrs.md): its event log in $W/ref.log, and the command
# line the kernel saw (the firmware adds ` initrd=initrd') in REF_CMDLINE.
reference_boot() {
	local d=$REL/ref rc=0 sz
	mkdir -p "$d"
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" \
		--init-script "$REPO/tests/qemu/uefi-init" --kernel-dir "$KDIR" \
		--modules "$EXTRA_MODS" --out "$d/initrd.cpio.gz" 2>"$d/mkinitramfs.log" ||
		{ PREP_ERR="reference mkinitramfs: $(tail -n 2 "$d/mkinitramfs.log")"; return 1; }
	# QEMU's -kernel writes the initrd's size into the kernel's setup
	# header, which the firmware measures into PCR 4: the reference
	# initramfs gets the production one's size, in zeros after its end
	# (the kernel skips zero padding between and after cpio archives).
	[ "$(stat -c %s "$d/initrd.cpio.gz")" -le "$(stat -c %s "$INITRD")" ] ||
		{ PREP_ERR="the reference initramfs is larger than the production one"; return 1; }
	truncate -s "$(stat -c %s "$INITRD")" "$d/initrd.cpio.gz"
	qemu_swtpm_start "$d/tpm" || { PREP_ERR="swtpm"; return 1; }
	truncate -s 4M "$d/out.img"
	qemu_disks_clear
	qemu_disk "$d/out.img" "" out
	qemu_start "$ARCH" "$KDIR/vmlinuz" "$d/initrd.cpio.gz" "$CMDLINE_BASE" "$d/serial.log"
	qemu_wait || rc=$?
	qemu_swtpm_stop "${QEMU_SWTPM_PIDS[-1]}"
	sed -i 's/\r$//' "$d/serial.log"
	sz=$(qemu_value "$d/serial.log" 'UEFI: log-size')
	case "$rc:$sz" in 0:[0-9]*) ;; *) PREP_ERR="reference boot: exit $rc, log size '$sz'"; return 1 ;; esac
	head -c "$sz" "$d/out.img" >"$REL/ref.log"
	REF_CMDLINE=$(grep -ao 'UEFI: cmdline=\[[^]]*\]' "$d/serial.log" | tail -n1 | sed 's/^UEFI: cmdline=\[//; s/\]$//')
	[ -n "$REF_CMDLINE" ] || { PREP_ERR="reference boot: no command line"; return 1; }
}
# use_release NAME: the boots that follow use release NAME again.
use_release() { . "$W/$1/vars"; }

# device DIR: a device as the factory hands it over, flashed with the
# fleet's image: a TPM never used (an empty swtpm state) and a data disk
# whose partition is blank (zeros, not written by the flash).
device() {
	mkdir -p "$1/tpm"
	truncate -s 64M "$1/blank.img"
	gpt_disk "$1/data-disk.img" "$DATA_PART:$1/blank.img" && rm -f "$1/blank.img"
}

# escrow_medium FILE: a removable disk with an empty partition named as
# the board's escrow= names it.
escrow_medium() {
	truncate -s 4M "$1.part"
	gpt_disk "$1" "sealinit-escrow:$1.part" && rm -f "$1.part"
}

# provision_first: device A's first boot, which makes its data volume;
# its TPM state and data disk after that boot are the baseline every
# scenario starts from (a device in the field), and the marker its booted
# system wrote is what each later boot must read back.
provision_first() {
	local v
	device "$W/devA" || { PREP_ERR="sfdisk: device A's data disk"; return 1; }
	escrow_medium "$W/escrow.img" || { PREP_ERR="sfdisk: the escrow medium"; return 1; }
	rm -rf "$W/tpm-enrolled"
	cp -a "$W/devA/tpm" "$W/tpm-enrolled"
	cp --sparse=always "$W/devA/data-disk.img" "$W/data-enrolled-disk.img"
	ESCROW=$W/escrow.img boot first ""
	expect_provisioned "$W/escrow.img"
	BASE_MARKER=$(qemu_value "$LOG" 'SEALINIT-TEST: marker-written')
	[ ${#PROBLEMS[@]} = 0 ] && [ -n "$BASE_MARKER" ] ||
		{ PREP_ERR="device A's first boot: $(IFS=';'; echo "${PROBLEMS[*]}"); $(grep -a '^sealinit: ' "$LOG" | tail -n 5 | tr '\n' ' ')"; PROBLEMS=(); return 1; }
	rm -rf "$W/tpm-enrolled"
	cp -a "$S/tpm" "$W/tpm-enrolled"
	cp --sparse=always "$S/data-disk.img" "$W/data-enrolled-disk.img"
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: unlock-record: source')
	echo "info  $ARCH: device A provisioned on its first boot (then unlocked by '$v'), marker $BASE_MARKER"
}

# expect_provisioned ESCROW: a first boot: the volume made, the record
# written and the recovery key escrowed to ESCROW (escrowed_key's WHERE),
# then the same boot unlocked it by the TPM and went on.
expect_provisioned() {
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "FAILED: $(grep -a '^sealinit: FAILED' "$LOG" | head -n1)" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "no line saying the volume was provisioned" qemu_grep "$LOG" '^sealinit: provisioned '
	chk "the recovery key was printed on the console" not qemu_grep "$LOG" '([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}'
	chk "guest-init did not finish" qemu_grep "$LOG" 'SEALINIT-TEST: done'
	chk "the booted system wrote no marker on the new volume" qemu_grep "$LOG" 'SEALINIT-TEST: marker-written='
	chk "the first boot did not unlock by the TPM" qemu_grep "$LOG" 'SEALINIT-TEST: unlock-record: source=tpm2'
	expect_capped
	# On the host: the volume, its tokens, and its escrowed key.
	local uuid key v
	uuid=$(data_uuid "$S/data-disk.img")
	chk "the data partition is not a LUKS2 volume after the first boot" [ -n "$uuid" ]
	v=$(cryptsetup luksDump --dump-json-metadata "$S/data-disk.img.hdr" 2>/dev/null |
		jq -r '[.tokens[].type] | sort | join(",")')
	chk "the new volume's tokens are '$v', want sealinit-escrow,systemd-recovery,systemd-tpm2" \
		[ "$v" = sealinit-escrow,systemd-recovery,systemd-tpm2 ]
	key=$(escrowed_key "$1" "$uuid")
	chk "no escrowed recovery key for $uuid on the medium" [ ${#key} = 71 ]
	chk "the escrowed recovery key does not open the new volume" opens_with "$S/data-disk.img" "$key"
}

# The booted system cannot unseal again: the cap moved PCR 15 (and the
# firmware's on x86_64), so no signature of the release matches the
# values now (exit 30), or a literal token's policy fails (exit 4); not
# because the signature file was missing.
expect_capped() {
	local v
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')
	chk "unsealing again from the booted system exited '$v', want 30 or 4 (capped)" \
		[ "$v" = 30 ] || [ "$v" = 4 ]
	chk "unsealing again failed for want of the signature file, not the cap" \
		not qemu_grep "$LOG" 'reunseal-output: .*cannot read the signature file'
}

# boot NAME EXTRA [again]: one boot of the release's initramfs with the
# genuine command line plus EXTRA; sets LOG, RC and S (the scenario's
# directory). It starts from the baseline device (DEV_TPM, DEV_DATA: another
# device's). again: the same TPM state and data disk as NAME's last boot
# (a reboot), the log in serial-again.log. BOOT_DISK=FILE:SERIAL attaches
# one more disk, read-only; ESCROW=FILE the escrow medium; NET=1 a network
# card on QEMU's user network (the host is 10.0.2.2); CUT_AT=REGEX ends
# QEMU when the console shows it (a power cut; CUT says whether). NO_KEY=1:
# a boot expected to be refused, where a person at the console answers the
# recovery prompt, if it comes, with three empty lines, instead of letting
# it wait out its 60 s (recovery_timeout, which a locked-down command line
# may not shorten).
boot() {
	local name=$1 extra=$2 again=${3:-}
	S=$W/$name LOG=$S/serial${again:+-again}.log
	if [ -z "$again" ]; then
		mkdir -p "$S"
		rm -rf "$S/tpm"
		cp -a "${DEV_TPM:-$W/tpm-enrolled}" "$S/tpm"
		cp --sparse=always "${DEV_DATA:-$W/data-enrolled-disk.img}" "$S/data-disk.img"
	fi
	HDR_BEFORE=$(dd if="$S/data-disk.img" bs=1M skip=1 count=16 status=none | sha256sum | cut -c1-64)
	qemu_swtpm_start "$S/tpm" || { problem "swtpm did not start"; RC=255; return; }
	qemu_disks_clear
	qemu_disk "$SYSTEM" ro system
	qemu_disk "$S/data-disk.img" "" data
	[ -z "${BOOT_DISK:-}" ] || qemu_disk "${BOOT_DISK%:*}" ro "${BOOT_DISK##*:}"
	[ -z "${ESCROW:-}" ] || qemu_disk "$ESCROW" "" escrow
	# A reboot keeps the machine's UEFI variables (the failure record).
	local -a net=()
	local answers=""
	if [ -n "${NO_KEY:-}" ]; then
		answers=$S/answers
		printf 'Recovery key\t\n%.0s' 1 2 3 >"$answers"
	fi
	[ -z "${NET:-}" ] || net=(-netdev user,id=n0 -device "virtio-net-pci,netdev=n0,mac=$NET_MAC,romfile=")
	QEMU_SERIAL_ANSWERS=$answers QEMU_UEFI_VARS=${again:+$BOOT_VARS} \
		qemu_start "$ARCH" "$KDIR/vmlinuz" "$INITRD" "$CMDLINE_BASE${extra:+ $extra}" "$LOG" "${net[@]}"
	BOOT_VARS=$QEMU_UEFI_VARS_COPY
	RC=0
	if [ -n "${CUT_AT:-}" ]; then
		# A power cut: QEMU ends (SIGTERM, no guest shutdown) as soon as
		# the console shows CUT_AT.
		if qemu_expect "$LOG" "$CUT_AT"; then
			_qemu_stop_pid "$QEMU_PID"
			CUT=yes
		else
			CUT=no
		fi
	fi
	qemu_wait || RC=$?
	sed -i 's/\r$//' "$LOG"
	qemu_swtpm_stop "${QEMU_SWTPM_PIDS[-1]}"
	HDR_AFTER=$(dd if="$S/data-disk.img" bs=1M skip=1 count=16 status=none | sha256sum | cut -c1-64)
}

expect_unlocked() {
	local v want p
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "FAILED: $(grep -a '^sealinit: FAILED' "$LOG" | head -n1)" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "guest-init did not finish" qemu_grep "$LOG" 'SEALINIT-TEST: done'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	chk "marker '$v', want '${WANT_MARKER:-$BASE_MARKER}' (written by the booted system, read through dm-crypt)" \
		[ "$v" = "${WANT_MARKER:-$BASE_MARKER}" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: data-mount')
	chk "the data volume is at '$v', want /var/lib/docker (the board's mount=)" [ "$v" = /var/lib/docker ]
	want=$(predict_pcr "${EVENTS[@]}" sealinit:cap)
	chk "predict's PCR 15 $PREDICTED is not the replay of its events $want" [ "$want" = "$PREDICTED" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr15' | tr 'A-F' 'a-f')
	chk "PCR 15 is $v, want $want (predict's events, then the cap)" [ "$v" = "$want" ]
	expect_capped
	for p in 4 7 9; do
		[ "$PCRS" != 15 ] || break
		grep -q "^pcr$p=" "$REL/expect.pcrs" || problem "predict gave no PCR $p"
	done
}

# A refused boot: the failure policy (reboot, after failure_delay) ended
# QEMU (-no-reboot), one FAILED line matching CAUSE_RE, no key released,
# the header unchanged.
expect_refused() {
	local line
	chk "qemu exit $RC, want 0 (the failure policy's reboot; 124: timeout)" [ "$RC" = 0 ]
	line=$(grep -a '^sealinit: FAILED: ' "$LOG" | head -n1)
	chk "no FAILED line" [ -n "$line" ]
	[ -z "$line" ] || echo "$line" | grep -qE -- "$1" || problem "FAILED line does not name /$1/: '$line'"
	chk "the failure policy did not reboot" qemu_grep "$LOG" 'failure policy: reboot'
	chk "a key was released" not qemu_grep "$LOG" 'sealinit: (unsealed with token|unlocked /dev)'
	chk "the real init ran" not qemu_grep "$LOG" 'SEALINIT-TEST: '
	chk "the LUKS2 header changed" [ "$HDR_BEFORE" = "$HDR_AFTER" ]
	# The recovery prompt, when it came, was answered (NO_KEY): three
	# empty lines, each refused.
	if qemu_grep "$LOG" 'Recovery key for the data volume'; then
		chk "the recovery prompt came, and was not answered (NO_KEY=1 on this boot?)" \
			[ "$(grep -ac '^sealinit: recovery: nothing typed$' "$LOG")" = 3 ]
	fi
}

# escrowed_key WHERE UUID: the recovery key of volume UUID, from the
# escrow medium's partition (WHERE a disk image) or the fleet server's
# copy (WHERE its escrow directory), opened with the fleet's escrow key
# (what the recovery desk runs); empty when it is not there.
escrowed_key() {
	if [ -d "$1" ]; then
		"$HOSTBIN" escrow-open --key "$W/fleet-escrow-key.pem" "$1/$2.json" 2>/dev/null
		return
	fi
	dd if="$1" of="$1.part" bs=1M skip=1 count=4 status=none 2>/dev/null &&
		"$HOSTBIN" escrow-open --key "$W/fleet-escrow-key.pem" "$1.part" "$2" 2>/dev/null
}
# data_uuid DISK: the UUID of the LUKS2 volume in the data disk's partition.
data_uuid() {
	dd if="$1" of="$1.hdr" bs=1M skip=1 count=16 status=none 2>/dev/null &&
		cryptsetup luksUUID "$1.hdr" 2>/dev/null
}
# opens_with DISK KEY: the recovery key opens the volume (its header copy).
opens_with() {
	dd if="$1" of="$1.hdr" bs=1M skip=1 count=16 status=none 2>/dev/null &&
		printf '%s' "$2" | cryptsetup open --test-passphrase --key-file - "$1.hdr" >/dev/null 2>&1
}

# Two devices from one image and one signature file per release.
fleet_scenario() {
	local bm ua ub ka kb
	# Device B: flashed from the same image as A; its first boot makes its
	# own volume, record and escrow, its second unlocks by the TPM alone.
	device "$W/devB" || { problem "sfdisk: device B"; return; }
	DEV_TPM=$W/devB/tpm DEV_DATA=$W/devB/data-disk.img ESCROW=$W/escrow.img boot fleet-b ""
	expect_provisioned "$W/escrow.img"
	bm=$(qemu_value "$LOG" 'SEALINIT-TEST: marker-written')
	ESCROW=$W/escrow.img boot fleet-b "" again
	WANT_MARKER=$bm expect_unlocked
	chk "device B's second boot provisioned again" not qemu_grep "$LOG" '^sealinit: provision'
	rm -rf "$W/devB/tpm"
	cp -a "$S/tpm" "$W/devB/tpm"
	cp --sparse=always "$S/data-disk.img" "$W/devB/data-disk.img"
	# Where each device's secret went: one medium holds both escrows,
	# each opens its own volume and not the other's.
	ua=$(data_uuid "$W/data-enrolled-disk.img") ub=$(data_uuid "$W/devB/data-disk.img")
	chk "A and B have the same volume UUID '$ua'" [ -n "$ua" ] && [ "$ua" != "$ub" ]
	ka=$(escrowed_key "$W/escrow.img" "$ua") kb=$(escrowed_key "$W/escrow.img" "$ub")
	chk "no escrowed key for A ($ua) or B ($ub) on the medium" [ ${#ka} = 71 ] && [ ${#kb} = 71 ]
	chk "A's escrowed key does not open A's volume" opens_with "$W/data-enrolled-disk.img" "$ka"
	chk "B's escrowed key does not open B's volume" opens_with "$W/devB/data-disk.img" "$kb"
	chk "A's escrowed key opens B's volume" not opens_with "$W/devB/data-disk.img" "$ka"
	# The models partition of A moved into B: refused, nothing activated.
	NO_KEY=1 DEV_TPM=$W/devB/tpm DEV_DATA=$W/data-enrolled-disk.img boot fleet-moved "$FAST"
	expect_refused 'storage key|not the volume|device record|record'
	# One signed update, the same for both: a new root, a new initramfs,
	# one new signature file; no step on either device.
	ROOTFS_ADD="$W/fleet-pcr-pub.pem:/etc/release-2" SEALINIT=$W/build-target/sealinit \
		timeout 600 "$REPO/tests/qemu/mkimages.sh" "$W/img2" "$ARCH" >"$W/mkimages2.log" 2>&1 ||
		{ problem "mkimages for release 2: $(tail -n 2 "$W/mkimages2.log")"; return; }
	release r2 "$W/img2" || { problem "release 2: $PREP_ERR"; return; }
	chk "release 2 has the root hash of release 1" not grep -q "roothash=$ROOTHASH" "$W/r1/sealinit.conf"
	boot fleet-update-a ""
	expect_unlocked
	DEV_TPM=$W/devB/tpm DEV_DATA=$W/devB/data-disk.img boot fleet-update-b ""
	WANT_MARKER=$bm expect_unlocked
	# Back to release 1 for the scenarios after this one.
	use_release r1
}

# The rogue volume: on device A's own TPM, in another PCR state (after a
# reset, as from a USB boot), the attacker seals a key of their own to the
# genuine token's public policy (the fleet key, its PCRs, the counter) and
# puts it on a volume of their own. The genuine boot unseals it; the
# record refuses the volume before it is activated.
rogue_scenario() {
	local d=$W/attacker out
	mkdir -p "$d"
	rm -rf "$d/tpm"
	cp -a "$W/tpm-enrolled" "$d/tpm"
	truncate -s 64M "$d/rogue.img"
	printf 'attacker-passphrase' >"$d/key"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$d/key" "$d/rogue.img" >/dev/null 2>&1 || { problem "luksFormat of the rogue volume"; return; }
	qemu_swtpm_tcp "$d/tpm" || { problem "swtpm for the attacker"; return; }
	out=$(timeout 60 "$HOSTBIN" enroll "$d/rogue.img" --key-file "$d/key" \
		--public-key "$W/fleet-pcr-pub.pem" --public-key-pcrs "$PCRS" --pcrs "" --counter \
		--uncapped-pcrs 2>&1)
	local rc=$?
	qemu_swtpm_stop
	rm -f "$d/tpm/swtpm-tcp.log" "$d/tpm/.lock"
	[ $rc = 0 ] || { problem "the attacker's enroll: $out"; return; }
	gpt_disk "$d/data-disk.img" "$DATA_PART:$d/rogue.img" || { problem "sfdisk: the rogue disk"; return; }
	# Under UEFI the EFI stub measures the whole command line (PCR 9): the
	# genuine one, so that only the volume differs.
	NO_KEY=1 DEV_TPM=$d/tpm DEV_DATA=$d/data-disk.img boot rogue "$([ "$PCRS" = 15 ] && echo "${FAST# }")"
	expect_refused 'not the volume|device record|fixate|volume key'
	chk "the attacker's token did not unseal: the attack was not tried" \
		qemu_grep "$LOG" 'volume key'
}

# The fleet server as the escrow (aarch64): the reference server of the
# legacy API, a release whose configuration says escrow=server, and one
# device. The control is the second boot, where the server takes it.
NET_MAC=52:54:00:5e:a1:02
server_scenario() {
	local L=$W/legacy api uuid v
	mkdir -p "$L"
	bash "$REPO/tests/legacy-server/mkcerts.sh" "$L/pki" >"$L/mkcerts.log" 2>&1 ||
		{ problem "mkcerts: $(tail -n 2 "$L/mkcerts.log")"; return; }
	printf 'fleet device password\n' >"$L/password"
	printf 'email=device-s@example.test\npassword=fleet device password\n' >"$L/cred"
	chmod 600 "$L/cred"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$L/resource"
	/usr/bin/python3 "$REPO/tests/legacy-server/provision.py" "$L/state" --email device-s@example.test \
		--password-file "$L/password" --fingerprint "mac:eth0=$NET_MAC" --salt s \
		--resource data --secret-file "$L/resource" >/dev/null 2>"$L/provision.err" ||
		{ problem "the server's state: $(tail -n 2 "$L/provision.err")"; return; }
	echo escrow-403 >"$L/mode"
	/usr/bin/python3 "$REPO/tests/legacy-server/server.py" --state "$L/state" \
		--cert "$L/pki/server.pem" --key "$L/pki/server.key" --mode-file "$L/mode" \
		--log "$L/server.log" --ready-file "$L/ready" 2>>"$L/server.err" &
	QEMU_HELPER_PIDS+=($!)
	for _ in $(seq 200); do [ -s "$L/ready" ] && break; sleep 0.025; done
	api=$(sed -n 's/^api_port=//p' "$L/ready" 2>/dev/null)
	[ -n "$api" ] || { problem "the server did not start: $(tail -n 2 "$L/server.err")"; return; }
	# The release: the board's configuration, the escrow to the server
	# with what its login needs, the TPM as the only key source.
	REL_CONF="escrow=server
keysources=tpm2
ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off
legacy_api=https://api.legacy.test:$api
legacy_resolve=api.legacy.test:$api:10.0.2.2
legacy_ca=/etc/sealinit/legacy-ca.pem
legacy_fingerprint=mac:eth0
legacy_credentials=/etc/sealinit/legacy.cred" \
	REL_FILES="$L/pki/ca.pem:/etc/sealinit/legacy-ca.pem $L/cred:/etc/sealinit/legacy.cred" \
	REL_MODS=virtio_net release r-server "$W/img" || { problem "the release: $PREP_ERR"; use_release r1; return; }
	device "$W/devS" || { problem "sfdisk: device S"; use_release r1; return; }
	# 1. The server refuses the escrow: no volume is made, the partition
	# stays blank, and the boot fails naming the escrow.
	NET=1 DEV_TPM=$W/devS/tpm DEV_DATA=$W/devS/data-disk.img boot server "$FAST"
	expect_refused 'escrow=server'
	v=$(dd if="$S/data-disk.img" bs=1M skip=1 count=64 status=none | tr -d '\0' | wc -c)
	chk "the escrow was refused, and $v bytes of the partition are not zero" [ "$v" = 0 ]
	chk "the server did not see the escrow refused" grep -q '^api POST /v1/devices/escrow 403$' "$L/server.log"
	# 2. The server takes it: the next boot provisions, and the document
	# it keeps opens the volume with the escrow key.
	: >"$L/mode"
	NET=1 boot server "" again
	expect_provisioned "$L/state/escrow"
	uuid=$(data_uuid "$S/data-disk.img")
	v=$(cryptsetup luksDump --dump-json-metadata "$S/data-disk.img.hdr" 2>/dev/null |
		jq -r '.tokens[] | select(.type == "sealinit-escrow") | .to')
	chk "the header's escrow token says the key went to '$v', want server" [ "$v" = server ]
	v=$(cat "$L/state/escrow/$uuid.sender" 2>/dev/null)
	chk "the server's record of the sender is '$v'" [ "${v%% *}" = device-s@example.test ]
	use_release r1
}

# Power cuts during the first boot: at each step, QEMU ends (no shutdown);
# the next boot provisions again or boots the complete volume, and reads
# back the marker its booted system then wrote.
cut_scenario() {
	local step n=0 m m0
	for step in 'making the file system' 'writing the header onto the partition' 'reading the volume back'; do
		n=$((n + 1))
		device "$W/devC$n" || { problem "sfdisk: device C$n"; return; }
		escrow_medium "$W/escrowC$n.img" || { problem "sfdisk: escrow C$n"; return; }
		CUT_AT="^sealinit: provision: $step" DEV_TPM=$W/devC$n/tpm DEV_DATA=$W/devC$n/data-disk.img \
			ESCROW=$W/escrowC$n.img boot cut$n ""
		chk "cut $n: the boot never reached '$step'" [ "$CUT" = yes ]
		# On a loaded machine the cut may land after the guest got
		# further, even after its booted system marked the volume:
		# then the next boot must read that marker back.
		m0=$(qemu_value "$LOG" 'SEALINIT-TEST: marker-written')
		ESCROW=$W/escrowC$n.img boot cut$n "" again
		chk "after a cut at '$step': FAILED: $(grep -a '^sealinit: FAILED' "$LOG" | head -n1)" \
			not qemu_grep "$LOG" '^sealinit: FAILED'
		m=$(qemu_value "$LOG" 'SEALINIT-TEST: marker-written')
		if [ -n "$m0" ]; then
			echo "info  $ARCH: cut at '$step' landed after the booted system wrote its marker"
			m=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
			chk "after a late cut at '$step': marker '$m', want '$m0' (written before the cut)" [ "$m" = "$m0" ]
		fi
		chk "after a cut at '$step': the booted system found no empty volume to mark" [ -n "$m" ]
		chk "after a cut at '$step': not unlocked by the TPM" \
			qemu_grep "$LOG" 'SEALINIT-TEST: unlock-record: source=tpm2'
		echo "info  $ARCH: cut at '$step': the next boot $(qemu_grep "$LOG" '^sealinit: provisioned ' && echo "provisioned again" || echo "unlocked the complete volume")"
	done
}

# Both arches: one child each, side by side (2 cores: one TCG guest each).
if [ "$ARCHES" != aarch64 ] && [ "$ARCHES" != x86_64 ]; then
	qemu_arch_children "$0" "$ARCHES" "${WANT[@]}"
	finish
fi

for arch in $ARCHES; do
	set_arch "$arch"
	if ! qemu_need "$ARCH"; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL  $ARCH prod: qemu or its firmware is missing (CI=true: a failure, not a skip)"
			NFAIL=$((NFAIL + 1))
		else
			echo "SKIP  $ARCH prod: qemu or its firmware cannot be installed"
			NSKIP=$((NSKIP + 1))
		fi
		continue
	fi
	t0=$EPOCHREALTIME
	if ! prep || ! release r1 "$W/img" || ! provision_first; then
		echo "FAIL  $ARCH prod: preparation: $PREP_ERR"
		NFAIL=$((NFAIL + 1)) QEMU_KEEP=1
		continue
	fi
	echo "info  $ARCH: built, signed and provisioned for PCRs $PCRS in $(qemu_elapsed "$t0" "$EPOCHREALTIME") s"
	for s in "${WANT[@]}"; do
		case $s in
		happy)
			boot happy ""
			expect_unlocked
			verdict happy ;;
		loglevel)
			NO_KEY=1 boot loglevel "sealinit.loglevel=7$FAST"
			chk "loglevel 7 did not take effect (no debug line)" qemu_grep "$LOG" '^sealinit: real init '
			if [ "$PCRS" = 15 ]; then
				expect_unlocked
			else
				# Under UEFI the EFI stub measures the whole command line
				# into PCR 9, debug words included: sealinit's own events
				# are unchanged, and the firmware's PCR 9 refuses.
				expect_refused 'PCR policy mismatch|no signed PCR policy for the current PCR values'
				mapfile -t got < <(grep -a '^sealinit: measured .* into PCR 15$' "$LOG" |
					sed 's/^sealinit: measured //; s/ into PCR 15$//')
				chk "the boot measured '${got[*]:0:1}...', not predict's events without the debug word" \
					[ "${got[*]}" = "${EVENTS[*]}" ]
			fi
			verdict loglevel ;;
		blacklist)
			[ "$ARCH" = aarch64 ] || continue   # tpm_tis is built into the amd64 kernel
			boot blacklist "module_blacklist=tpm_tis$FAST"
			expect_refused 'module_blacklist'
			verdict blacklist ;;
		timeout)
			boot timeout "sealinit.device_timeout=1$FAST"
			expect_refused 'device_timeout'
			if [ "$QEMU_FIRMWARE" = uefi ]; then
				# The shipped x86_64 image keeps the failure in an EFI
				# variable: the next, genuine boot prints it and the
				# booted system reads it.
				boot timeout "" again
				expect_unlocked
				chk "the next boot did not print the previous failure" \
					qemu_grep "$LOG" '^sealinit: the previous boot failed .*device_timeout'
				chk "last-failure on the booted system did not read it" \
					qemu_grep "$LOG" 'SEALINIT-TEST: last-failure: .*device_timeout'
			fi
			verdict timeout ;;
		env)
			# The words change the measured command line, so the TPM
			# refuses; before it does, nothing of them may act.
			NO_KEY=1 boot env "SSLKEYLOGFILE=/dev/console TSS2_LOG=all+TRACE$FAST"
			expect_refused 'PCR policy mismatch|no signed PCR policy for the current PCR values'
			chk "the kernel's TSS2_LOG reached the TSS (trace lines on the console)" \
				not qemu_grep "$LOG" '^(trace|debug|info|WARNING|ERROR):[a-z_]+:'
			verdict env ;;
		reseal)
			# x86_64, where the firmware's PCRs are the point: the
			# booted system reseals (as after a recovery boot) from both
			# event logs; the shortcut, PCR 15 alone, is refused.
			[ "$PCRS" != 15 ] || continue
			# The recovery key as the desk gets it: from the escrow.
			v=$(escrowed_key "$W/escrow.img" "$(data_uuid "$W/data-enrolled-disk.img")")
			[ ${#v} = 71 ] || { problem "no escrowed recovery key for device A"; verdict reseal; continue; }
			echo "$v" >"$W/reseal-key.img"
			truncate -s 1M "$W/reseal-key.img"
			BOOT_DISK="$W/reseal-key.img:reseal-prod" boot reseal ""
			expect_unlocked
			# The shortcut keeps the signed 4+7+9+15: a provisioned
			# token is signed, and reseal keeps its key, PCRs and counter.
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: reseal15-exit')
			chk "reseal --pcrs 15 exited '$v', want 0" [ "$v" = 0 ]
			chk "reseal --pcrs 15 did not keep the signed PCRs 4+7+9+15" \
				qemu_grep "$LOG" 'reseal15-output: .*signed PCRs 4\+7\+9\+15'
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: reseal-exit')
			chk "reseal exited '$v', want 0: $(grep -a 'reseal-output' "$LOG" | tail -n 3 | tr '\n' ' ')" [ "$v" = 0 ]
			dd if="$S/data-disk.img" of="$S/part-header.img" bs=1M skip=1 count=16 status=none
			v=$(cryptsetup luksDump --dump-json-metadata "$S/part-header.img" 2>/dev/null |
				/usr/bin/python3 -c 'import json,sys; t=[v for v in json.load(sys.stdin)["tokens"].values() if v["type"]=="systemd-tpm2"]; print(";".join("+".join(map(str,x.get("tpm2_pubkey_pcrs") or x["tpm2-pcrs"])) for x in t))')
			chk "after reseal the tokens bind '$v', want one token on 4+7+9+15" [ "$v" = "4+7+9+15" ]
			# The reboot into the same state: the new token opens.
			BOOT_DISK="" boot reseal "" again
			expect_unlocked
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: unlock-record: source')
			chk "the reboot unlocked by '$v', want tpm2 (the resealed token)" [ "$v" = tpm2 ]
			verdict reseal ;;
		fleet)
			fleet_scenario
			verdict fleet ;;
		rogue)
			rogue_scenario
			verdict rogue ;;
		server)
			[ "$ARCH" = aarch64 ] || continue   # the same C on x86_64; one arch's boots suffice
			server_scenario
			verdict server ;;
		cut)
			cut_scenario
			verdict cut ;;
		smuggle)
			# A word the configuration leaves out of the measurement
			# (Jetson: L4T's bl_prof_dataptr) joined by a vertical tab
			# to a word the real init reads: the kernel splits there.
			boot smuggle "bl_prof_dataptr=0x1"$'\v'"systemd.unit=rescue.target$FAST"
			expect_refused 'byte 0x0b at offset'
			verdict smuggle ;;
		esac
	done
done
finish
