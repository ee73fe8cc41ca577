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
# What "as a user builds it" means here, step by step:
#   make <board>_defconfig; make                     (aarch64: cross, as pinned)
#   the same defconfig built for the host            (sealinit predict)
#   the board's sealinit.conf with the root hash filled in
#   make initramfs
#   x86_64: the firmware PCRs predicted from a reference boot's event log
#   (the same firmware, kernel and command line; another initramfs) with
#   --initrd of the production initramfs, and enroll --expect
# and the only departures, because this is a QEMU machine: the initramfs
# also carries the machine's drivers (virtio; on aarch64 tpm_tis and the
# AES modules), and on aarch64 tpm_tis takes the place of tpm_ftpm_tee as
# the module loaded after tee_supplicant= (no Debian kernel builds
# tpm_ftpm_tee; the configured supplicant is absent and its start fails, as
# on a board that lacks it). The disks carry GPT partitions named as the
# board configurations name them (APP, APP_verity, models on Jetson; root,
# root-verity, data on x86_64).
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
#   reseal      (x86_64) the booted system reseals, as after a recovery boot:
#               `sealinit reseal --pcrs 15' (the shortcut, a token any code
#               after a reset could replay) is refused by name; plain
#               `sealinit reseal', with the configuration the boot left in
#               /run/sealinit and both event logs, binds 4+7+9+15 again,
#               and the reboot into the same state unlocks with that token
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

ALL="happy loglevel blacklist timeout env smuggle reseal"
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
		DEFCONFIG=jetson_orin_nano BOARD=jetson-orin-nano PARTS="APP APP_verity models"
		EXTRA_MODS="virtio_pci virtio_blk xts ecb aes_ce_blk" LATE='"tpm_tis"'
		QEMU_FIRMWARE="" PCRS=15 CMDLINE_BASE="root=PARTLABEL=APP rw rootwait" ;;
	x86_64)
		DEFCONFIG=x86_64_production BOARD=x86_64-server PARTS="root root-verity data"
		EXTRA_MODS="virtio_pci virtio_blk" LATE=""
		QEMU_FIRMWARE=uefi PCRS=4+7+9+15 CMDLINE_BASE="root=PARTLABEL=root ro" ;;
	esac
}

# --- the build, as a user runs it ---------------------------------------------
prep() {
	local kc=$W/defconfig.config kver mods cross="" p
	[ "$ARCH" = aarch64 ] || cross="CROSS_COMPILE="
	(cd "$REPO" && KCONFIG_CONFIG=$kc make -s "${DEFCONFIG}_defconfig") >"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-target" all) >>"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-host" CROSS_COMPILE= all) >>"$W/build.log" 2>&1 ||
		{ PREP_ERR="build: $(tail -n 3 "$W/build.log")"; return 1; }
	case $ARCH in aarch64) p='ARM aarch64' ;; *) p='x86-64' ;; esac
	file -b "$W/build-target/sealinit" | grep -q "$p" || { PREP_ERR="the defconfig did not build for $ARCH"; return 1; }
	HOSTBIN=$W/build-host/sealinit
	kver=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" "$ARCH") || { PREP_ERR="fetch-kernel failed"; return 1; }
	KDIR=$REPO/build/kernels/$ARCH
	SEALINIT=$W/build-target/sealinit timeout 600 "$REPO/tests/qemu/mkimages.sh" "$W/img" "$ARCH" \
		>"$W/mkimages.log" 2>&1 || { PREP_ERR="mkimages: $(tail -n 3 "$W/mkimages.log")"; return 1; }
	. "$W/img/images.env"
	# The board's configuration, with what the build writes: the root hash.
	sed "s/^#roothash=<filled in by the build>\$/roothash=$IMG_ROOTHASH/" \
		"$REPO/board/$BOARD/sealinit.conf" >"$W/sealinit.conf"
	grep -qx "roothash=$IMG_ROOTHASH" "$W/sealinit.conf" ||
		{ PREP_ERR="board/$BOARD/sealinit.conf has no '#roothash=<filled in by the build>' line"; return 1; }
	mods=$(sed -n 's/^CONFIG_INITRAMFS_MODULES="\(.*\)"$/\1/p' "$kc")
	# Values as the .config writes them, quotes included.
	(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-target" $cross initramfs \
		CONFIG_BOOT_CONFIG="\"$W/sealinit.conf\"" \
		CONFIG_INITRAMFS_MODULES="\"$mods $EXTRA_MODS\"" \
		${LATE:+CONFIG_INITRAMFS_LATE_MODULES=$LATE}) >"$W/initramfs.log" 2>&1 ||
		{ PREP_ERR="make initramfs: $(tail -n 3 "$W/initramfs.log")"; return 1; }
	INITRD=$W/build-target/initramfs.cpio.gz
	echo "info  $ARCH: kernel $kver, production initramfs $(($(stat -c %s "$INITRD") >> 10)) KiB"
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
	local d=$W/ref rc=0 sz
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
	head -c "$sz" "$d/out.img" >"$W/ref.log"
	REF_CMDLINE=$(grep -ao 'UEFI: cmdline=\[[^]]*\]' "$d/serial.log" | tail -n1 | sed 's/^UEFI: cmdline=\[//; s/\]$//')
	[ -n "$REF_CMDLINE" ] || { PREP_ERR="reference boot: no command line"; return 1; }
}

