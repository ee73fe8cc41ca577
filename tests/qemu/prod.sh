#!/bin/bash
# SPDX-License-Identifier: MIT
# The Jetson production configuration, built as a user builds it, booted
# under QEMU aarch64 with swtpm; the attacks on the shipped defaults, each
# beside its control.
#
#   tests/qemu/prod.sh [SCENARIO...]
#
# What "as a user builds it" means here, step by step:
#   make jetson_orin_nano_defconfig; make            (cross, as pinned)
#   the same defconfig built for the host            (sealinit predict)
#   board/jetson-orin-nano/sealinit.conf with the root hash filled in
#   make initramfs
# and the only departures, because this is a QEMU virt machine and not an
# Orin Nano: the initramfs also carries the machine's drivers (virtio,
# tpm_tis, the arm64 AES modules), and tpm_tis takes the place of
# tpm_ftpm_tee as the module loaded after tee_supplicant= (no Debian kernel
# builds tpm_ftpm_tee; the configured supplicant is absent and its start
# fails, as on a board that lacks it). The disks carry GPT partitions named
# as the board configuration names them: APP and APP_verity on the first
# disk, models on the second.
#
# Scenarios (default: all):
#   happy       the shipped configuration unlocks by the TPM: the data volume
#               at /var/lib/docker, PCR 15 equal to the replay of predict's
#               events and the cap, unsealing again refused (exit 4)
#   loglevel    the same boot with sealinit.loglevel=7 added (what an
#               engineer debugging a device does): still unlocks, because
#               lockdown-allowed keys are not measured
#   blacklist   module_blacklist=tpm_tis (on the device: tpm_ftpm_tee), a
#               kernel argument that keeps the TPM away: refused by name
#               before the TPM is waited for; the header is unchanged
#   timeout     sealinit.device_timeout=1, a lockdown-allowed key that used
#               to make the TPM "absent": refused by name (a locked-down
#               command line may lengthen a wait, never shorten it)
# The control of blacklist and timeout is happy: the same images and
# initramfs with the genuine command line.
#
# Output: one line per scenario, then "N passed, N failed, N skipped".
# Environment: QEMU_KEEP=1 keeps the work directory; BOOT_TIMEOUT (default
# 150; a refused boot waits the board's failure_delay of 30 s) bounds each QEMU run in seconds.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/qemu/lib.sh"

ALL="happy loglevel blacklist timeout"
QEMU_TIMEOUT=${BOOT_TIMEOUT:-150}
ARCH=aarch64
W=$QEMU_WORK
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
sha256_hex() { printf "$(echo "$1" | sed 's/../\\x&/g')" | sha256sum | cut -c1-64; }
sha256_str() { printf '%s' "$1" | sha256sum | cut -c1-64; }
replay() {
	local v=0000000000000000000000000000000000000000000000000000000000000000 e
	for e in "$@"; do v=$(sha256_hex "$v$(sha256_str "$e")"); done
	echo "$v"
}
header_sha() { head -c 16M "$1" | sha256sum | cut -c1-64; }

if ! qemu_need "$ARCH"; then
	[ "${CI:-}" = true ] && { echo "prod.sh: qemu for $ARCH is missing (CI=true: a failure, not a skip)"; NFAIL=1; finish; }
	echo "prod.sh: qemu for $ARCH cannot be installed"; exit 77
fi
command -v sfdisk >/dev/null || "$REPO/scripts/deps.sh" test >/dev/null ||
	{ echo "prod.sh: sfdisk (Debian's fdisk) is missing"; NFAIL=1; finish; }