# enroll: predict's values for the happy boot, with the host build of the
# same defconfig, and the data volume enrolled to them (the board's PCRs)
# in a fresh swtpm state that the boots then use.
enroll() {
	local out cmdline args=()
	if [ "$QEMU_FIRMWARE" = uefi ]; then
		reference_boot || return 1
		cmdline=$REF_CMDLINE
		args=(--firmware-log "$W/ref.log" --initrd "$INITRD")
	else
		cmdline="$(qemu_console "$ARCH") panic=-1 $CMDLINE_BASE"
	fi
	out=$(timeout 60 "$HOSTBIN" predict --config "$W/sealinit.conf" --cmdline "$cmdline" \
		--init "$QEMU_LIB_DIR/guest-init" "${args[@]}" --pcrs "$PCRS" 2>&1) ||
		{ PREP_ERR="predict: $out"; return 1; }
	mapfile -t EVENTS < <(sed -n 's/^15 //p' <<<"$out")
	PREDICTED=$(sed -n 's/^pcr15-capped=//p' <<<"$out")
	grep -E '^pcr[0-9]+=' <<<"$out" >"$W/expect.pcrs"
	[ ${#EVENTS[@]} -ge 4 ] && [ -n "$PREDICTED" ] || { PREP_ERR="predict printed: $out"; return 1; }
	cp --sparse=always "$IMG_DATA" "$W/data-enrolled.img"
	rm -rf "$W/tpm-enrolled"
	qemu_swtpm_tcp "$W/tpm-enrolled" || { PREP_ERR="swtpm"; return 1; }
	out=$(timeout 60 "$HOSTBIN" enroll "$W/data-enrolled.img" --key-file "$IMG_RECOVERY_KEY" \
		--pcrs "$PCRS" --expect "$W/expect.pcrs" 2>&1)
	local rc=$?
	qemu_swtpm_stop
	rm -f "$W/tpm-enrolled/swtpm-tcp.log" "$W/tpm-enrolled/.lock"
	[ $rc = 0 ] || { PREP_ERR="enroll --expect: $out"; return 1; }
	set -- $PARTS
	gpt_disk "$W/system.img" "$1:$IMG_ROOTFS" "$2:$IMG_VERITY" || { PREP_ERR="sfdisk: the system disk"; return 1; }
	DATA_PART=$3
}

# boot NAME EXTRA [again]: one boot of the production initramfs with the
# genuine command line plus EXTRA; sets LOG, RC and S (the scenario's
# directory). again: the same TPM state and data disk as NAME's last boot
# (a reboot), the log in serial-again.log. BOOT_DISK=FILE:SERIAL attaches
# one more disk.
boot() {
	local name=$1 extra=$2 again=${3:-}
	S=$W/$name LOG=$S/serial${again:+-again}.log
	if [ -z "$again" ]; then
		mkdir -p "$S"
		cp -a "$W/tpm-enrolled" "$S/tpm"
		gpt_disk "$S/data-disk.img" "$DATA_PART:$W/data-enrolled.img" ||
			{ problem "sfdisk: the data disk"; RC=255; return; }
	fi
	HDR_BEFORE=$(dd if="$S/data-disk.img" bs=1M skip=1 count=16 status=none | sha256sum | cut -c1-64)
	qemu_swtpm_start "$S/tpm" || { problem "swtpm did not start"; RC=255; return; }
	qemu_disks_clear
	qemu_disk "$W/system.img" ro system
	qemu_disk "$S/data-disk.img" "" data
	[ -z "${BOOT_DISK:-}" ] || qemu_disk "${BOOT_DISK%:*}" ro "${BOOT_DISK##*:}"
	# A reboot keeps the machine's UEFI variables (the failure record).
	QEMU_UEFI_VARS=${again:+$BOOT_VARS} \
		qemu_start "$ARCH" "$KDIR/vmlinuz" "$INITRD" "$CMDLINE_BASE${extra:+ $extra}" "$LOG"
	BOOT_VARS=$QEMU_UEFI_VARS_COPY
	RC=0
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
	chk "marker '$v', want '$IMG_MARKER' (read through dm-crypt)" [ "$v" = "$IMG_MARKER" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: data-mount')
	chk "the data volume is at '$v', want /var/lib/docker (the board's mount=)" [ "$v" = /var/lib/docker ]
	want=$(predict_pcr "${EVENTS[@]}" sealinit:cap)
	chk "predict's PCR 15 $PREDICTED is not the replay of its events $want" [ "$want" = "$PREDICTED" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr15' | tr 'A-F' 'a-f')
	chk "PCR 15 is $v, want $want (predict's events, then the cap)" [ "$v" = "$want" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')
	chk "unsealing again from the booted system exited '$v', want 4 (capped)" [ "$v" = 4 ]
	for p in 4 7 9; do
		[ "$PCRS" != 15 ] || break
		grep -q "^pcr$p=" "$W/expect.pcrs" || problem "predict gave no PCR $p"
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
	if ! prep || ! enroll; then
		echo "FAIL  $ARCH prod: preparation: $PREP_ERR"
		NFAIL=$((NFAIL + 1)) QEMU_KEEP=1
		continue
	fi
	echo "info  $ARCH: built and enrolled to PCRs $PCRS in $(qemu_elapsed "$t0" "$EPOCHREALTIME") s"
	for s in "${WANT[@]}"; do
		case $s in
		happy)
			boot happy ""
			expect_unlocked
			verdict happy ;;
		loglevel)
			boot loglevel "sealinit.loglevel=7$FAST"
			chk "loglevel 7 did not take effect (no debug line)" qemu_grep "$LOG" '^sealinit: real init '
			if [ "$PCRS" = 15 ]; then
				expect_unlocked
			else
				# Under UEFI the EFI stub measures the whole command line
				# into PCR 9, debug words included: sealinit's own events
				# are unchanged, and the firmware's PCR 9 refuses.
				expect_refused 'PCR policy mismatch'
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
			boot env "SSLKEYLOGFILE=/dev/console TSS2_LOG=all+TRACE$FAST"
			expect_refused 'PCR policy mismatch'
			chk "the kernel's TSS2_LOG reached the TSS (trace lines on the console)" \
				not qemu_grep "$LOG" '^(trace|debug|info|WARNING|ERROR):[a-z_]+:'
			verdict env ;;
		reseal)
			# x86_64, where the firmware's PCRs are the point: the
			# booted system reseals (as after a recovery boot) from both
			# event logs; the shortcut, PCR 15 alone, is refused.
			[ "$PCRS" != 15 ] || continue
			{ cat "$IMG_RECOVERY_KEY"; echo; } >"$W/reseal-key.img"
			truncate -s 1M "$W/reseal-key.img"
			BOOT_DISK="$W/reseal-key.img:reseal-prod" boot reseal ""
			expect_unlocked
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: reseal15-exit')
			chk "reseal --pcrs 15 exited '$v', want 1 (fewer PCRs than pcrs=)" [ "$v" = 1 ]
			chk "reseal --pcrs 15 did not name the PCRs it would drop" \
				qemu_grep "$LOG" 'reseal15-output: .*would not bind PCR 4\+7\+9'
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: reseal-exit')
			chk "reseal exited '$v', want 0: $(grep -a 'reseal-output' "$LOG" | tail -n 3 | tr '\n' ' ')" [ "$v" = 0 ]
			dd if="$S/data-disk.img" of="$S/part-header.img" bs=1M skip=1 count=16 status=none
			v=$(cryptsetup luksDump --dump-json-metadata "$S/part-header.img" 2>/dev/null |
				/usr/bin/python3 -c 'import json,sys; t=[v for v in json.load(sys.stdin)["tokens"].values() if v["type"]=="systemd-tpm2"]; print(";".join("+".join(map(str,x["tpm2-pcrs"])) for x in t))')
			chk "after reseal the tokens bind '$v', want one token on 4+7+9+15" [ "$v" = "4+7+9+15" ]
			# The reboot into the same state: the new token opens.
			BOOT_DISK="" boot reseal "" again
			expect_unlocked
			v=$(qemu_value "$LOG" 'SEALINIT-TEST: unlock-record: source')
			chk "the reboot unlocked by '$v', want tpm2 (the resealed token)" [ "$v" = tpm2 ]
			verdict reseal ;;
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