# --- the build, as a user runs it ---------------------------------------------
prep() {
	local kc=$W/jetson.config kver mods
	(cd "$REPO" && KCONFIG_CONFIG=$kc make -s jetson_orin_nano_defconfig) >"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-arm" all) >>"$W/build.log" 2>&1 &&
		(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-host" CROSS_COMPILE= all) >>"$W/build.log" 2>&1 ||
		{ PREP_ERR="build: $(tail -n 3 "$W/build.log")"; return 1; }
	file -b "$W/build-arm/sealinit" | grep -q 'ARM aarch64' || { PREP_ERR="the defconfig did not cross-build"; return 1; }
	HOSTBIN=$W/build-host/sealinit
	kver=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" "$ARCH") || { PREP_ERR="fetch-kernel failed"; return 1; }
	KDIR=$REPO/build/kernels/$ARCH
	SEALINIT=$W/build-arm/sealinit timeout 600 "$REPO/tests/qemu/mkimages.sh" "$W/img" "$ARCH" \
		>"$W/mkimages.log" 2>&1 || { PREP_ERR="mkimages: $(tail -n 3 "$W/mkimages.log")"; return 1; }
	. "$W/img/images.env"
	# The board's configuration, with what the build writes: the root hash.
	sed "s/^#roothash=<filled in by the build>\$/roothash=$IMG_ROOTHASH/" \
		"$REPO/board/jetson-orin-nano/sealinit.conf" >"$W/sealinit.conf"
	grep -qx "roothash=$IMG_ROOTHASH" "$W/sealinit.conf" ||
		{ PREP_ERR="the board configuration has no '#roothash=<filled in by the build>' line"; return 1; }
	mods=$(sed -n 's/^CONFIG_INITRAMFS_MODULES="\(.*\)"$/\1/p' "$kc")
	(cd "$REPO" && KCONFIG_CONFIG=$kc make -s BUILD="$W/build-arm" initramfs \
		CONFIG_BOOT_CONFIG="\"$W/sealinit.conf\"" \
		CONFIG_INITRAMFS_MODULES="\"$mods virtio_pci virtio_blk xts ecb aes_ce_blk\"" \
		CONFIG_INITRAMFS_LATE_MODULES='"tpm_tis"') >"$W/initramfs.log" 2>&1 ||
		{ PREP_ERR="make initramfs: $(tail -n 3 "$W/initramfs.log")"; return 1; }
	INITRD=$W/build-arm/initramfs.cpio.gz
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

# The command line the device's boot loader passes (no sealinit.* word, no
# roothash=: the locked-down build takes it from the configuration).
CMDLINE_BASE="root=PARTLABEL=APP rw rootwait"
full_cmdline() { echo "$(qemu_console "$ARCH") panic=-1 $CMDLINE_BASE${1:+ $1}"; }

# enroll: predict's events for the happy command line, with the host build
# of the same defconfig; a fresh swtpm state measured as the boot will, and
# the data volume enrolled against it (PCR 15, the Jetson default).
enroll() {
	local out
	out=$(timeout 60 "$HOSTBIN" predict --config "$W/sealinit.conf" --cmdline "$(full_cmdline)" \
		--init "$QEMU_LIB_DIR/guest-init" 2>&1) || { PREP_ERR="predict: $out"; return 1; }
	mapfile -t EVENTS < <(sed -n 's/^15 //p' <<<"$out")
	PREDICTED=$(sed -n 's/^pcr15-capped=//p' <<<"$out")
	[ ${#EVENTS[@]} -ge 4 ] && [ -n "$PREDICTED" ] || { PREP_ERR="predict printed: $out"; return 1; }
	cp --sparse=always "$IMG_DATA" "$W/data-enrolled.img"
	qemu_enroll_events "$HOSTBIN" "$W/tpm-enrolled" "$W/data-enrolled.img" "$IMG_RECOVERY_KEY" \
		"${EVENTS[@]}" 2>"$W/enroll.log" || { PREP_ERR="enroll: $(tail -n 2 "$W/enroll.log")"; return 1; }
	gpt_disk "$W/system.img" "APP:$IMG_ROOTFS" "APP_verity:$IMG_VERITY" ||
		{ PREP_ERR="sfdisk: the system disk"; return 1; }
}

# boot NAME EXTRA: one boot of the production initramfs with the genuine
# command line plus EXTRA; sets LOG, RC and S (the scenario's directory).
boot() {
	local name=$1 extra=$2
	S=$W/$name LOG=$S/serial.log
	mkdir -p "$S"
	cp -a "$W/tpm-enrolled" "$S/tpm"
	gpt_disk "$S/models.img" "models:$W/data-enrolled.img" || { problem "sfdisk: the models disk"; RC=255; return; }
	HDR_BEFORE=$(dd if="$S/models.img" bs=1M skip=1 count=16 status=none | sha256sum | cut -c1-64)
	qemu_swtpm_start "$S/tpm" || { problem "swtpm did not start"; RC=255; return; }
	qemu_disks_clear
	qemu_disk "$W/system.img" ro system
	qemu_disk "$S/models.img" "" models
	qemu_start "$ARCH" "$KDIR/vmlinuz" "$INITRD" "$CMDLINE_BASE${extra:+ $extra}" "$LOG"
	RC=0
	qemu_wait || RC=$?
	sed -i 's/\r$//' "$LOG"
	qemu_swtpm_stop "${QEMU_SWTPM_PIDS[-1]}"
	HDR_AFTER=$(dd if="$S/models.img" bs=1M skip=1 count=16 status=none | sha256sum | cut -c1-64)
}

expect_unlocked() {
	local v want
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "FAILED: $(grep -a '^sealinit: FAILED' "$LOG" | head -n1)" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "guest-init did not finish" qemu_grep "$LOG" 'SEALINIT-TEST: done'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: data-mounted')
	chk "data volume mounted: '$v'" [ "$v" = yes ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	chk "marker '$v', want '$IMG_MARKER' (read through dm-crypt at /var/lib/docker)" [ "$v" = "$IMG_MARKER" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: data-mount')
	chk "the data volume is at '$v', want /var/lib/docker (the board's mount=)" [ "$v" = /var/lib/docker ]
	want=$(replay "${EVENTS[@]}" sealinit:cap)
	chk "predict's PCR 15 $PREDICTED is not the replay of its events $want" [ "$want" = "$PREDICTED" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr15' | tr 'A-F' 'a-f')
	chk "PCR 15 is $v, want $want (predict's events, then the cap)" [ "$v" = "$want" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')
	chk "unsealing again from the booted system exited '$v', want 4 (capped)" [ "$v" = 4 ]
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

t0=$EPOCHREALTIME
if ! prep || ! enroll; then
	echo "FAIL  $ARCH prod: preparation: $PREP_ERR"
	NFAIL=$((NFAIL + 1)) QEMU_KEEP=1
	finish
fi
echo "info  $ARCH: built and enrolled in $(qemu_elapsed "$t0" "$EPOCHREALTIME") s"

for s in "${WANT[@]}"; do
	case $s in
	happy)
		boot happy ""
		expect_unlocked
		verdict happy ;;
	loglevel)
		boot loglevel "sealinit.loglevel=7"
		expect_unlocked
		chk "loglevel 7 did not take effect (no debug timing lines)" qemu_grep "$LOG" 'sealinit: .*(ms|real init)'
		verdict loglevel ;;
	blacklist)
		boot blacklist "module_blacklist=tpm_tis"
		expect_refused 'module_blacklist'
		verdict blacklist ;;
	timeout)
		boot timeout "sealinit.device_timeout=1"
		expect_refused 'device_timeout'
		verdict timeout ;;
	esac
done
finish
