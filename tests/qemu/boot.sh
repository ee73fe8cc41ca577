#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end boot tests of sealinit's boot stage (sealinit as /init, PID 1 of
# the initramfs) under QEMU with swtpm, on aarch64 and x86_64.
#
#   tests/qemu/boot.sh [aarch64|x86_64|all] [SCENARIO...]
#
# Scenarios (default: all, on both arches;
# naming scenarios runs exactly those on the chosen arches):
#   happy         enrolled volume, untouched rootfs: the data volume is mounted
#                 in the new root with the marker readable, the event log
#                 (/run/log/systemd/tpm2-measure.log) holds the events
#                 `sealinit predict` computed on the host, PID 1 is the real
#                 init, PCR 15 is their replay, unsealing again fails with
#                 exit 4 (capped), and data.img holds no plaintext marker.
#                 The unlock started before the measurements (its worker:
#                 header, TPM session) and went on only after them
#                 Every unlocking scenario enrolls with predict's events for
#                 its own command line and configuration
#   tags          the same boot, with data= and hashdev= given as UUID=: the
#                 positive control of no-data, and libblkid lookup without udev
#   duplicate-label  the tags boot with a second disk that answers to the
#                 same UUID= (a copy of the data volume, as a USB stick would
#                 carry): refused before any unseal, naming both devices
#   tampered      one byte of /sbin/init's data changed in rootfs.img: dm-verity
#                 fails the read of init, before any key is released; the
#                 unlock's worker, started early, is killed at its gate
#   bad-roothash  the kernel command line pins another root hash: the boot
#                 stage's first read through dm-verity fails, by name
#   pcr-mismatch  the token was enrolled against another root hash
#   no-tpm        no TPM attached: the bounded wait for /dev/tpmrm0 fails
#   no-data       the data disk is not attached: the bounded device wait fails
#   bad-token     token 0's tpm2-pcr-bank rewritten to "md5": malformed token,
#                 and the LUKS2 header (first 16 MiB) is unchanged by the boot
#   cipher-null   the LUKS2 header's data segment rewritten to cipher_null
#                 (checksums recomputed: libcryptsetup loads it, and the real
#                 key still opens it): refused before any unseal, naming the
#                 segment, and the header is unchanged by the boot
#   pin-timeout   token 0's tpm2-pin rewritten to true (a header edit): the
#                 boot asks for a PIN on the console, gives up after
#                 pin_timeout (2 s here) and fails closed, instead of
#                 waiting for a person forever
#   ab-tokens     two roots (A, and B with its own verity tree) and a token
#                 for each on one TPM, both sealed offline with `enroll
#                 --expect` to predict's values: root A opens with token 0,
#                 root B with token 1 after token 0's policy mismatch
#   update        one token bound to a signing key (signed PCR policy): root
#                 A boots with A's signature; root B, with the update's
#                 signature file, boots with the same token
#   bad-signature  the signature file's signature altered: refused by the
#                 TPM, by name, the header unchanged
#   revoke        one token bound to a signing key and the TPM's rollback
#                 counter: after `sealinit revoke', root B with a signature
#                 for the new counter value boots (control); rolling back to
#                 root A with A's signature, made before the revoke, is
#                 refused by name, the header unchanged
#   store-rollback  the TPM's store restored from before a revoke (on Orin
#                 Nano the fTPM's NV is files on a disk; here swtpm's state
#                 directory): root A with a signature for the counter boots,
#                 and the volume's high-water mark holds the counter (read
#                 in the guest); the store is copied; `sealinit revoke'
#                 and root B signed for the new value boot (control: it
#                 unlocks, the mark raised); the copy restored, root A with
#                 its revoked signature satisfies the TPM again (unsealed),
#                 and sealinit refuses after the unlock, naming both values
#                 and the mark's file, the volume unmounted and closed;
#                 root B on the restored store is refused the same way
#   recovery      a recovery keyslot, and a blank TPM: the boot asks for the
#                 recovery key on the console (typed by serial-answer.py),
#                 unlocks with it, and guest-init reseals; the next boot
#                 unlocks by the TPM alone. First the attack: the attacker's
#                 own volume with a recovery token and their key is not
#                 asked for unpinned, and refused pinned (fixate_volume_key)
#   cmdline-init  init=/bin/sh: locked down (lockdown=yes), refused by name
#                 before the TPM is used; the same initramfs with the genuine
#                 command line unlocks (control); not locked down, init= is
#                 measured and the TPM refuses
#   cmdline-override  sealinit.pcrs=, .tcti= and .legacy_api= refused by name
#                 when locked down; not locked down, a harmless-looking
#                 override (the default TCTI spelt out) changes the measured
#                 command line and the TPM refuses
#   debug-keys    locked down (lockdown=yes), enrolled for the command line
#                 without sealinit.loglevel=7: the boot with it, and with
#                 longer sealinit.tpm_timeout= and .device_timeout=, unlocks
#                 (verbosity and waits are never measured); a shorter
#                 sealinit.tpm_timeout= is refused by name before the TPM
#                 is used; the control: another word (rootwait) still
#                 changes the measurement and the TPM refuses
#   kernel-env    SSLKEYLOGFILE=/dev/console TSS2_LOG=all+TRACE on the
#                 command line of a happy boot (enrolled for it): it
#                 unlocks, no TSS trace and no TLS key log line reaches the
#                 console, and the real init's environment is HOME=/ and
#                 TERM=linux only; the control: the same boot without them
#   image-mode    measure=image: the whole root device hashed and measured,
#                 the root mounted without verity, PCR 15 as predicted
#   image-tampered  measure=image with one unused byte of the root changed:
#                 it mounts, but the measurement differs: policy mismatch
#   late-tpm      (aarch64, where tpm_tis is a module) the Jetson ordering:
#                 the TPM driver is a late module, loaded only after the
#                 configured tee_supplicant= program started (a stand-in
#                 here: tee_stand_in) and holds /dev/teepriv0 open; the
#                 boot waits for the TPM and unlocks as in happy
#   tee-store     (aarch64) the fTPM store: tee_storage=LABEL=tee-store, an
#                 ext4 disk (vdd) mounted on /run/sealinit/tee, the
#                 stand-in supplicant started with --fs-parent-path on it,
#                 ready before modules.late; it counts its starts in the
#                 store, and a symlink planted there is not followed on the
#                 boot's mount (nosymfollow; the booted system's mount
#                 without it follows it: the control). The hand-over: after switch_root no process holds
#                 /dev/teepriv0, the store is mounted nowhere, the TPM is
#                 still there, and the booted system (guest-init) mounts
#                 the store and counts its own supplicant's start there; the
#                 next boot finds both counts (the host: 4 after two
#                 boots): what either side writes persists. PCR 15 is as
#                 predicted (expect_measured): the value a fleet signs.
#                 Attacks: the store on ext2, the store naming the data
#                 volume (by its LUKS UUID), and a supplicant that exits
#                 before it opens /dev/teepriv0: each refused by name
#   tee-hang      (aarch64) the supplicant hangs, the boot does not: the
#                 store (as in tee-store) holds the supplicant's first file;
#                 a stand-in that reads it, then lets the TPM appear
#                 (insmod tpm_tis, as the fTPM answers once its store was
#                 read), unlocks (the control); with a FIFO planted there
#                 (nodev does not stop FIFOs) it blocks forever while it
#                 holds /dev/teepriv0, and the boot fails by name when the
#                 TPM wait ends; a stand-in that blocks before it opens
#                 /dev/teepriv0 fails the readiness wait by name. The
#                 figures: sealinit's start to the power-down, against
#                 device_timeout + tpm_timeout (docs/boot.md, "Every wait
#                 is bounded")
#   systemd-plugin  a happy boot of its own image set, whose rootfs also holds
#                 Debian 12's cryptsetup and systemd 254's LUKS2 token plugin
#                 (bookworm-backports), plus a 4th disk enrolled by `sealinit
#                 enroll` to PCRs the boot does not cap: in the booted guest
#                 `cryptsetup open --test-passphrase --token-only` opens it
#                 through systemd's plugin (exit 0), and fails after
#                 `sealinit measure --pcr 16` (non-zero)
#   systemd-signed  the same boot (one boot serves both): a 5th disk whose
#                 token `sealinit enroll --public-key` bound to a signing key
#                 for PCR 16, and the rootfs carries `sealinit sign`'s file
#                 at /etc/systemd/tpm2-pcr-signature.json, where systemd looks
#                 by default: systemd's plugin reads the token as signed for
#                 PCR 16 and opens it (exit 0); after the PCR 16 extend it
#                 fails because no signature approves the new value
# The legacy network fetch, against tests/legacy-server/ on the host's
# 127.0.0.1, which the guest reaches as 10.0.2.2 through QEMU user-mode
# networking (the names are pinned with legacy_resolve, no DNS):
#   legacy        no TPM, keysources=legacy, ip=dhcp (busybox udhcpc): the
#                 fetch unlocks the data volume and the boot switches root;
#                 SSLKEYLOGFILE=/dev/console on its command line writes no
#                 TLS key log line (tests/host/legacy_fetch.sh shows that
#                 the same libcurl writes one when the variable reaches it)
#   legacy-stall  the server accepts and never answers: the boot fails within
#                 the configured deadline, naming it
#   legacy-nonet  no network interface at all: fails within net_timeout
#   legacy-wrongca  the server's certificate is from another CA: TLS fails
#   legacy-cfgpart  the credentials file on an ext4 config partition
#                 (legacy_credentials_dev=) instead of the initramfs: unlocks;
#                 then the same file with mode 0644: refused, naming the mode
#   tpm-only      keysources=tpm2 with the legacy fetch configured and the
#                 network up, and no TPM: fails naming the TPM, and no
#                 request reaches the server
#   legacy-after-mismatch  a TPM, a token sealed to another root, the
#                 legacy fetch configured and the network up: the boot fails
#                 on the policy mismatch, the legacy source is not tried, and
#                 the server sees no request (the network must never unlock
#                 what the TPM refused)
#   tpm-kept-away  a volume with a TPM token, the legacy fetch configured
#                 and the server up, the TPM kept away (module_blacklist=
#                 tpm_tis on aarch64, no TPM on x86_64): refused by name, no
#                 request, header unchanged; controls: the TPM unlock, and a
#                 token-less volume with no TPM unlocking by the network
#   tpm-blacklist  locked down: module_blacklist= of a module of the
#                 initramfs and initcall_blacklist= refused by name; a
#                 blacklist of another module boots
#   late-tpm-cap  (aarch64) tpm_tis loaded by the stand-in supplicant after
#                 a 300 ms TPM wait: the legacy unlock, then the boot's events
#                 and cap, PCR 15 as predicted; with a TPM token the same
#                 boot is refused; with the configured wait, a TPM unlock
#   migrate       boot 1: an un-enrolled volume and a blank TPM, migrate=yes:
#                 unlocked by the network, TPM keyslot enrolled; boot 2, with
#                 no network device and migrate_finish=yes: unlocked by the TPM
#                 alone, legacy keyslot removed (checked on the host). The
#                 config pins cmdline=, and boot 1 seals PCR 15 to the state
#                 it gives (predict's events), not to what it measured
#   replay        an attacker's initramfs extends sealinit's public events
#                 and asks for the key (unlock --test): against a token bound
#                 to PCR 15 alone (direct boot) it gets it, the control of the
#                 attack; under measured UEFI boot (QEMU_FIRMWARE=uefi), a
#                 token migrated to 4+7+9+15 opens the genuine boot and
#                 refuses the attacker's (exit 4)
#   migrate-tampered  the same migrating device booted with a substituted
#                 root (its own verity tree and roothash= on the command
#                 line): refused on the pinned command line before the
#                 network is up; the server sees nothing, the header is
#                 unchanged, no TPM keyslot
#   failure-record  under UEFI (QEMU_FIRMWARE=uefi), the production policy
#                 failure=reboot: boot 1 has no data disk and fails; the
#                 boot stage writes the cause into its EFI variable and
#                 reboots (-no-reboot: QEMU exits). Boot 2, the same
#                 variable store with the data disk: prints the previous
#                 failure (level 4) before it unlocks, and the booted
#                 system's `sealinit last-failure' shows the FAILED line,
#                 with "a boot succeeded since"; it then clears the
#                 record. Boot 3 (the control): nothing is reported, by
#                 the boot stage or by last-failure
# Every failure scenario checks that sealinit printed its FAILED line once
# on the console and once in the kernel log (/dev/kmsg),
# naming the cause, that no key was released, and that the failure policy
# (poweroff) ended QEMU by itself (exit 0, not 124 = timeout).
#
# Output: one line per scenario (PASS/FAIL/SKIP), then
# "N passed, N failed, N skipped". Exit 0 if none failed, 1 otherwise, 77 if
# no requested arch's qemu could be installed.
#
# Environment: QEMU_KEEP=1 keeps the work directory (logs, images);
# BOOT_TIMEOUT (default 90) bounds each QEMU run in seconds; VERBOSE=1 prints
# each failed scenario's serial log tail.
#
# Builds once per arch (images, enrolled TPM state, initramfs) and copies
# data.img and a pristine TPM state directory per scenario, since enrollment
# and every boot mutate them.
#
# Needs: `make` (build/x86_64/sealinit, run on the host to measure and
# enroll) and `make CROSS_COMPILE=aarch64-linux-gnu-` (build/aarch64/sealinit)
# beforehand. Debian packages: those of tests/qemu/lib.sh and mkimages.sh
# (qemu-system-arm/-x86, swtpm, cpio, e2fsprogs for debugfs, cryptsetup-bin).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/qemu/lib.sh"

ALL_SCENARIOS="happy tags duplicate-label tampered bad-roothash pcr-mismatch no-tpm no-data bad-token cipher-null pin-timeout ab-tokens update bad-signature revoke store-rollback recovery cmdline-init cmdline-override debug-keys kernel-env image-mode image-tampered late-tpm tee-store tee-hang systemd-plugin systemd-signed legacy legacy-stall legacy-nonet legacy-wrongca legacy-cfgpart tpm-only legacy-after-mismatch tpm-kept-away tpm-blacklist late-tpm-cap migrate migrate-tampered replay failure-record"
# shellcheck disable=SC2034 # read as DEFAULT_$ARCH
DEFAULT_aarch64=$ALL_SCENARIOS
# shellcheck disable=SC2034
DEFAULT_x86_64=${ALL_SCENARIOS/late-tpm }  # tpm_tis is built into the amd64 kernel
DEFAULT_x86_64=${DEFAULT_x86_64/late-tpm-cap }
DEFAULT_x86_64=${DEFAULT_x86_64/tee-store }
DEFAULT_x86_64=${DEFAULT_x86_64/tee-hang }
QEMU_TIMEOUT=${BOOT_TIMEOUT:-90}
DEV_TIMEOUT_MS=3000          # sealinit.device_timeout for the missing-device scenarios
HOST_SEALINIT=$REPO/build/x86_64/sealinit
VERITY_UUID=5ea1b007-0000-4000-8000-000000000002   # fixed by mkimages.sh
# systemd-plugin: the PCRs of the plugin disk's token. Zero at /init and
# never extended by the boot stage (it caps 15 only): on aarch64 virt no
# firmware measures anything, on x86 SeaBIOS extends PCRs 0-7.
# shellcheck disable=SC2034 # read as PLUGIN_PCRS_$ARCH
PLUGIN_PCRS_aarch64=7+16
# shellcheck disable=SC2034
PLUGIN_PCRS_x86_64=16+23

usage() { awk 'NR > 2 && !/^#/ { exit } NR > 2' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

ARCHES="aarch64 x86_64"
case "${1:-}" in
aarch64|x86_64) ARCHES=$1; shift ;;
all) shift ;;
-h|--help) usage ;;
esac
WANT=("$@")
for s in "${WANT[@]}"; do
	case " $ALL_SCENARIOS " in *" $s "*) ;; *) echo "boot.sh: unknown scenario '$s'" >&2; usage ;; esac
done

T_RUN0=$EPOCHREALTIME
W=$QEMU_WORK
NPASS=0 NFAIL=0 NSKIP=0
RESULTS=()

# --- verdict helpers ----------------------------------------------------------
# Each scenario collects its problems in PROBLEMS; no problem = pass.
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
# chk DESCRIPTION COMMAND...: a problem unless COMMAND succeeds.
chk() { local what=$1; shift; "$@" || problem "$what"; }
not() { ! "$@"; }
verdict() { # verdict ARCH NAME DETAIL
	local line
	if [ ${#PROBLEMS[@]} = 0 ]; then
		NPASS=$((NPASS + 1))
		line="PASS  $1 $2${3:+: $3}"
	else
		NFAIL=$((NFAIL + 1))
		line="FAIL  $1 $2: $(IFS=';'; echo "${PROBLEMS[*]}" | sed 's/;/; /g')"
		QEMU_KEEP=1
		if [ -n "${VERBOSE:-}" ] && [ -f "${LOG:-}" ]; then
			echo "---- $1 $2: last lines of $LOG" >&2
			tail -n 25 "$LOG" | sed 's/^/    /' >&2
		fi
	fi
	echo "$line"
	RESULTS+=("$line")
	PROBLEMS=()
}
skip() { NSKIP=$((NSKIP + 1)); RESULTS+=("SKIP  $1 $2: $3"); echo "SKIP  $1 $2: $3"; }

count() { grep -ac -- "$2" "$1" 2>/dev/null; }
# header_sha IMG: sha256 of a LUKS2 image's header area (its first 16 MiB).
header_sha() { head -c 16M "$1" | sha256sum | cut -c1-64; }   # count LOG REGEX (grep -E not needed)
countE() { grep -acE -- "$2" "$1" 2>/dev/null; }

# The sealinit FAILED line (from the console: "sealinit: FAILED: ...").
failed_line() { grep -aE '^sealinit: FAILED: ' "$1" | head -n1 | sed 's/^sealinit: FAILED: //'; }

# sha256_hex, sha256_str, predict_pcr: tests/qemu/lib.sh.

# --- per-arch preparation -----------------------------------------------------
# Sets A (arch dir), KDIR, IMG_* (images.env), LUKS_UUID; builds:
#   $A/img/               mkimages output (rootfs.img, rootfs.verity, data.img...)
#   $A/tpm-enrolled/      swtpm state with the SRK and PCR 15 measured as at boot
#   $A/data-enrolled.img  data.img with the TPM token (bound to that state)
#   $A/initrd.cpio.gz     sealinit as /init, with $A/sealinit.conf
# enroll_into TPMDIR DATAIMG EVENT...: measure each EVENT into PCR 15 of a
# fresh swtpm state in TPMDIR, then enroll DATAIMG against it (PCR 15).
enroll_into() { qemu_enroll_events "$HOST_SEALINIT" "$1" "$2" "$IMG_RECOVERY_KEY" "${@:3}"; }

# boot_cmdline ARCH APPEND: the kernel command line boot() passes for
# APPEND (qemu_start puts the console and panic= first).
boot_cmdline() {
	echo "$(qemu_console "$1") panic=-1 roothash=${ROOTHASH:-$IMG_ROOTHASH} sealinit.loglevel=7 $2"
}
# predict_boot ARCH APPEND CONF [ROOTFS]: what that boot will measure, by
# `sealinit predict' (the boot stage's own event code, run on the host):
# sets EVENTS (the PCR 15 event strings, in order) and PREDICTED (PCR 15
# after the cap, as predict computes it).
predict_boot() {
	qemu_predict "$HOST_SEALINIT" "$3" "$(boot_cmdline "$1" "$2")" "${4:-}" || return 1
	EVENTS=("${QEMU_EVENTS[@]}") PREDICTED=$QEMU_PREDICTED
}
# enroll_for ARCH APPEND CONF [ROOTFS]: a fresh $S/data.img and $S/tpm,
# enrolled against the state that boot measures (predict_boot).
enroll_for() {
	predict_boot "$@" 2>"$S/enroll.log" &&
	cp --sparse=always "$IMG_DATA" "$S/data.img" &&
	enroll_into "$S/tpm" "$S/data.img" "${EVENTS[@]}" 2>>"$S/enroll.log" ||
		{ problem "enroll failed: $(tail -n 2 "$S/enroll.log")"; return 1; }
}

prepare_arch() {
	local arch=$1 aes kver t0=$EPOCHREALTIME
	A=$W/$arch
	mkdir -p "$A"
	[ -x "$HOST_SEALINIT" ] || { PREP_ERR="no $HOST_SEALINIT: run make"; return 1; }
	[ -x "$REPO/build/$arch/sealinit" ] ||
		{ PREP_ERR="no build/$arch/sealinit: run make${arch/x86_64/}${arch/aarch64/ CROSS_COMPILE=aarch64-linux-gnu-}"; return 1; }
	kver=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" "$arch") || { PREP_ERR="fetch-kernel failed"; return 1; }
	KDIR=$REPO/build/kernels/$arch
	SEALINIT=$REPO/build/$arch/sealinit timeout 600 "$REPO/tests/qemu/mkimages.sh" "$A/img" "$arch" \
		>"$A/mkimages.log" 2>&1 || { PREP_ERR="mkimages failed: $(tail -n 3 "$A/mkimages.log")"; return 1; }
	. "$A/img/images.env"
	LUKS_UUID=$(timeout 60 cryptsetup luksUUID "$IMG_DATA") || { PREP_ERR="luksUUID"; return 1; }
	# The initramfs. failure=poweroff explicitly: a build with a rescue
	# shell would otherwise default to a shell and QEMU would never exit.
	printf '%s\n' root=/dev/vda hashdev=/dev/vdc data=/dev/vdb mount=/var/lib/sealdata \
		pcr=15 pcrs=15 failure=poweroff >"$A/sealinit.conf"
	# The pristine enrolled pair, for the happy boot's measurements;
	# scenarios copy it.
	predict_boot "$arch" "" "$A/sealinit.conf" 2>"$A/enroll.log" ||
		{ PREP_ERR="$(tail -n 2 "$A/enroll.log")"; return 1; }
	A_EVENTS=("${EVENTS[@]}") A_PREDICTED=$PREDICTED
	cp --sparse=always "$IMG_DATA" "$A/data-enrolled.img"
	enroll_into "$A/tpm-enrolled" "$A/data-enrolled.img" "${A_EVENTS[@]}" 2>"$A/enroll.log" ||
		{ PREP_ERR="enroll failed: $(tail -n 2 "$A/enroll.log")"; return 1; }
	case "$arch" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$arch" --sealinit "$REPO/build/$arch/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$A/sealinit.conf" --busybox no --out "$A/initrd.cpio.gz" >"$A/mkinitramfs.log" 2>&1 ||
		{ PREP_ERR="mkinitramfs failed: $(tail -n 3 "$A/mkinitramfs.log")"; return 1; }
	echo "info  $arch: kernel $kver, rootfs $(($(stat -c %s "$IMG_ROOTFS") >> 20)) MiB, root hash ${IMG_ROOTHASH:0:16}..., initramfs $(($(stat -c %s "$A/initrd.cpio.gz") >> 10)) KiB, prepared in $(qemu_elapsed "$t0" "$EPOCHREALTIME") s"
}

# --- one boot -----------------------------------------------------------------
# new_scenario NAME: fresh dir S with a copy of the enrolled data.img and of
# the enrolled TPM state.
new_scenario() {
	S=$A/$1
	rm -rf "$S"
	mkdir -p "$S"
	cp --sparse=always "$A/data-enrolled.img" "$S/data.img"
	cp -a "$A/tpm-enrolled" "$S/tpm"
	LOG=$S/serial.log
	EVENTS=("${A_EVENTS[@]}") PREDICTED=$A_PREDICTED
}
# boot ARCH APPEND [tpm|notpm] DISK...: DISK is FILE:ro|rw:SERIAL. Sets RC
# (QEMU's exit status, 124 = timeout) and DUR (seconds).
boot() {
	local arch=$1 append=$2 withtpm=$3 d f mode serial t0 tpmpid=""
	shift 3
	QEMU_TPM_SOCK=""
	if [ "$withtpm" = tpm ]; then
		qemu_swtpm_start "$S/tpm" || { RC=255; DUR=0; problem "swtpm did not start"; return; }
		tpmpid=${QEMU_SWTPM_PIDS[-1]}
	fi
	qemu_disks_clear
	for d in "$@"; do
		IFS=: read -r f mode serial <<<"$d"
		qemu_disk "$f" "$([ "$mode" = ro ] && echo ro)" "$serial"
	done
	t0=$EPOCHREALTIME
	qemu_start "$arch" "$KDIR/vmlinuz" "${INITRD:-$A/initrd.cpio.gz}" \
		"roothash=${ROOTHASH:-$IMG_ROOTHASH} sealinit.loglevel=7 $append" "$LOG" "${QEMU_EXTRA[@]}"
	RC=0
	qemu_wait || RC=$?
	if [ -n "${QEMU_SERIAL_ANSWERS:-}" ]; then
		# The console's logger ends when QEMU closes the socket.
		local hp=${QEMU_HELPER_PIDS[-1]}
		wait "$hp"
		_qemu_forget QEMU_HELPER_PIDS "$hp"
		rm -f "$LOG.sock"
	fi
	DUR=$(qemu_elapsed "$t0" "$EPOCHREALTIME")
	sed -i 's/\r$//' "$LOG"   # the serial console ends lines with CR LF
	[ -z "$tpmpid" ] || qemu_swtpm_stop "$tpmpid"
	QEMU_TPM_SOCK=""
}
std_disks() { # rootfs data verity, the guest's vda vdb vdc
	echo "${1:-$IMG_ROOTFS}:ro:rootfs" "${2:-$S/data.img}:rw:data" "$IMG_VERITY:ro:verity"
}

# Checks every failure scenario shares: QEMU ended by itself through the
# failure policy, one FAILED line matching CAUSE_RE, no key released.
expect_failure() { # CAUSE_RE
	local n line
	chk "qemu timed out (124): the failure policy did not end the guest" [ "$RC" != 124 ]
	chk "qemu exit $RC, want 0 (poweroff)" [ "$RC" = 0 ]
	n=$(countE "$LOG" '^sealinit: FAILED: ')
	chk "sealinit FAILED line $n times on the console, want once" [ "$n" = 1 ]
	# The same line through /dev/kmsg, echoed by the kernel with a timestamp.
	n=$(countE "$LOG" '^\[ *[0-9.]+\] sealinit: FAILED: ')
	chk "sealinit FAILED line $n times in the kernel log, want once" [ "$n" = 1 ]
	line=$(failed_line "$LOG")
	if [ -n "$line" ]; then
		echo "$line" | grep -qE -- "$1" || problem "FAILED line does not name the cause /$1/: '$line'"
	fi
	chk "no 'failure policy: power off' line" qemu_grep "$LOG" '^sealinit: the data volume stays locked; failure policy: power off'
	chk "the failure policy line is not in the kernel log" \
		qemu_grep "$LOG" '^\[ *[0-9.]+\] sealinit: the data volume stays locked; failure policy: power off'
	chk "the kernel did not power down" qemu_grep "$LOG" 'reboot: Power down'
	chk "a key was released (unsealed/unlocked line)" not qemu_grep "$LOG" 'sealinit: (unsealed with token|unlocked /dev)'
	chk "the real init ran" not qemu_grep "$LOG" 'SEALINIT-TEST: '
	chk "the marker appeared in the log" not grep -aq -- "$IMG_MARKER" "$LOG"
	chk "the kernel panicked" not qemu_grep "$LOG" 'Kernel panic'
	FAILED_LINE=$line
}

# The measurements of an unlocking boot: the event log in the new root is
# CEL-JSON, every predicted event (EVENTS) is in it, in order, with its
# SHA-256 digest, then the cap; PCR 15 equals both the replay of those
# events computed here and what predict said (PREDICTED).
expect_measured() {
	local e want pcr i=0 line got dig
	chk "no /run/log/systemd/tpm2-measure.log in the new root" \
		[ "$(qemu_value "$LOG" 'SEALINIT-TEST: eventlog')" = present ]
	for e in "${EVENTS[@]}" "sealinit:cap"; do
		i=$((i + 1))
		line=$(grep -a 'SEALINIT-TEST: eventlog-line: ' "$LOG" | sed -n "${i}p" | sed 's/^SEALINIT-TEST: eventlog-line: //')
		got=$(/usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["pcr"], r["content_type"], r["digests"][0]["hashAlg"], r["digests"][0]["digest"], r["content"]["string"])' "$line" 2>/dev/null)
		dig=$(sha256_str "$e")
		chk "event log record $i is '${line:0:100}', want PCR 15 sha256 ${dig:0:12}... '${e:0:60}'" \
			[ "$got" = "15 systemd sha256 $dig $e" ]
	done
	want=$(predict_pcr "${EVENTS[@]}" "sealinit:cap")
	chk "predict says PCR 15 ends at $PREDICTED, the replay of its events at $want" [ "$want" = "$PREDICTED" ]
	pcr=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr15' | tr 'A-F' 'a-f')
	chk "PCR 15 is $pcr, want $want (the predicted events, then the cap)" [ "$pcr" = "$want" ]
}

# What the happy path must show (happy and tags).
expect_unlocked() {
	local v want pcr
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "sealinit FAILED: $(failed_line "$LOG")" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "guest-init did not finish" qemu_grep "$LOG" 'SEALINIT-TEST: done'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pid')
	chk "real init pid=$v, want 1" [ "$v" = 1 ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pid1-cmdline')
	chk "PID 1 is '$v', want /sbin/init (guest-init)" grep -q /sbin/init <<<"$v"
	v="$(qemu_value "$LOG" 'SEALINIT-TEST: root') $(qemu_value "$LOG" 'SEALINIT-TEST: root-mode')"
	chk "root is '$v', want the verity mapping read-only" [ "$v" = "/dev/mapper/sealroot ro" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: data-dev')
	chk "data volume on '$v', want /dev/mapper/sealdata" [ "$v" = /dev/mapper/sealdata ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	chk "marker '$v', want '$IMG_MARKER'" [ "$v" = "$IMG_MARKER" ]
	expect_measured
	chk "the event log does not hold the verity measurement" \
		grep -aqF "\"string\":\"sealinit:verity:$IMG_ROOTHASH\"" "$LOG"
	# 4: the PCR policy no longer matches; a signed token's policy (30):
	# no signature approves the capped state.
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')
	chk "unsealing again from the booted system exited '$v', want ${REUNSEAL_WANT:-4} (PCR capped)" \
		[ "$v" = "${REUNSEAL_WANT:-4}" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: kmsg-sealinit-lines')
	chk "no sealinit lines in the kernel log ('$v')" [ "${v:-0}" -gt 0 ]
	v=$(grep -ac -- "$IMG_MARKER" "$S/data.img")
	chk "data.img holds the marker in plaintext ($v hits)" [ "$v" = 0 ]
}

# sealinit's loglevel-7 step timings: "step N ms, ..." on one line.
# line_order LOG FIRST THEN: a line matching FIRST (ERE), and after it one
# matching THEN.
line_order() {
	awk -v a="$2" -v b="$3" '$0 ~ a && !fa { fa = NR } $0 ~ b && fa && NR > fa { ok = 1 } END { exit !ok }' "$1"
}

step_timings() {
	grep -aE '^sealinit: \[ *[0-9.]+\] [^:]+: [0-9.]+ ms$' "$1" |
		sed -E 's/^sealinit: \[ *[0-9.]+\] ([^:]+): ([0-9.]+) ms$/\1 \2 ms/' | paste -sd, - | sed 's/,/, /g'
}
# Seconds from sealinit's start to the kernel's "Power down" (the uptime
# clocks of the two differ by a few ms at most; used for a bound only).
sealinit_start() { grep -aoE '^sealinit: \[ *[0-9.]+\] sealinit .* starting as PID 1' "$1" | grep -oE '[0-9]+\.[0-9]+' | head -n1; }
powerdown_at() { grep -aoE '^\[ *[0-9.]+\] reboot: Power down' "$1" | grep -oE '[0-9]+\.[0-9]+' | head -n1; }

# --- scenarios ----------------------------------------------------------------
sc_happy() {
	local arch=$1 st
	new_scenario happy
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	# The unlock's worker started before the measurements, and its gate
	# opened after them: the order of the lines on the console.
	chk "the unlock did not start early" \
		line_order "$LOG" '^sealinit: tpm2: started early' '^sealinit: measured sealinit:cmdline:'
	chk "the early unlock's split is not after the measurements" \
		line_order "$LOG" '^sealinit: \[ *[0-9.]+\] extend measurements:' '^sealinit: tpm2: before the gate: '
	st=$(step_timings "$LOG")
	echo "info  $arch happy: boot stage steps: $st"
	echo "info  $arch happy: $(grep -aE '^sealinit: tpm2: before the gate: ' "$LOG" | head -n 1 | sed 's/^sealinit: //')"
	echo "info  $arch happy: $(grep -aE '^sealinit: \[ *[0-9.]+\] switch_root' "$LOG" | sed 's/^sealinit: //')"
	echo "info  $arch happy: Run /init at $(grep -aoE '^\[ *[0-9.]+\] Run /init' "$LOG" | grep -oE '[0-9]+\.[0-9]+') s, guest-init at $(qemu_value "$LOG" 'SEALINIT-TEST: uptime') s (guest uptime)"
	grep -a 'SEALINIT-TEST: eventlog-line: ' "$LOG" | sed -E "s/^SEALINIT-TEST: eventlog-line: .*\"string\":\"([^\"]{0,110})[^\"]*\".*/info  $arch happy: tpm2-measure.log: \1/"
	grep -a 'SEALINIT-TEST: reunseal-output: ' "$LOG" | head -n1 | sed "s/^SEALINIT-TEST: reunseal-output: /info  $arch happy: re-unseal in the booted system: /"
	verdict "$arch" happy "marker read in the new root, PCR 15 capped, re-unseal exit 4 (${DUR} s)"
}

sc_tags() {
	local arch=$1 v ap
	new_scenario tags
	ap="sealinit.data=UUID=$LUKS_UUID sealinit.hashdev=UUID=$VERITY_UUID"
	enroll_for "$arch" "$ap" "$A/sealinit.conf" || { verdict "$arch" tags ""; return; }
	# shellcheck disable=SC2046
	boot "$arch" "$ap" tpm $(std_disks)
	expect_unlocked
	chk "the data device was not found by UUID" qemu_grep "$LOG" 'SEALINIT-TEST: data-mounted=yes'
	verdict "$arch" tags "data=UUID=${LUKS_UUID:0:8}... and hashdev=UUID=... resolved by libblkid without udev (${DUR} s)"
}

sc_duplicate_label() {
	local arch=$1
	new_scenario duplicate-label
	cp --sparse=always "$S/data.img" "$S/copy.img"
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.data=UUID=$LUKS_UUID sealinit.hashdev=UUID=$VERITY_UUID" tpm $(std_disks) \
		"$S/copy.img:ro:copy"
	expect_failure "data device UUID=$LUKS_UUID matches more than one device \(/dev/vd[bd], /dev/vd[bd]\)"
	verdict "$arch" duplicate-label "'${FAILED_LINE}' (${DUR} s)"
}

sc_tampered() {
	local arch=$1 blk size off old new n v
	new_scenario tampered
	# /sbin/init's first data block in the image (4 KiB blocks), and a byte
	# inside the file: the boot stage reads init in full before unsealing.
	blk=$(timeout 60 debugfs -R "bmap /sbin/init 0" "$IMG_ROOTFS" 2>/dev/null | tr -dc '0-9')
	size=$(timeout 60 debugfs -R "stat /sbin/init" "$IMG_ROOTFS" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -n1)
	if [ -z "$blk" ] || [ "${blk:-0}" = 0 ] || [ -z "$size" ] || [ "$size" -lt 200 ]; then
		problem "cannot locate /sbin/init's data in rootfs.img (bmap '$blk', size '$size')"
		verdict "$arch" tampered ""
		return
	fi
	off=$((blk * 4096 + 100))
	cp --sparse=always "$IMG_ROOTFS" "$S/rootfs.img"
	old=$(od -An -tu1 -j "$off" -N1 "$S/rootfs.img" | tr -d ' ')
	new=$((old ^ 0x20))
	printf "$(printf '\\%03o' "$new")" | dd of="$S/rootfs.img" bs=1 seek="$off" conv=notrunc status=none
	# Exactly that byte of /sbin/init changed, as the filesystem sees it.
	n=$(cmp -l <(timeout 60 debugfs -R "cat /sbin/init" "$IMG_ROOTFS" 2>/dev/null) \
		<(timeout 60 debugfs -R "cat /sbin/init" "$S/rootfs.img" 2>/dev/null) | wc -l)
	chk "the tampered image differs from the original in $n bytes of /sbin/init, want 1" [ "$n" = 1 ]
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks "$S/rootfs.img")
	expect_failure 'dm-verity|verification'
	# The unlock had started early: its worker was killed at its gate.
	chk "the early unlock was not abandoned at its gate" \
		qemu_grep "$LOG" '^sealinit: tpm2: the early start was abandoned before its gate'
	chk "something was unsealed in a boot that failed before its measurements" \
		not qemu_grep "$LOG" 'unsealed with token|via tpm2'
	v=$(grep -aoE 'device-mapper: verity: [^ ]+: data block [0-9]+ is corrupted' "$LOG" | head -n1)
	verdict "$arch" tampered "byte $off (block $blk of /sbin/init) flipped; '${FAILED_LINE}'${v:+; kernel: $v} (${DUR} s)"
}

sc_bad_roothash() {
	local arch=$1
	new_scenario bad-roothash
	# shellcheck disable=SC2046
	ROOTHASH=$(sha256_str "not the root hash") boot "$arch" "" tpm $(std_disks)
	expect_failure 'dm-verity refused the rootfs'
	verdict "$arch" bad-roothash "'${FAILED_LINE:0:120}...' (${DUR} s)"
}

sc_pcr_mismatch() {
	local arch=$1 other
	new_scenario pcr-mismatch
	# Enrolled against the measurement of another rootfs.
	other=$(sha256_str "some other rootfs")
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	enroll_into "$S/tpm" "$S/data.img" "sealinit:verity:$other" 2>"$S/enroll.log" ||
		{ problem "enroll failed: $(tail -n 1 "$S/enroll.log")"; verdict "$arch" pcr-mismatch ""; return; }
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	verdict "$arch" pcr-mismatch "'${FAILED_LINE}' (${DUR} s)"
}

sc_no_tpm() {
	local arch=$1 t0 t1 dt
	new_scenario no-tpm
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.device_timeout=$DEV_TIMEOUT_MS" notpm $(std_disks)
	expect_failure 'no TPM'
	chk "the FAILED line does not name /dev/tpmrm0" grep -q /dev/tpmrm0 <<<"$FAILED_LINE"
	chk "the FAILED line does not say it waited $DEV_TIMEOUT_MS ms" grep -q "within $DEV_TIMEOUT_MS ms" <<<"$FAILED_LINE"
	# Bounded by device_timeout: sealinit started -> power down.
	t0=$(sealinit_start "$LOG") t1=$(powerdown_at "$LOG")
	if [ -n "$t0" ] && [ -n "$t1" ]; then
		dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		chk "power down ${dt} s after sealinit started: did not wait the device_timeout" \
			awk -v d="$dt" -v t="$DEV_TIMEOUT_MS" 'BEGIN { exit !(d >= t / 1000 - 0.1) }'
		chk "power down ${dt} s after sealinit started: longer than device_timeout + 10 s" \
			awk -v d="$dt" -v t="$DEV_TIMEOUT_MS" 'BEGIN { exit !(d <= t / 1000 + 10) }'
	else
		problem "no sealinit start or power-down timestamp in the log"
	fi
	verdict "$arch" no-tpm "'${FAILED_LINE}'; powered down ${dt:-?} s after sealinit started (${DUR} s)"
}

sc_no_data() {
	local arch=$1
	new_scenario no-data
	# Without the data disk the verity disk becomes vdb, so both are named by
	# UUID here (the tags scenario shows that this lookup works).
	boot "$arch" "sealinit.device_timeout=$DEV_TIMEOUT_MS sealinit.data=UUID=$LUKS_UUID sealinit.hashdev=UUID=$VERITY_UUID" \
		tpm "$IMG_ROOTFS:ro:rootfs" "$IMG_VERITY:ro:verity"
	expect_failure "data device UUID=$LUKS_UUID did not appear within $DEV_TIMEOUT_MS ms"
	chk "no progress lines while waiting for the data device" qemu_grep "$LOG" '^sealinit: waiting for data device'
	verdict "$arch" no-data "'${FAILED_LINE}' (${DUR} s)"
}

# rewrite_token0 ERE REPLACEMENT: edit token 0 of $S/data.img with sed -E,
# as a header edit would; fails unless the edit changed something. Output:
# what went wrong.
rewrite_token0() {
	{
		timeout 60 cryptsetup token export --token-id 0 "$S/data.img" >"$S/token0.json" &&
		cp "$S/token0.json" "$S/token0.orig" &&
		sed -E -i "s/$1/$2/" "$S/token0.json" &&
		! cmp -s "$S/token0.json" "$S/token0.orig" &&
		timeout 60 cryptsetup token remove --token-id 0 "$S/data.img" &&
		timeout 60 cryptsetup --disable-external-tokens token import --token-id 0 "$S/data.img" <"$S/token0.json"
	} 2>&1
}

sc_bad_token() {
	local arch=$1 h0 h1 out
	new_scenario bad-token
	out=$(rewrite_token0 '("tpm2-pcr-bank"[[:space:]]*:[[:space:]]*)"sha256"' '\1"md5"')
	if [ $? != 0 ]; then
		problem "could not rewrite token 0: $out"
		verdict "$arch" bad-token ""
		return
	fi
	h0=$(header_sha "$S/data.img")
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_failure 'malformed token.*tpm2-pcr-bank'
	h1=$(header_sha "$S/data.img")
	chk "the LUKS2 header changed during the boot (sha256 ${h0:0:12}... -> ${h1:0:12}...)" [ "$h0" = "$h1" ]
	verdict "$arch" bad-token "'${FAILED_LINE}'; header sha256 ${h0:0:12}... unchanged (${DUR} s)"
}

sc_cipher_null() {
	local arch=$1 h0 h1 out
	new_scenario cipher-null
	out=$(/usr/bin/python3 "$REPO/tests/lib/luks2-edit.py" "$S/data.img" segment-encryption cipher_null-ecb 2>&1 &&
	      timeout 60 cryptsetup luksDump "$S/data.img" | grep -q 'cipher: cipher_null-ecb' &&
	      timeout 60 cryptsetup open --test-passphrase --key-file "$IMG_RECOVERY_KEY" "$S/data.img" 2>&1)
	if [ $? != 0 ]; then
		problem "could not make the cipher_null header (or it does not open with the key): $out"
		verdict "$arch" cipher-null ""
		return
	fi
	h0=$(header_sha "$S/data.img")
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_failure "segment 0 is encrypted with \`cipher_null-ecb', expected aes-xts-plain64"
	h1=$(header_sha "$S/data.img")
	chk "the LUKS2 header changed during the boot" [ "$h0" = "$h1" ]
	verdict "$arch" cipher-null "'${FAILED_LINE}'; header unchanged (${DUR} s)"
}

sc_pin_timeout() {
	local arch=$1 out
	new_scenario pin-timeout
	out=$(rewrite_token0 '("tpm2-pin"[[:space:]]*:[[:space:]]*)false' '\1true')
	if [ $? != 0 ]; then
		problem "could not rewrite token 0: $out"
		verdict "$arch" pin-timeout ""
		return
	fi
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.pin_timeout=2" tpm $(std_disks)
	expect_failure 'a PIN is required and none was given'
	chk "no prompt naming the bound" qemu_grep "$LOG" 'sealinit: TPM PIN for the data volume \(2 s\)'
	chk "no line naming pin_timeout" qemu_grep "$LOG" '^sealinit: no PIN was typed within 2 s \(pin_timeout\)'
	verdict "$arch" pin-timeout "'${FAILED_LINE}' (${DUR} s)"
}

# --- signed PCR policies: an update without re-enrolling ------------------------
# root_b: $S/rootfs-b.img and $S/rootfs-b.verity, root A with one unused byte
# changed and its own hash tree; ROOT_B is its root hash.
root_b() {
	local out
	cp --sparse=always "$IMG_ROOTFS" "$S/rootfs-b.img"
	printf 'B' | dd of="$S/rootfs-b.img" bs=1 seek=$(($(stat -c %s "$S/rootfs-b.img") - 200)) conv=notrunc status=none
	out=$(timeout 120 veritysetup format "$S/rootfs-b.img" "$S/rootfs-b.verity" 2>&1) ||
		{ problem "veritysetup format: $out"; return 1; }
	ROOT_B=$(sed -n 's/^Root hash:[[:space:]]*//p' <<<"$out")
	[ ${#ROOT_B} = 64 ] && [ "$ROOT_B" != "$IMG_ROOTHASH" ] || { problem "no new root hash for root B"; return 1; }
}
# signed_setup: a signing key, $S/state-a.pcrs and (with root B) state-b,
# and a fresh data.img and TPM state with one token bound to the key for
# PCR 15 (no literal PCR).
signed_setup() {
	local out rc
	out=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$S/key.pem" 2>&1 &&
	      openssl pkey -in "$S/key.pem" -pubout -out "$S/pub.pem" 2>&1) || { problem "openssl: $out"; return 1; }
	out=$(timeout 60 "$HOST_SEALINIT" predict --config "$A/sealinit.conf" --cmdline "$(boot_cmdline "$ARCH" "")" \
		--init "$REPO/tests/qemu/guest-init" 2>&1 >"$S/state-a.pcrs") || { problem "predict A: $out"; return 1; }
	if [ -n "${ROOT_B:-}" ]; then
		out=$(timeout 60 "$HOST_SEALINIT" predict --config "$A/sealinit.conf" \
			--cmdline "$(ROOTHASH=$ROOT_B boot_cmdline "$ARCH" "")" --init "$REPO/tests/qemu/guest-init" \
			2>&1 >"$S/state-b.pcrs") || { problem "predict B: $out"; return 1; }
	fi
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	rm -rf "$S/tpm"
	qemu_swtpm_tcp "$S/tpm" 2>"$S/swtpm.err" &&
	out=$(timeout 60 "$HOST_SEALINIT" enroll "$S/data.img" --key-file "$IMG_RECOVERY_KEY" \
		--public-key "$S/pub.pem" --public-key-pcrs 15 ${SIGNED_COUNTER:+--counter} 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$S/tpm/swtpm-tcp.log" "$S/tpm/.lock"
	[ $rc = 0 ] || { problem "enroll --public-key: ${out:-$(cat "$S/swtpm.err")}"; return 1; }
	COUNTER=$(sed -n 's/.*rollback counter: NV index .*, value \([0-9]*\);.*/\1/p' <<<"$out")
	[ -z "${SIGNED_COUNTER:-}" ] || [ -n "$COUNTER" ] || { problem "enroll --counter printed no value: $out"; return 1; }
}
# sign_state STATE SIGFILE [ARGS]: add STATE's PCR 15 (before the cap) to
# SIGFILE.
sign_state() {
	local out
	out=$(timeout 60 "$HOST_SEALINIT" sign --private-key "$S/key.pem" --pcrs 15 --values "$S/$1.pcrs" \
		--signature "$2" "${@:3}" 2>&1) || { problem "sign $1: $out"; return 1; }
}
# signed_initrd SIGFILE OUT: the happy initramfs with SIGFILE where the boot
# looks for it.
signed_initrd() {
	local aes
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" --sealinit "$REPO/build/$ARCH/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$A/sealinit.conf" --add "$1:/etc/sealinit/tpm2-pcr-signature.json" --busybox no \
		--out "$2" >"$2.log" 2>&1 || { problem "mkinitramfs: $(tail -n 2 "$2.log")"; return 1; }
}

# update: one token bound to a signing key; root A boots with A's signature;
# then the update: root B and a signature file that also approves B's
# state, and root B boots with the same token, nothing re-enrolled.
sc_update() {
	local arch=$1
	new_scenario update
	ROOT_B=""
	root_b && signed_setup && sign_state state-a "$S/sig.json" &&
		cp "$S/sig.json" "$S/sig-a.json" && signed_initrd "$S/sig-a.json" "$S/initrd-a.cpio.gz" ||
		{ verdict "$arch" update ""; return; }
	predict_boot "$arch" "" "$A/sealinit.conf" 2>/dev/null
	local REUNSEAL_WANT=30
	# shellcheck disable=SC2046
	INITRD=$S/initrd-a.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	mv "$LOG" "$S/serial-a.log"
	# The update: B's state signed at build time, into the file B ships.
	sign_state state-b "$S/sig.json" && signed_initrd "$S/sig.json" "$S/initrd-b.cpio.gz" ||
		{ verdict "$arch" update ""; return; }
	local IMG_ROOTFS=$S/rootfs-b.img IMG_VERITY=$S/rootfs-b.verity IMG_ROOTHASH=$ROOT_B
	predict_boot "$arch" "" "$A/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	INITRD=$S/initrd-b.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	chk "root B: not unsealed with token 0, the one enrolled for root A" qemu_grep "$LOG" '^sealinit: unsealed with token 0'
	chk "more than one token on the volume" [ "$(timeout 60 cryptsetup luksDump "$S/data.img" | grep -cE '^  [0-9]+: systemd-tpm2')" = 1 ]
	verdict "$arch" update "one token, signed policy: root A with A's signature, then root B (${ROOT_B:0:12}...) with the update's file, no re-enroll (${DUR} s)"
}

# bad-signature: the same token, a signature file whose signature has one
# character changed: refused by the TPM, by name; the header unchanged.
sc_bad_signature() {
	local arch=$1 h0 h1
	new_scenario bad-signature
	ROOT_B=""
	signed_setup && sign_state state-a "$S/sig.json" || { verdict "$arch" bad-signature ""; return; }
	/usr/bin/python3 - "$S/sig.json" <<'PY' || problem "could not alter the signature"
import json, sys
p = sys.argv[1]
d = json.load(open(p))
s = d["sha256"][0]["sig"]
d["sha256"][0]["sig"] = s[:10] + ("A" if s[10] != "A" else "B") + s[11:]
json.dump(d, open(p, "w"))
PY
	signed_initrd "$S/sig.json" "$S/initrd.cpio.gz" || { verdict "$arch" bad-signature ""; return; }
	h0=$(header_sha "$S/data.img")
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_failure 'PCR policy signature malformed or rejected by the TPM'
	h1=$(header_sha "$S/data.img")
	chk "the LUKS2 header changed during the boot" [ "$h0" = "$h1" ]
	verdict "$arch" bad-signature "'${FAILED_LINE:0:140}'; header unchanged (${DUR} s)"
}

# host_revoke: `sealinit revoke' on the host against the scenario's TPM
# state, as a release that revokes does; the counter must go from COUNTER
# to COUNTER + 1.
host_revoke() {
	local out rc
	qemu_swtpm_tcp "$S/tpm" 2>"$S/swtpm.err" &&
	out=$(timeout 60 "$HOST_SEALINIT" revoke 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$S/tpm/swtpm-tcp.log" "$S/tpm/.lock"
	[ $rc = 0 ] && [[ $out == *": $COUNTER -> $((COUNTER + 1))."* ]] ||
		{ problem "revoke: ${out:-$(cat "$S/swtpm.err")}"; return 1; }
}

# revoke: the token also bound to the TPM's rollback counter. Root A's
# signature is made for the counter's value; then the release that
# revokes it: `sealinit revoke' (run here against the device's TPM state,
# as the updated system would run it) and root B signed for the new value.
# B boots (control: the counter token unlocks after a revoke); A with its
# own, older signature file does not, and the refusal names both values.
# revoke_boot_b ARCH: root B with the signature for the new counter value
# (the image variables are local here, root A's stay for the caller).
revoke_boot_b() {
	local IMG_ROOTFS=$S/rootfs-b.img IMG_VERITY=$S/rootfs-b.verity IMG_ROOTHASH=$ROOT_B
	predict_boot "$1" "" "$A/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	INITRD=$S/initrd-b.cpio.gz boot "$1" "" tpm $(std_disks)
	expect_unlocked
}
sc_revoke() {
	local arch=$1 h0 h1
	new_scenario revoke
	ROOT_B=""
	local SIGNED_COUNTER=1 COUNTER="" REUNSEAL_WANT=30
	root_b && signed_setup && sign_state state-a "$S/sig-a.json" --counter-value "$COUNTER" &&
		signed_initrd "$S/sig-a.json" "$S/initrd-a.cpio.gz" || { verdict "$arch" revoke ""; return; }
	host_revoke || { verdict "$arch" revoke ""; return; }
	sign_state state-b "$S/sig-b.json" --counter-value $((COUNTER + 1)) &&
		signed_initrd "$S/sig-b.json" "$S/initrd-b.cpio.gz" || { verdict "$arch" revoke ""; return; }
	revoke_boot_b "$arch"
	local dur_b=$DUR
	mv "$LOG" "$S/serial-b.log"
	# The rollback: root A and the file it shipped with.
	h0=$(header_sha "$S/data.img")
	# shellcheck disable=SC2046
	INITRD=$S/initrd-a.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_failure 'PCR policy signature revoked'
	chk "the refusal does not name the signature's limit $COUNTER and the counter's $((COUNTER + 1))" \
		qemu_grep "$LOG" "at most $COUNTER; it is $((COUNTER + 1)): revoked"
	h1=$(header_sha "$S/data.img")
	chk "the LUKS2 header changed during the boot" [ "$h0" = "$h1" ]
	verdict "$arch" revoke "after revoke (counter $COUNTER -> $((COUNTER + 1))): root B unlocked (${dur_b} s); root A with its old signature: '${FAILED_LINE:0:120}' (${DUR} s)"
}

# store-rollback: the revoke scenario's device, whose TPM store is restored
# from a copy made before the revoke. The TPM then takes the revoked
# signature; the volume's high-water mark is what refuses it.
# rollback_refused ARCH WHAT: the boot was refused after the unlock, by the
# mark (COUNTER below COUNTER + 1), and nothing reached the real init.
rollback_refused() {
	local n mark=/newroot/var/lib/sealdata/.sealinit/counter-0x01805e00
	chk "$2: qemu exit $RC, want 0 (poweroff; 124: timeout)" [ "$RC" = 0 ]
	chk "$2: the TPM did not take the signature (the attack needs it to)" \
		qemu_grep "$LOG" '^sealinit: unsealed with token 0'
	n=$(countE "$LOG" '^sealinit: FAILED: ')
	chk "$2: sealinit FAILED line $n times on the console, want once" [ "$n" = 1 ]
	FAILED_LINE=$(failed_line "$LOG")
	chk "$2: the FAILED line does not name the counter $COUNTER, the mark $((COUNTER + 1)) and $mark: '$FAILED_LINE'" \
		grep -qF "rollback counter 0x01805e00 is $COUNTER, below the $((COUNTER + 1)) the data volume recorded in $mark: the TPM's store was rolled back" <<<"$FAILED_LINE"
	chk "$2: the FAILED line does not say the volume was closed: '$FAILED_LINE'" \
		grep -qF "the data volume was unmounted and closed" <<<"$FAILED_LINE"
	chk "$2: the failure policy did not power off" qemu_grep "$LOG" 'reboot: Power down'
	chk "$2: the real init ran" not qemu_grep "$LOG" 'SEALINIT-TEST: '
	chk "$2: the marker appeared in the log" not grep -aq -- "$IMG_MARKER" "$LOG"
	chk "$2: the kernel panicked" not qemu_grep "$LOG" 'Kernel panic'
}
# rollback_boot_b ARCH: root B on the restored store (the image variables
# local, as in revoke_boot_b).
rollback_boot_b() {
	local IMG_ROOTFS=$S/rootfs-b.img IMG_VERITY=$S/rootfs-b.verity IMG_ROOTHASH=$ROOT_B
	# shellcheck disable=SC2046
	INITRD=$S/initrd-b.cpio.gz boot "$1" "" tpm $(std_disks)
	rollback_refused "$1" "root B, restored store"
}
sc_store_rollback() {
	local arch=$1 v dur1 dur_b dur_a line_a
	new_scenario store-rollback
	ROOT_B=""
	local SIGNED_COUNTER=1 COUNTER="" REUNSEAL_WANT=30
	root_b && signed_setup && sign_state state-a "$S/sig-a.json" --counter-value "$COUNTER" &&
		signed_initrd "$S/sig-a.json" "$S/initrd-a.cpio.gz" || { verdict "$arch" store-rollback ""; return; }
	# Root A: unlocks, and the boot writes the mark.
	predict_boot "$arch" "" "$A/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	INITRD=$S/initrd-a.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: hwm-0x01805e00')
	chk "root A: the volume's mark is '$v', want $COUNTER" [ "$v" = "$COUNTER" ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: hwm-0x01805e00-mode')
	chk "root A: the mark's mode is '$v', want 600" [ "$v" = 600 ]
	chk "root A: no 'written' line for the mark" qemu_grep "$LOG" "^sealinit: high-water mark .*: $COUNTER \(none before\)"
	dur1=$DUR
	mv "$LOG" "$S/serial-a.log"
	# The attacker's copy of the store, before the revoke.
	rm -f "$S/tpm/.lock"
	cp -a "$S/tpm" "$S/tpm-before"
	# The release that revokes A: the counter raised (on the host, against
	# the device's TPM state), root B signed for the new value.
	host_revoke || { verdict "$arch" store-rollback ""; return; }
	sign_state state-b "$S/sig-b.json" --counter-value $((COUNTER + 1)) &&
		signed_initrd "$S/sig-b.json" "$S/initrd-b.cpio.gz" || { verdict "$arch" store-rollback ""; return; }
	# Control: root B on the current store unlocks, and its boot raises the
	# mark (the booted system's `sealinit revoke' would have, with the
	# volume mounted: tests/host/hwm.sh).
	revoke_boot_b "$arch"
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: hwm-0x01805e00')
	chk "root B: the volume's mark is '$v', want $((COUNTER + 1))" [ "$v" = $((COUNTER + 1)) ]
	chk "root B: no 'raised' line for the mark" \
		qemu_grep "$LOG" "^sealinit: high-water mark .* raised: $COUNTER -> $((COUNTER + 1))"
	dur_b=$DUR
	mv "$LOG" "$S/serial-b.log"
	# The attack: the store from before the revoke, root A and its file.
	rm -rf "$S/tpm" && cp -a "$S/tpm-before" "$S/tpm"
	# shellcheck disable=SC2046
	INITRD=$S/initrd-a.cpio.gz boot "$arch" "" tpm $(std_disks)
	rollback_refused "$arch" "root A, restored store"
	mv "$LOG" "$S/serial-attack-a.log"
	line_a=$FAILED_LINE dur_a=$DUR
	# Root B on the restored store: its own signature is good for the
	# lower counter too, and the mark refuses it the same way.
	rm -rf "$S/tpm" && cp -a "$S/tpm-before" "$S/tpm"
	rollback_boot_b "$arch"
	verdict "$arch" store-rollback "root A unlocked, mark $COUNTER (${dur1} s); revoke, root B unlocked, mark $((COUNTER + 1)) (${dur_b} s); the store restored: root A '${line_a:0:160}...' (${dur_a} s), root B refused the same way (${DUR} s)"
}

# --- A/B: a token per state ---------------------------------------------------
# Two roots, as an A/B update has them (v2: one unused byte changed, its own
# verity tree and root hash), and a token for each state on the same TPM,
# both sealed with `enroll --expect' to what predict says each boot will
# measure, neither to the TPM's current PCRs. Each boot opens the volume:
# A with token 0, B with token 1 after token 0's policy mismatch.
sc_ab_tokens() {
	local arch=$1 out v2 rc
	new_scenario ab-tokens
	root_b || { verdict "$arch" ab-tokens ""; return; }
	v2=$ROOT_B
	# Each state's PCR 15, predicted offline, into one TPM as two tokens.
	out=$(timeout 60 "$HOST_SEALINIT" predict --config "$A/sealinit.conf" --cmdline "$(boot_cmdline "$arch" "")" \
		--init "$REPO/tests/qemu/guest-init" 2>&1 >"$S/state-a.pcrs") &&
	out=$(ROOTHASH=$v2 timeout 60 "$HOST_SEALINIT" predict --config "$A/sealinit.conf" \
		--cmdline "$(ROOTHASH=$v2 boot_cmdline "$arch" "")" --init "$REPO/tests/qemu/guest-init" 2>&1 >"$S/state-b.pcrs") ||
		{ problem "predict: $out"; verdict "$arch" ab-tokens ""; return; }
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	rm -rf "$S/tpm"
	qemu_swtpm_tcp "$S/tpm" 2>"$S/swtpm.err" &&
	out=$(timeout 60 "$HOST_SEALINIT" enroll "$S/data.img" --key-file "$IMG_RECOVERY_KEY" --pcrs 15 --expect "$S/state-a.pcrs" 2>&1 &&
	      timeout 60 "$HOST_SEALINIT" enroll "$S/data.img" --key-file "$IMG_RECOVERY_KEY" --pcrs 15 --expect "$S/state-b.pcrs" 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$S/tpm/swtpm-tcp.log" "$S/tpm/.lock"
	[ $rc = 0 ] || { problem "enroll --expect: ${out:-$(cat "$S/swtpm.err")}"; verdict "$arch" ab-tokens ""; return; }
	# State A.
	predict_boot "$arch" "" "$A/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	chk "state A: not unsealed with token 0" qemu_grep "$LOG" '^sealinit: unsealed with token 0'
	mv "$LOG" "$S/serial-a.log"
	# State B: root B, its hash tree and root hash; the same TPM state and
	# data volume, now with token 0's unseal behind them.
	local IMG_ROOTFS=$S/rootfs-b.img IMG_VERITY=$S/rootfs-b.verity IMG_ROOTHASH=$v2
	predict_boot "$arch" "" "$A/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	chk "state B: not unsealed with token 1" qemu_grep "$LOG" '^sealinit: unsealed with token 1'
	verdict "$arch" ab-tokens "root A opened by token 0, root B (${v2:0:12}...) by token 1, both sealed offline with enroll --expect (${DUR} s)"
}

# --- recovery: the TPM wiped, the recovery key typed at the console -----------
# The enrolled volume gets a recovery keyslot (`sealinit enroll --recovery'),
# and the guest a blank TPM state: the token's storage key is gone. Boot 1:
# the TPM cannot unlock, the boot asks for the recovery key on the serial
# console (typed by tests/qemu/serial-answer.py once the prompt shows),
# opens the volume with it and switches root; guest-init runs `sealinit
# reseal' with the key (from a small disk, serial "reseal"). Boot 2, the
# same TPM: the TPM alone opens the volume again.
sc_recovery() {
	local arch=$1 out key v id rogue aes
	new_scenario recovery
	out=$(timeout 60 "$HOST_SEALINIT" enroll "$S/data.img" --recovery --key-file "$IMG_RECOVERY_KEY" 2>&1) ||
		{ problem "enroll --recovery: $out"; verdict "$arch" recovery ""; return; }
	key=$(grep -oE '^  [cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}$' <<<"$out" | tr -d ' ')
	id=$(sed -n 's/^  pin it in the boot config as fixate_volume_key=//p' <<<"$out")
	[ ${#key} = 71 ] && [ ${#id} = 64 ] || { problem "no recovery key or volume id printed: $out"; verdict "$arch" recovery ""; return; }
	printf '%s' "$key" >"$S/reseal.img"
	truncate -s 1M "$S/reseal.img"
	rm -rf "$S/tpm"
	mkdir -p "$S/tpm"
	printf 'Recovery key for the data volume\t%s\n' "$key" >"$S/answers"
	# The attack first: the disk swapped for the attacker's own volume, with
	# a recovery token and a key of their choosing typed at the prompt.
	# Unpinned, the boot does not ask at all (the control of the pin below
	# is the genuine boot); pinned, it asks and refuses the volume.
	rogue=$S/rogue.img
	truncate -s 20M "$rogue"
	printf '%s' "$key" | tr 'cb' 'bc' >"$S/rogue.key"
	out=$(timeout 60 cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$S/rogue.key" "$rogue" 2>&1 &&
	      printf '{"type":"systemd-recovery","keyslots":["0"]}' | timeout 60 cryptsetup token import "$rogue" 2>&1) ||
		{ problem "the attacker's volume: $out"; verdict "$arch" recovery ""; return; }
	printf 'Recovery key for the data volume\t%s\n' "$(cat "$S/rogue.key")" >"$S/answers-rogue"
	# shellcheck disable=SC2046
	boot "$arch" "" tpm "$IMG_ROOTFS:ro:rootfs" "$rogue:rw:data" "$IMG_VERITY:ro:verity"
	expect_failure 'cannot unlock /dev/vdb'
	chk "unpinned: the boot asked for a recovery key" not qemu_grep "$LOG" 'sealinit: Recovery key for the data volume'
	chk "unpinned: no line saying why it did not ask" qemu_grep "$LOG" '^sealinit: recovery: not asked for: .*fixate_volume_key'
	mv "$LOG" "$S/serial-rogue-unpinned.log"
	# From here on the initramfs pins the volume.
	case "$arch" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	{ cat "$A/sealinit.conf"; echo "fixate_volume_key=$id"; } >"$S/sealinit.conf"
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$arch" --sealinit "$REPO/build/$arch/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$S/sealinit.conf" --busybox no --out "$S/initrd.cpio.gz" >"$S/mkinitramfs.log" 2>&1 ||
		{ problem "mkinitramfs: $(tail -n 2 "$S/mkinitramfs.log")"; verdict "$arch" recovery ""; return; }
	rm -rf "$S/tpm"
	mkdir -p "$S/tpm"
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz QEMU_SERIAL_ANSWERS=$S/answers-rogue boot "$arch" "" tpm "$IMG_ROOTFS:ro:rootfs" "$rogue:rw:data" "$IMG_VERITY:ro:verity"
	# The console goes through serial-answer.py here: the checks of the
	# console alone (the kernel log's copy of the line is expect_failure's).
	chk "pinned: qemu exit $RC, want 0 (poweroff)" [ "$RC" = 0 ]
	chk "pinned: no recovery prompt for the attacker's volume" qemu_grep "$LOG" 'sealinit: Recovery key for the data volume'
	v=$(failed_line "$LOG")
	chk "pinned: the FAILED line does not name the volume pin: '$v'" grep -q 'is not the enrolled volume' <<<"$v"
	chk "pinned: the real init ran on the attacker's volume" not qemu_grep "$LOG" 'SEALINIT-TEST: '
	chk "pinned: the kernel did not power down" qemu_grep "$LOG" 'reboot: Power down'
	mv "$LOG" "$S/serial-rogue-pinned.log"
	rm -rf "$S/tpm"
	mkdir -p "$S/tpm"
	# The genuine volume, the TPM wiped: the recovery key opens it.
	predict_boot "$arch" "" "$S/sealinit.conf" 2>/dev/null
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz QEMU_SERIAL_ANSWERS=$S/answers boot "$arch" "" tpm $(std_disks) "$S/reseal.img:ro:reseal"
	chk "boot 1: qemu exit $RC, want 0" [ "$RC" = 0 ]
	chk "boot 1: FAILED: $(failed_line "$LOG")" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "boot 1: no recovery prompt" qemu_grep "$LOG" 'sealinit: Recovery key for the data volume \([0-9]+ s\)'
	chk "boot 1: not unlocked with the recovery key" \
		qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata with the recovery key'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	chk "boot 1: marker '$v', want '$IMG_MARKER'" [ "$v" = "$IMG_MARKER" ]
	chk "boot 1: the recovery key appeared in the log" not grep -aqF -- "$key" "$LOG"
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: reseal-exit')
	chk "boot 1: sealinit reseal exited '$v', want 0 ($(grep -a 'reseal-output' "$LOG" | head -n 2 | tr '\n' ' '))" [ "$v" = 0 ]
	mv "$LOG" "$S/serial-recovery.log"
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	chk "boot 2: not unlocked via tpm2" qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata via tpm2'
	verdict "$arch" recovery "blank TPM: the recovery key typed at the console unlocked, reseal in the booted system; boot 2 by the TPM (${DUR} s)"
}

# --- the command line -------------------------------------------------------------
# lockdown_initrd: once per arch, $A/initrd-lockdown.cpio.gz: the happy
# initramfs with lockdown=yes (what CONFIG_LOCKDOWN builds have always).
lockdown_initrd() {
	local aes
	[ -s "$A/initrd-lockdown.cpio.gz" ] && return 0
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	local id
	# Locked down, the volume must be bound: the test volume's id, pinned.
	id=$(volume_id "$IMG_DATA" "$IMG_RECOVERY_KEY" sealdata) || { problem "volume id of $IMG_DATA"; return 1; }
	{ cat "$A/sealinit.conf"; echo lockdown=yes; echo "roothash=$IMG_ROOTHASH"; echo "fixate_volume_key=$id"; } >"$A/sealinit-lockdown.conf"
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" --sealinit "$REPO/build/$ARCH/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$A/sealinit-lockdown.conf" --busybox no --out "$A/initrd-lockdown.cpio.gz" \
		>"$A/mkinitramfs-lockdown.log" 2>&1 ||
		{ problem "mkinitramfs: $(tail -n 2 "$A/mkinitramfs-lockdown.log")"; rm -f "$A/initrd-lockdown.cpio.gz"; return 1; }
}
# lockdown_refuses APPEND CAUSE_RE: a locked-down boot with APPEND fails on
# its command line, before the TPM is touched, naming the key.
lockdown_refuses() {
	# shellcheck disable=SC2046
	INITRD=$A/initrd-lockdown.cpio.gz boot "$ARCH" "$1" tpm $(std_disks)
	expect_failure "^kernel command line: $2"
	chk "'$1': the TPM was used after the command line was refused" \
		not qemu_grep "$LOG" '^sealinit: (measured|unsealed|waiting for TPM)'
	mv "$LOG" "$S/serial-$(echo "$1" | tr -c 'a-z0-9' '_' | head -c 40).log"
	REFUSED+=("${FAILED_LINE:0:90}")
}

# init=/bin/sh: locked down, refused by name; the same initramfs boots
# without it (the control); unlocked down, the measurement changes and the
# TPM refuses.
sc_cmdline_init() {
	local arch=$1
	new_scenario cmdline-init
	REFUSED=()
	lockdown_initrd || { verdict "$arch" cmdline-init ""; return; }
	enroll_for "$arch" "" "$A/sealinit-lockdown.conf" || { verdict "$arch" cmdline-init ""; return; }
	lockdown_refuses "init=/bin/sh" "\`init=/bin/sh': this locked-down build boots only /sbin/init"
	# Control: the same initramfs and token, the genuine command line.
	# shellcheck disable=SC2046
	INITRD=$A/initrd-lockdown.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	mv "$LOG" "$S/serial-control.log"
	# Without lockdown init= is taken, and measured: no key.
	new_scenario cmdline-init
	# shellcheck disable=SC2046
	boot "$arch" "init=/bin/sh" tpm $(std_disks)
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	chk "the init measured is not /bin/sh's" qemu_grep "$LOG" '^sealinit: measured sealinit:init:/bin/sh:[0-9a-f]{64} into PCR 15'
	verdict "$arch" cmdline-init "locked down: '${REFUSED[0]}...'; control unlocked; open: init measured, '${FAILED_LINE}' (${DUR} s)"
}

# The keys that used to take the boot over: refused locked down, by name;
# open, a harmless-looking override still changes the measurement.
sc_cmdline_override() {
	local arch=$1
	new_scenario cmdline-override
	REFUSED=()
	lockdown_initrd || { verdict "$arch" cmdline-override ""; return; }
	lockdown_refuses "sealinit.pcrs=" "\`sealinit.pcrs=': refused, this build is locked down"
	lockdown_refuses "sealinit.tcti=swtpm:host=10.0.2.2,port=2321" \
		"\`sealinit.tcti=swtpm:host=10.0.2.2,port=2321': refused, this build is locked down"
	lockdown_refuses "sealinit.legacy_api=https://attacker.test" \
		"\`sealinit.legacy_api=https://attacker.test': refused, this build is locked down"
	# Open: the default TCTI, spelt out, opens the same TPM, yet the token
	# does not unseal: the command line and the configuration are measured.
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.tcti=device:/dev/tpmrm0" tpm $(std_disks)
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	chk "the command line measured is not the one booted" \
		qemu_grep "$LOG" '^sealinit: measured sealinit:cmdline:.* sealinit.tcti=device:/dev/tpmrm0 into PCR 15'
	verdict "$arch" cmdline-override "${#REFUSED[@]} refused locked down ('${REFUSED[1]}...'); open: measured, policy mismatch (${DUR} s)"
}

# The keys a locked-down command line may set (verbosity, waits) are never
# measured: debugging a boot does not fail it. Enrolled for the command line
# without sealinit.loglevel=7, which boot() adds.
sc_debug_keys() {
	local arch=$1 cmd
	new_scenario debug-keys
	REFUSED=()
	lockdown_initrd || { verdict "$arch" debug-keys ""; return; }
	cmd=$(boot_cmdline "$arch" "")
	cmd=${cmd/ sealinit.loglevel=7/}
	qemu_predict "$HOST_SEALINIT" "$A/sealinit-lockdown.conf" "$cmd" 2>"$S/enroll.log" &&
		EVENTS=("${QEMU_EVENTS[@]}") PREDICTED=$QEMU_PREDICTED &&
		cp --sparse=always "$IMG_DATA" "$S/data.img" &&
		enroll_into "$S/tpm" "$S/data.img" "${EVENTS[@]}" 2>>"$S/enroll.log" ||
		{ problem "enroll failed: $(tail -n 2 "$S/enroll.log")"; verdict "$arch" debug-keys ""; return; }
	chk "predict: the command line measured holds sealinit.loglevel" \
		not grep -q 'sealinit\.loglevel' <<<"${EVENTS[0]}"
	# shellcheck disable=SC2046
	INITRD=$A/initrd-lockdown.cpio.gz boot "$arch" "sealinit.tpm_timeout=120000 sealinit.device_timeout=60000" \
		tpm $(std_disks)
	expect_unlocked
	chk "loglevel 7 was not taken (no step timings)" [ -n "$(step_timings "$LOG")" ]
	chk "a debug key was measured" not qemu_grep "$LOG" \
		'sealinit:cmdline:.*sealinit\.(loglevel|tpm_timeout|device_timeout)'
	mv "$LOG" "$S/serial-debug.log"
	lockdown_refuses "sealinit.tpm_timeout=1" \
		"\`sealinit.tpm_timeout=1': shorter than the configured [0-9]+ ms; a locked-down command line may only lengthen a wait"
	# Control: any other word is measured, and the TPM refuses.
	# shellcheck disable=SC2046
	INITRD=$A/initrd-lockdown.cpio.gz boot "$arch" "rootwait" tpm $(std_disks)
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	chk "rootwait was not measured" qemu_grep "$LOG" '^sealinit: measured sealinit:cmdline:.* rootwait into PCR 15'
	verdict "$arch" debug-keys "loglevel=7 and longer waits unlock; '${REFUSED[0]:0:70}...'; rootwait measured, '${FAILED_LINE}' (${DUR} s)"
}

# The kernel hands PID 1 every unknown X=Y word of its command line as
# environment; none of it may reach the TSS, libcurl or the real init.
sc_kernel_env() {
	local arch=$1 ap="SSLKEYLOGFILE=/dev/console TSS2_LOG=all+TRACE" v
	new_scenario kernel-env
	# Control: the happy boot, and the environment its init gets.
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: init-env')
	chk "control: the real init's environment is '$v', want HOME=/,TERM=linux" [ "$v" = "HOME=/,TERM=linux" ]
	mv "$LOG" "$S/serial-control.log"
	# The attack, on a boot enrolled for its command line (the words are
	# measured): it unlocks, and leaves no trace.
	enroll_for "$arch" "$ap" "$A/sealinit.conf" || { verdict "$arch" kernel-env ""; return; }
	# shellcheck disable=SC2046
	boot "$arch" "$ap" tpm $(std_disks)
	expect_unlocked
	chk "TSS log lines on the console: the kernel's TSS2_LOG reached the TSS" \
		not qemu_grep "$LOG" '^(trace|debug|info|WARNING|ERROR):[a-z_]+:'
	chk "a TLS key log line on the console" not qemu_grep "$LOG" '(CLIENT_RANDOM|TRAFFIC_SECRET)'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: init-env')
	chk "the real init's environment is '$v', want HOME=/,TERM=linux" [ "$v" = "HOME=/,TERM=linux" ]
	verdict "$arch" kernel-env "SSLKEYLOGFILE= and TSS2_LOG= on the command line: unlocked, no TSS or key log line, init env '$v' (${DUR} s)"
}

# measure=image: the whole root device is hashed and that hash is the
# measurement; the root is mounted directly, without verity.
sc_image_mode() {
	local arch=$1 sha want pcr v
	new_scenario image-mode
	sha=$(sha256sum "$IMG_ROOTFS" | cut -d' ' -f1)
	enroll_for "$arch" "sealinit.measure=image" "$A/sealinit.conf" "$IMG_ROOTFS" ||
		{ verdict "$arch" image-mode ""; return; }
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.measure=image" tpm $(std_disks)
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "sealinit FAILED: $(failed_line "$LOG")" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "the marker was not read in the new root" \
		[ "$(qemu_value "$LOG" 'SEALINIT-TEST: marker')" = "$IMG_MARKER" ]
	v="$(qemu_value "$LOG" 'SEALINIT-TEST: root') $(qemu_value "$LOG" 'SEALINIT-TEST: root-mode')"
	chk "root is '$v', want /dev/vda read-only" [ "$v" = "/dev/vda ro" ]
	expect_measured
	chk "the event log does not hold the image measurement" \
		grep -aqF "\"string\":\"sealinit:image:$sha\"" "$LOG"
	chk "unsealing again did not fail with 4" [ "$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')" = 4 ]
	verdict "$arch" image-mode "SHA-256 of the $(($(stat -c %s "$IMG_ROOTFS") >> 20)) MiB root measured, unlocked, PCR 15 as predicted (${DUR} s)"
}

# measure=image with one byte of the root image changed where no file lives:
# the root still mounts, but the measurement differs, so nothing unseals.
sc_image_tampered() {
	local arch=$1 size
	new_scenario image-tampered
	enroll_for "$arch" "sealinit.measure=image" "$A/sealinit.conf" "$IMG_ROOTFS" ||
		{ verdict "$arch" image-tampered ""; return; }
	cp --sparse=always "$IMG_ROOTFS" "$S/rootfs.img"
	size=$(stat -c %s "$S/rootfs.img")
	printf 'X' | dd of="$S/rootfs.img" bs=1 seek=$((size - 100)) conv=notrunc status=none
	# shellcheck disable=SC2046
	boot "$arch" "sealinit.measure=image" tpm $(std_disks "$S/rootfs.img")
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	verdict "$arch" image-tampered "'${FAILED_LINE}' (${DUR} s)"
}

# tee_stand_in FILE [LINE...]: a stand-in for tee-supplicant, for busybox's
# sh (QEMU has no OP-TEE). Given --fs-parent-path=DIR, it counts its starts
# in DIR/starts (synced) and says so on the console; then it makes
# /dev/teepriv0 (a char device 1:3, standing for the one the TEE driver
# makes), holds it open as the supplicant does once it serves the kernel's
# TEE clients, runs LINE..., and sleeps with it open until the boot stops
# it. Not a mode of the sealinit binary: nothing of it is in production.
tee_stand_in() {
	local f=$1
	shift
	{
		cat <<'STANDIN'
#!/bin/sh
case "${1:-}" in --fs-parent-path=*)
	d=${1#--fs-parent-path=}; n=$(cat "$d/starts" 2>/dev/null || echo 0); n=$((n + 1))
	echo "$n" >"$d/starts.tmp" && mv "$d/starts.tmp" "$d/starts" && sync
	echo "tee-supplicant stand-in: start $n on $d"
	if [ -L "$d/link" ]; then
		if cat "$d/link" >/dev/null 2>&1; then w=followed; else w="not followed"; fi
		echo "tee-supplicant stand-in: $d/link $w"
	fi ;;
esac
[ -e /dev/teepriv0 ] || mknod /dev/teepriv0 c 1 3
exec 3<>/dev/teepriv0
STANDIN
		printf '%s\n' "$@"
		echo 'exec sleep 100000'
	} >"$f"
	chmod 0755 "$f"
}

# tee_initrd CONF SUPPLICANT OUT: the late-tpm initramfs (tpm_tis late,
# busybox for the stand-in) with CONF and SUPPLICANT as tee-supplicant.
tee_initrd() {
	local aes
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" \
		--sealinit "$REPO/build/$ARCH/sealinit" --kernel-dir "$KDIR" \
		--modules "virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" --late-modules "tpm_tis" \
		--add "$2:/usr/sbin/tee-supplicant" \
		--config "$1" --busybox yes --out "$3" >"$S/mkinitramfs.log" 2>&1 ||
		{ problem "mkinitramfs: $(tail -n 2 "$S/mkinitramfs.log")"; return 1; }
}

# The Jetson ordering, with tpm_tis standing in for tpm_ftpm_tee and
# tee_stand_in for tee-supplicant: modules.late must load after the
# supplicant holds /dev/teepriv0 open, and the TPM wait must cover the late
# driver.
sc_late_tpm() {
	local arch=$1 n_sup n_rdy n_late n_meas
	new_scenario late-tpm
	{ cat "$A/sealinit.conf"; echo tee_supplicant=/usr/sbin/tee-supplicant; } >"$S/sealinit.conf"
	tee_stand_in "$S/tee-supplicant"
	tee_initrd "$S/sealinit.conf" "$S/tee-supplicant" "$S/initrd.cpio.gz" || { verdict "$arch" late-tpm ""; return; }
	enroll_for "$arch" "" "$S/sealinit.conf" || { verdict "$arch" late-tpm ""; return; }
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "" tpm $(std_disks)
	expect_unlocked
	n_sup=$(grep -anE '^sealinit: started /usr/sbin/tee-supplicant' "$LOG" | head -n1 | cut -d: -f1)
	n_rdy=$(grep -anE '^sealinit: /usr/sbin/tee-supplicant holds /dev/teepriv0 open' "$LOG" | head -n1 | cut -d: -f1)
	n_late=$(grep -anE '^sealinit: loaded [1-9][0-9]* modules from /etc/sealinit/modules.late' "$LOG" | head -n1 | cut -d: -f1)
	n_meas=$(grep -anE '^sealinit: measured sealinit:verity' "$LOG" | head -n1 | cut -d: -f1)
	chk "the stand-in supplicant was not started" [ -n "$n_sup" ]
	chk "the stand-in supplicant was not seen ready" [ -n "$n_rdy" ]
	chk "modules.late was not loaded" [ -n "$n_late" ]
	chk "ready before started" [ "${n_sup:-0}" -lt "${n_rdy:-0}" ]
	chk "modules.late loaded before the supplicant was ready" [ "${n_rdy:-0}" -lt "${n_late:-0}" ]
	chk "the TPM was used before modules.late was loaded" [ "${n_late:-0}" -lt "${n_meas:-0}" ]
	verdict "$arch" late-tpm "tee_supplicant started and ready, then tpm_tis from modules.late, then the TPM wait and a normal unlock (${DUR} s)"
}

# tee-store: the store persists across boots; the wrong store and a
# supplicant that never gets ready are refused by name.
sc_tee_store() {
	local arch=$1 i v n_rdy n_late starts fl1 fl2 fl3
	[ "$arch" = aarch64 ] || { skip "$arch" tee-store "tpm_tis is built into the $arch kernel"; return; }
	new_scenario tee-store
	{ cat "$A/sealinit.conf"; echo tee_supplicant=/usr/sbin/tee-supplicant; echo tee_storage=LABEL=tee-store; } >"$S/sealinit.conf"
	tee_stand_in "$S/tee-supplicant"
	tee_initrd "$S/sealinit.conf" "$S/tee-supplicant" "$S/initrd.cpio.gz" || { verdict "$arch" tee-store ""; return; }
	enroll_for "$arch" "" "$S/sealinit.conf" || { verdict "$arch" tee-store ""; return; }
	# A symlink planted in the store: the boot's mount must not follow it.
	mkdir -p "$S/store-dir"
	ln -sfn /proc/version "$S/store-dir/link"
	timeout 60 mke2fs -q -t ext4 -L tee-store -d "$S/store-dir" "$S/store.img" 8M >/dev/null ||
		{ problem "mke2fs of the store"; verdict "$arch" tee-store ""; return; }
	# The control, twice on the same store.
	for i in 1 2; do
		# shellcheck disable=SC2046
		INITRD=$S/initrd.cpio.gz boot "$arch" "" tpm $(std_disks) "$S/store.img:rw:teestore"
		expect_unlocked
		chk "boot $i: the store was not mounted" \
			qemu_grep "$LOG" '^sealinit: the fTPM store LABEL=tee-store \(/dev/vdd\) is mounted on /run/sealinit/tee'
		chk "boot $i: the supplicant was not started on the store" \
			qemu_grep "$LOG" '^sealinit: started /usr/sbin/tee-supplicant --fs-parent-path=/run/sealinit/tee '
		chk "boot $i: the stand-in did not find $((2 * i - 2)) earlier starts in the store" \
			qemu_grep "$LOG" "^tee-supplicant stand-in: start $((2 * i - 1)) on /run/sealinit/tee"
		n_rdy=$(grep -anE '^sealinit: /usr/sbin/tee-supplicant holds /dev/teepriv0 open' "$LOG" | head -n1 | cut -d: -f1)
		n_late=$(grep -anE '^sealinit: loaded [1-9][0-9]* modules from /etc/sealinit/modules.late' "$LOG" | head -n1 | cut -d: -f1)
		chk "boot $i: modules.late loaded before the supplicant was ready" [ "${n_rdy:-9999999}" -lt "${n_late:-0}" ]
		chk "boot $i: the stand-in followed a symlink in the store (nosymfollow)" \
			qemu_grep "$LOG" '^tee-supplicant stand-in: /run/sealinit/tee/link not followed'
		v=$(qemu_value "$LOG" 'SEALINIT-TEST: tee-store-link')
		chk "boot $i: the link is '$v' on a mount without nosymfollow, want followed (the control)" [ "$v" = followed ]
		chk "boot $i: the store was not unmounted at the hand-over" \
			qemu_grep "$LOG" '^sealinit: the fTPM store /run/sealinit/tee is unmounted'
		# The hand-over, seen from the booted system (guest-init).
		v=$(qemu_value "$LOG" 'SEALINIT-TEST: teepriv-holders')
		chk "boot $i: $v processes hold /dev/teepriv0 after switch_root, want 0 (the boot's supplicant stopped)" [ "$v" = 0 ]
		v=$(qemu_value "$LOG" 'SEALINIT-TEST: tee-store-mounted')
		chk "boot $i: the store is still mounted after switch_root ('$v')" [ "$v" = no ]
		v=$(qemu_value "$LOG" 'SEALINIT-TEST: tee-store-starts')
		chk "boot $i: the booted system's supplicant counted start '$v', want $((2 * i)) (the same store)" [ "$v" = $((2 * i)) ]
		v=$(qemu_value "$LOG" 'SEALINIT-TEST: tpm')
		chk "boot $i: /dev/tpmrm0 is gone after switch_root ('$v')" [ "$v" = yes ]
		mv "$LOG" "$S/serial-$i.log"
	done
	starts=$(debugfs -R 'cat /starts' "$S/store.img" 2>/dev/null)
	chk "the store holds starts=$starts after two boots, want 4 (two by each side)" [ "$starts" = 4 ]
	# Attack: the store on another file system.
	timeout 60 mke2fs -q -t ext2 -L tee-store "$S/store-ext2.img" 8M >/dev/null || problem "mke2fs -t ext2"
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "" tpm $(std_disks) "$S/store-ext2.img:rw:teestore"
	expect_failure "tee_storage=LABEL=tee-store \(/dev/vdd\) holds file system type .ext2., expected ext4"
	fl1=$FAILED_LINE
	mv "$LOG" "$S/serial-ext2.log"
	# Attack: the store names the data volume (a spec validation cannot
	# tell from the data= one).
	{ cat "$A/sealinit.conf"; echo tee_supplicant=/usr/sbin/tee-supplicant; echo "tee_storage=UUID=$LUKS_UUID"; } >"$S/data-store.conf"
	if tee_initrd "$S/data-store.conf" "$S/tee-supplicant" "$S/initrd-data.cpio.gz"; then
		# shellcheck disable=SC2046
		INITRD=$S/initrd-data.cpio.gz boot "$arch" "" tpm $(std_disks)
		expect_failure "tee_storage=UUID=$LUKS_UUID is /dev/vdb \([0-9]+:[0-9]+\), the data device \(/dev/vdb\)"
		fl2=$FAILED_LINE
		mv "$LOG" "$S/serial-data.log"
	fi
	# Attack: a supplicant that exits before it opens /dev/teepriv0 (the
	# sealinit binary, which as a non-PID-1 process prints its usage).
	if tee_initrd "$S/sealinit.conf" "$REPO/build/$arch/sealinit" "$S/initrd-exits.cpio.gz"; then
		# shellcheck disable=SC2046
		INITRD=$S/initrd-exits.cpio.gz boot "$arch" "" tpm $(std_disks) "$S/store.img:rw:teestore"
		expect_failure "/usr/sbin/tee-supplicant exited with status [0-9]+ before it opened /dev/teepriv0"
		fl3=$FAILED_LINE
	fi
	verdict "$arch" tee-store "the store persists and passes to the booted system (starts=$starts); PCR 15 as predicted, to sign: ${PREDICTED:0:16}...; ext2: '${fl1:0:90}'; data volume: '${fl2:0:90}'; exits: '${fl3:0:90}' (${DUR} s)"
}

# tee-hang: the supplicant's hangs end at the boot's own bounds.
# hang_initrd CONF SUPPLICANT OUT: tee_initrd's initramfs with no late
# module: tpm_tis ships as /lib/tpm_tis.ko for the stand-in to load.
hang_initrd() {
	local aes kver
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	kver=$(cat "$KDIR/kver")
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" \
		--sealinit "$REPO/build/$ARCH/sealinit" --kernel-dir "$KDIR" \
		--modules "tpm_tis_core virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--add "$2:/usr/sbin/tee-supplicant" \
		--add "$KDIR/lib/modules/$kver/kernel/drivers/char/tpm/tpm_tis.ko:/lib/tpm_tis.ko" \
		--config "$1" --busybox yes --out "$3" >"$S/mkinitramfs.log" 2>&1 ||
		{ problem "mkinitramfs: $(tail -n 2 "$S/mkinitramfs.log")"; return 1; }
}
# hang_took: seconds from sealinit's start to the power-down, or "?".
hang_took() {
	local t0 t1
	t0=$(sealinit_start "$LOG") t1=$(powerdown_at "$LOG")
	if [ -n "$t0" ] && [ -n "$t1" ]; then
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
	else
		echo "?"
	fi
}
sc_tee_hang() {
	local arch=$1 tpm_ms=6000 dev_ms=4000 ap fl1 fl2 d1 d2 n_rdy
	[ "$arch" = aarch64 ] || { skip "$arch" tee-hang "tpm_tis is built into the $arch kernel"; return; }
	new_scenario tee-hang
	ap="sealinit.tpm_timeout=$tpm_ms sealinit.device_timeout=$dev_ms"
	{ cat "$A/sealinit.conf"; echo tee_supplicant=/usr/sbin/tee-supplicant; echo tee_storage=LABEL=tee-store; } >"$S/sealinit.conf"
	# Ready (it holds /dev/teepriv0), then its first file, then the TPM.
	tee_stand_in "$S/reads-store" 'cat "$d/dirf.db" >/dev/null' 'insmod /lib/tpm_tis.ko'
	hang_initrd "$S/sealinit.conf" "$S/reads-store" "$S/initrd.cpio.gz" || { verdict "$arch" tee-hang ""; return; }
	enroll_for "$arch" "$ap" "$S/sealinit.conf" || { verdict "$arch" tee-hang ""; return; }
	mkdir -p "$S/store-file" "$S/store-fifo"
	echo "not a real dirf.db" >"$S/store-file/dirf.db"
	mkfifo "$S/store-fifo/dirf.db"
	timeout 60 mke2fs -q -t ext4 -L tee-store -d "$S/store-file" "$S/store-file.img" 8M >/dev/null &&
		timeout 60 mke2fs -q -t ext4 -L tee-store -d "$S/store-fifo" "$S/store-fifo.img" 8M >/dev/null ||
		{ problem "mke2fs of the stores"; verdict "$arch" tee-hang ""; return; }
	chk "the planted store holds no FIFO" \
		grep -q 'Type: FIFO' <(debugfs -R 'stat /dirf.db' "$S/store-fifo.img" 2>/dev/null)
	# The control: the supplicant reads its file, the TPM appears, unlock.
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks) "$S/store-file.img:rw:teestore"
	expect_unlocked
	mv "$LOG" "$S/serial-control.log"
	# Attack: the FIFO. Ready, then blocked for good: no TPM ever.
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks) "$S/store-fifo.img:rw:teestore"
	expect_failure "no TPM reachable: /dev/tpmrm0 did not appear within $dev_ms ms"
	n_rdy=$(countE "$LOG" '^sealinit: /usr/sbin/tee-supplicant holds /dev/teepriv0 open')
	chk "FIFO: the supplicant was not seen ready before it blocked" [ "$n_rdy" = 1 ]
	chk "FIFO: the supplicant was not stopped after the cap" \
		qemu_grep "$LOG" '^sealinit: the fTPM store /run/sealinit/tee is unmounted'
	fl1=$FAILED_LINE d1=$(hang_took)
	mv "$LOG" "$S/serial-fifo.log"
	# Attack: a supplicant that blocks before it is ready.
	printf '#!/bin/sh\nexec sleep 100000\n' >"$S/blocks"
	chmod 0755 "$S/blocks"
	if hang_initrd "$S/sealinit.conf" "$S/blocks" "$S/initrd-blocks.cpio.gz"; then
		# shellcheck disable=SC2046
		INITRD=$S/initrd-blocks.cpio.gz boot "$arch" "$ap" tpm $(std_disks) "$S/store-file.img:rw:teestore"
		expect_failure "/usr/sbin/tee-supplicant did not open /dev/teepriv0 within $dev_ms ms \(it still runs, pid [0-9]+\)"
		fl2=$FAILED_LINE d2=$(hang_took)
	fi
	verdict "$arch" tee-hang "FIFO in the store: '${fl1:0:80}' after ${d1:-?} s; blocked before ready: '${fl2:0:80}' after ${d2:-?} s (bounds: tpm_timeout ${tpm_ms} ms, device_timeout ${dev_ms} ms); control unlocks (${DUR} s)"
}

# systemd-plugin: stock cryptsetup and systemd 254's token plugin in the guest.
# plugin_payload ARCH DIR: fetch what the rootfs needs and set PLUGIN_ADD,
# PLUGIN_SYSROOT, PLUGIN_DLOPEN (mkimages.sh's ROOTFS_* variables) and
# PLUGIN_TOKENS_DIR (libcryptsetup's compiled-in external tokens path).
# Returns 1 with PLUGIN_ERR set.
plugin_payload() {
	local arch=$1 dir=$2 debarch ma bp dr="" cs lib shared x
	case "$arch" in
	aarch64) debarch=arm64 ma=aarch64-linux-gnu ;;
	*)       debarch=amd64 ma=x86_64-linux-gnu ;;
	esac
	# systemd 254: the plugin and libsystemd-shared (Debian 12 has 252,
	# which cannot use sealinit's noDA SRK; docs/token-format.md).
	bp=$(timeout 600 "$REPO/scripts/fetch-backports.sh" "$debarch" systemd libsystemd-shared 2>"$dir/fetch.err") ||
		{ PLUGIN_ERR="bookworm-backports systemd: $(tail -n 1 "$dir/fetch.err")"; return 1; }
	if [ "$arch" = aarch64 ]; then
		# Debian 12's arm64 cryptsetup, and the arm64 libraries that
		# libsystemd-shared needs and the host's cross toolchain lacks.
		dr=$(qemu_deb_root arm64 cryptsetup-bin libpopt0 libacl1 libcap2 libgcrypt20 libgpg-error0 \
			libip4tc2 libkmod2 liblz4-1 libmount1 libpam0g libaudit1 libcap-ng0 libseccomp2 liblzma5 \
			2>"$dir/debs.err") || { PLUGIN_ERR="arm64 .debs: $(tail -n 1 "$dir/debs.err")"; return 1; }
		cs=$dr/sbin/cryptsetup
	else
		cs=/sbin/cryptsetup   # the host's own (cryptsetup-bin), with host libraries
	fi
	[ -f "$cs" ] || { PLUGIN_ERR="no $cs"; return 1; }
	x=$bp/usr/lib/$ma/cryptsetup/libcryptsetup-token-systemd-tpm2.so
	[ -f "$x" ] || { PLUGIN_ERR="no $x"; return 1; }
	# The plugin's DT_NEEDED libsystemd-shared-254.so lives in its RUNPATH
	# (/usr/lib/MA/systemd), which mkinitramfs does not search: a sysroot
	# with it in /usr/lib/MA, where the guest's loader also finds it.
	shared=$(find "$bp/usr/lib/$ma/systemd" -maxdepth 1 -name 'libsystemd-shared-*.so' 2>/dev/null | head -n1)
	[ -n "$shared" ] || { PLUGIN_ERR="no libsystemd-shared in $bp"; return 1; }
	rm -rf "$dir/sysroot"
	mkdir -p "$dir/sysroot/usr/lib/$ma"
	cp "$shared" "$dir/sysroot/usr/lib/$ma/"
	# The directory libcryptsetup dlopens token plugins from: a compiled-in
	# string (Debian 12: /lib/MA/cryptsetup; cryptsetup --help does not
	# print it). The guest's /lib is a real directory, not a link to usr/lib.
	lib=$(readlink -f "${dr:-/nonexistent}/usr/lib/$ma/libcryptsetup.so.12" 2>/dev/null)
	[ -f "$lib" ] || lib=$(readlink -f "/usr/lib/$ma/libcryptsetup.so.12")
	PLUGIN_TOKENS_DIR=$(strings "$lib" 2>/dev/null | grep -xE "(/usr)?/lib(64)?(/$ma)?/cryptsetup" | head -n1)
	[ -n "$PLUGIN_TOKENS_DIR" ] || { PLUGIN_ERR="no external tokens path in $lib"; return 1; }
	# Canonical paths: mkinitramfs refuses a library that resolves outside
	# its sysroot, which a symlink in the sysroot's own path would look like.
	bp=$(readlink -f "$bp")
	[ -z "$dr" ] || dr=$(readlink -f "$dr")
	PLUGIN_SYSROOT="$dir/sysroot $bp${dr:+ $dr}"
	PLUGIN_ADD="$cs:/sbin/cryptsetup $bp/usr/lib/$ma/cryptsetup/libcryptsetup-token-systemd-tpm2.so:$PLUGIN_TOKENS_DIR/libcryptsetup-token-systemd-tpm2.so"
	# What systemd's tpm2-util dlopens (not in any DT_NEEDED).
	PLUGIN_DLOPEN="libtss2-esys.so.0 libtss2-rc.so.0 libtss2-mu.so.0 libtss2-tcti-device.so.0"
}

# plugin_boot ARCH: the boot both systemd scenarios read, once per arch.
# Its own image set: the payload changes the rootfs (and its root hash), and
# the other scenarios keep theirs as it is. Two extra disks, enrolled on the
# host against the scenario's TPM state and bound to PCRs that are still
# zero when guest-init runs: "plugin" (vdd) to PLUGIN_PCRS_$ARCH's values,
# "signed" (vde) to a policy signed for PCR 16, whose signature file the
# rootfs carries where systemd looks for it by default
# (/etc/systemd/tpm2-pcr-signature.json). Sets S, LOG, RC, DUR and the
# caller's IMG_* (images.env); a second call for the same arch only sets
# them again, and adds the first call's preparation problems. Returns 1
# when there was no boot.
plugin_boot() {
	local arch=$1 pcrs out rc t0=$EPOCHREALTIME
	local P=$A/plugin-img
	if [ "${PLUGIN_BOOTED:-}" = "$arch" ]; then
		S=$A/systemd-plugin LOG=$A/systemd-plugin/serial.log RC=$PLUGIN_RC DUR=$PLUGIN_DUR
		PROBLEMS+=("${PLUGIN_PROBLEMS[@]}")
		[ -z "$PLUGIN_RC" ] && return 1
		. "$P/images.env"
		return 0
	fi
	PLUGIN_BOOTED=$arch PLUGIN_RC="" PLUGIN_DUR="" PLUGIN_PROBLEMS=()
	pcrs=PLUGIN_PCRS_$arch
	pcrs=${!pcrs}
	S=$A/systemd-plugin
	rm -rf "$S"
	mkdir -p "$S"
	LOG=$S/serial.log
	PLUGIN_ERR=""
	plugin_payload "$arch" "$S" || { problem "payload: $PLUGIN_ERR"; PLUGIN_PROBLEMS=("${PROBLEMS[@]}"); return 1; }
	# The signing key, and the signature of PCR 16's value at guest-init
	# (zero: nothing measures into it before), made before the rootfs
	# that carries it.
	printf 'pcr16=%064d\n' 0 >"$S/pcr16.values"
	out=$(openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$S/key.pem" 2>&1 &&
	      openssl pkey -in "$S/key.pem" -pubout -out "$S/pub.pem" 2>&1 &&
	      timeout 60 "$HOST_SEALINIT" sign --private-key "$S/key.pem" --pcrs 16 --values "$S/pcr16.values" \
		--signature "$S/sig.json" 2>&1) ||
		{ problem "signing PCR 16: $out"; PLUGIN_PROBLEMS=("${PROBLEMS[@]}"); return 1; }
	if ! ROOTFS_ADD="$PLUGIN_ADD $S/sig.json:/etc/systemd/tpm2-pcr-signature.json" ROOTFS_SYSROOT=$PLUGIN_SYSROOT \
		ROOTFS_DLOPEN=$PLUGIN_DLOPEN SEALINIT=$REPO/build/$arch/sealinit \
		timeout 600 "$REPO/tests/qemu/mkimages.sh" "$P" "$arch" >"$S/mkimages.log" 2>&1; then
		problem "mkimages with the plugin payload failed: $(tail -n 3 "$S/mkimages.log")"
		PLUGIN_PROBLEMS=("${PROBLEMS[@]}")
		return 1
	fi
	. "$P/images.env"
	# data.img and the TPM state as in happy, for this rootfs's root hash.
	enroll_for "$arch" "" "$A/sealinit.conf" || { PLUGIN_PROBLEMS=("${PROBLEMS[@]}"); return 1; }
	# The extra disks: bare LUKS2 volumes (header only; --test-passphrase
	# needs no data), enrolled against the same TPM state.
	# (qemu_swtpm_tcp runs in this shell, not in a $(...), so that
	# qemu_swtpm_stop and qemu_cleanup know its PID.)
	rm -f "$S/plugin.img" "$S/signed.img"
	truncate -s 20M "$S/plugin.img"
	truncate -s 20M "$S/signed.img"
	out=$(timeout 60 cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$IMG_RECOVERY_KEY" "$S/plugin.img" 2>&1 &&
	      timeout 60 cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$IMG_RECOVERY_KEY" "$S/signed.img" 2>&1) &&
	qemu_swtpm_tcp "$S/tpm" 2>"$S/swtpm-tcp.err" &&
	out=$(timeout 60 "$HOST_SEALINIT" enroll "$S/plugin.img" --key-file "$IMG_RECOVERY_KEY" --pcrs "$pcrs" --unsafe-pcrs 2>&1 &&
	      timeout 60 "$HOST_SEALINIT" enroll "$S/signed.img" --key-file "$IMG_RECOVERY_KEY" \
		--public-key "$S/pub.pem" --public-key-pcrs 16 --unsafe-pcrs 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$S/tpm/swtpm-tcp.log" "$S/tpm/.lock"
	if [ $rc != 0 ]; then
		problem "enrolling the plugin disks failed: ${out:-$(cat "$S/swtpm-tcp.err")}"
		PLUGIN_PROBLEMS=("${PROBLEMS[@]}")
		return 1
	fi
	echo "info  $arch systemd-plugin: rootfs $(($(stat -c %s "$IMG_ROOTFS") >> 20)) MiB with the payload (plugin at $PLUGIN_TOKENS_DIR), token PCRs $pcrs and signed PCR 16, prepared in $(qemu_elapsed "$t0" "$EPOCHREALTIME") s"
	# shellcheck disable=SC2046
	boot "$arch" "" tpm $(std_disks) "$S/plugin.img:rw:plugin" "$S/signed.img:rw:signed"
	PLUGIN_RC=$RC PLUGIN_DUR=$DUR PLUGIN_PROBLEMS=("${PROBLEMS[@]}")
}

# systemd-plugin: systemd's plugin opens the disk sealinit bound to literal
# PCR values, and refuses it after PCR 16 is extended.
sc_systemd_plugin() {
	local arch=$1 v pcrs
	# Local IMG_* so that boot, std_disks and expect_unlocked use the
	# plugin image set only here.
	# shellcheck disable=SC2034 # set by images.env, some unread here
	local IMG_ARCH IMG_ROOTFS IMG_VERITY IMG_ROOTHASH IMG_DATA IMG_RECOVERY_KEY IMG_MARKER IMG_SEALINIT IMG_EXTRA
	pcrs=PLUGIN_PCRS_$arch
	pcrs=${!pcrs}
	plugin_boot "$arch" || { verdict "$arch" systemd-plugin ""; return; }
	expect_unlocked
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-plugin-dev')
	chk "guest-init did not find the plugin disk ('$v'), want /dev/vdd" [ "$v" = /dev/vdd ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-plugin-exit')
	chk "systemd's token plugin: cryptsetup --token-only exited '$v', want 0" [ "$v" = 0 ]
	chk "cryptsetup did not load systemd's tpm2 plugin" \
		qemu_grep "$LOG" 'SEALINIT-TEST: systemd-plugin-output: .*libcryptsetup-token-systemd-tpm2\.so'
	chk "systemd's plugin does not read the token as bound to PCRs $pcrs" \
		qemu_grep "$LOG" "^SEALINIT-TEST: systemd-plugin-dump: tpm2-hash-pcrs: +${pcrs//+/\\+} *\$"
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr16-extend-exit')
	chk "sealinit measure --pcr 16 in the guest exited '$v', want 0" [ "$v" = 0 ]
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-plugin-after-extend-exit')
	case "$v" in
	[1-9]*) ;;
	*) problem "after extending PCR 16 the plugin exited '$v', want non-zero" ;;
	esac
	grep -a 'SEALINIT-TEST: systemd-plugin-output: ' "$LOG" | grep -aiE 'unlocked|unseal|srk' | head -n 3 |
		sed "s/^SEALINIT-TEST: systemd-plugin-output: /info  $arch systemd-plugin: /"
	grep -a 'SEALINIT-TEST: systemd-plugin-after-extend-output: ' "$LOG" | head -n 2 |
		sed "s/^SEALINIT-TEST: systemd-plugin-after-extend-output: /info  $arch systemd-plugin: after extend: /"
	verdict "$arch" systemd-plugin "systemd 254's token plugin opened the sealinit-enrolled disk (PCRs $pcrs), exit $(qemu_value "$LOG" 'SEALINIT-TEST: systemd-plugin-exit'); after PCR 16 extend exit $v (${DUR} s)"
}

# systemd-signed: the same boot (plugin_boot); systemd's plugin opens the
# disk sealinit bound to a signing key, with the signature file sealinit
# signed, and refuses it once PCR 16 holds a value nobody signed.
sc_systemd_signed() {
	local arch=$1 v want
	# shellcheck disable=SC2034 # set by images.env, some unread here
	local IMG_ARCH IMG_ROOTFS IMG_VERITY IMG_ROOTHASH IMG_DATA IMG_RECOVERY_KEY IMG_MARKER IMG_SEALINIT IMG_EXTRA
	plugin_boot "$arch" || { verdict "$arch" systemd-signed ""; return; }
	chk "guest-init did not finish" qemu_grep "$LOG" '^SEALINIT-TEST: done'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-signed-dev')
	chk "guest-init did not find the signed disk ('$v'), want /dev/vde" [ "$v" = /dev/vde ]
	# The value signed is the one the guest had: PCR 16 before the extend.
	want=$(sed -n 's/^pcr16=//p' "$S/pcr16.values")
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr16')
	chk "PCR 16 in the guest is '$v', the signature approves $want" [ "${v,,}" = "$want" ]
	# systemd reads the token as sealinit wrote it: no PCR bound to its
	# value, PCR 16 bound to the signing key.
	chk "systemd's plugin does not read the token as signed for PCR 16 alone" \
		qemu_grep "$LOG" '^SEALINIT-TEST: systemd-signed-dump: tpm2-pubkey-pcrs: +16 *$'
	chk "systemd's plugin reads literal PCRs in the signed token" \
		qemu_grep "$LOG" '^SEALINIT-TEST: systemd-signed-dump: tpm2-hash-pcrs: *$'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-signed-exit')
	chk "systemd's token plugin with the signature file: cryptsetup --token-only exited '$v', want 0" [ "$v" = 0 ]
	chk "cryptsetup did not load systemd's tpm2 plugin for the signed disk" \
		qemu_grep "$LOG" 'SEALINIT-TEST: systemd-signed-output: .*libcryptsetup-token-systemd-tpm2\.so'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: pcr16-extend-exit')
	chk "sealinit measure --pcr 16 in the guest exited '$v', want 0" [ "$v" = 0 ]
	# Refused because the file has no entry for the new value: systemd
	# found and read the file, and looked the policy up in it.
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: systemd-signed-after-extend-exit')
	case "$v" in
	[1-9]*) ;;
	*) problem "after extending PCR 16 the plugin exited '$v' on the signed disk, want non-zero" ;;
	esac
	chk "after extending PCR 16, systemd did not say that no signature matches" \
		qemu_grep "$LOG" "^SEALINIT-TEST: systemd-signed-after-extend-output: Couldn't find signature for this PCR bank, PCR index and public key\."
	verdict "$arch" systemd-signed "systemd 254's token plugin opened the disk sealinit bound to a signing key (PCR 16) with sealinit's signature from /etc/systemd, exit $(qemu_value "$LOG" 'SEALINIT-TEST: systemd-signed-exit'); after PCR 16 extend exit $v, no signature for the new value (${DUR} s)"
}

# --- the legacy network fetch -----------------------------------------------------
QEMU_EXTRA=()
LEGACY_MAC=52:54:00:5e:a1:01
LEGACY_FOR=""
# legacy_prepare: once per arch: certificates, the server state holding the
# data volume's passphrase as the resource, a server with the right
# certificate and one with a certificate from another CA, and the legacy
# initramfs (busybox for udhcpc, virtio_net, the CA and the credentials).
legacy_prepare() {
	local arch=$1 L=$A/legacy-server name cert
	[ "$LEGACY_FOR" = "$arch" ] && return 0
	LEGACY_ERR=""
	rm -rf "$L"
	mkdir -p "$L"
	bash "$REPO/tests/legacy-server/mkcerts.sh" "$L/pki" >"$L/mkcerts.log" 2>&1 ||
		{ LEGACY_ERR="mkcerts: $(tail -n 2 "$L/mkcerts.log")"; return 1; }
	printf 'boot test password\n' >"$L/password"
	printf 'email=fleet-device@example.test\npassword=boot test password\n' >"$L/cred"
	chmod 600 "$L/cred"
	/usr/bin/python3 "$REPO/tests/legacy-server/provision.py" "$L/state" --email fleet-device@example.test \
		--password-file "$L/password" --fingerprint "mac:eth0=$LEGACY_MAC" --salt qemu-salt \
		--resource data --secret-file "$IMG_RECOVERY_KEY" >/dev/null 2>"$L/provision.err" ||
		{ LEGACY_ERR="provision: $(tail -n 2 "$L/provision.err")"; return 1; }
	: >"$L/mode"
	for name in good rogue; do
		cert=server
		[ "$name" = rogue ] && cert=rogue
		/usr/bin/python3 "$REPO/tests/legacy-server/server.py" --state "$L/state" \
			--cert "$L/pki/$cert.pem" --key "$L/pki/$cert.key" --mode-file "$L/mode" \
			--log "$L/$name.log" --ready-file "$L/$name.ready" 2>>"$L/server.err" &
		QEMU_HELPER_PIDS+=($!)
		for _ in $(seq 200); do [ -s "$L/$name.ready" ] && break; sleep 0.025; done
		[ -s "$L/$name.ready" ] || { LEGACY_ERR="server $name did not start: $(tail -n 2 "$L/server.err")"; return 1; }
	done
	printf '%s\n' root=/dev/vda hashdev=/dev/vdc data=/dev/vdb mount=/var/lib/sealdata \
		pcr=15 pcrs=15 failure=poweroff legacy_resource=data \
		legacy_ca=/etc/sealinit/legacy-ca.pem legacy_fingerprint=mac:eth0 \
		legacy_connect_timeout=3000 legacy_timeout=4000 legacy_retries=1 legacy_deadline=8000 \
		net_timeout=8000 >"$L/sealinit.conf"
	legacy_initrd "$arch" "$L/sealinit.conf" "$L/initrd.cpio.gz" || { LEGACY_ERR=$INITRD_ERR; return 1; }
	echo "info  $arch legacy: server on 127.0.0.1 (guest: 10.0.2.2), initramfs with busybox + libcurl $(($(stat -c %s "$L/initrd.cpio.gz") >> 10)) KiB"
	LEGACY_FOR=$arch
}
# legacy_initrd ARCH CONF OUT: the legacy initramfs (busybox for udhcpc,
# virtio_net, the CA and the credentials) with CONF; INITRD_ERR on failure.
legacy_initrd() {
	local L=$A/legacy-server aes
	case "$1" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$1" --sealinit "$REPO/build/$1/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk virtio_net dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$2" --busybox yes --compress zstd \
		--add "$L/pki/ca.pem:/etc/sealinit/legacy-ca.pem" --add "$L/cred:/etc/sealinit/legacy.cred" \
		--out "$3" >"$3.log" 2>&1 || { INITRD_ERR="mkinitramfs: $(tail -n 3 "$3.log")"; return 1; }
}
# legacy_append SERVER: the kernel command line naming SERVER's ports.
legacy_append() {
	local L=$A/legacy-server api cdn
	api=$(sed -n 's/^api_port=//p' "$L/$1.ready")
	cdn=$(sed -n 's/^cdn_port=//p' "$L/$1.ready")
	echo "sealinit.legacy_api=https://api.legacy.test:$api sealinit.legacy_resolve=api.legacy.test:$api:10.0.2.2,cdn.legacy.test:$cdn:10.0.2.2"
}
net_on() { QEMU_EXTRA=(-netdev user,id=n0 -device "virtio-net-pci,netdev=n0,mac=$LEGACY_MAC,romfile="); }
net_off() { QEMU_EXTRA=(); }
# legacy_scenario NAME: prepare, or fail the scenario; then new_scenario.
legacy_scenario() {
	if ! legacy_prepare "$ARCH"; then
		problem "legacy setup: $LEGACY_ERR"
		verdict "$ARCH" "$1" ""
		return 1
	fi
	new_scenario "$1"
	LEGACY_INITRD=$A/legacy-server/initrd.cpio.gz
}
# What an unlock by the network shows.
expect_unlocked_legacy() {
	local v
	chk "qemu exit $RC, want 0 (124: timeout)" [ "$RC" = 0 ]
	chk "sealinit FAILED: $(failed_line "$LOG")" not qemu_grep "$LOG" '^sealinit: FAILED'
	chk "guest-init did not finish" qemu_grep "$LOG" 'SEALINIT-TEST: done'
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	chk "marker '$v', want '$IMG_MARKER'" [ "$v" = "$IMG_MARKER" ]
	chk "not unlocked via legacy" qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata via legacy'
	chk "no verified key material" qemu_grep "$LOG" '^sealinit: legacy key opened keyslot 0'
	v=$(grep -ac -- "$IMG_MARKER" "$S/data.img")
	chk "data.img holds the marker in plaintext ($v hits)" [ "$v" = 0 ]
}
# Seconds from sealinit's start to power-down: SECONDS <= LIMIT.
bounded_by() {
	local t0 t1 dt
	t0=$(sealinit_start "$LOG") t1=$(powerdown_at "$LOG")
	if [ -z "$t0" ] || [ -z "$t1" ]; then
		problem "no sealinit start or power-down timestamp in the log"
		return
	fi
	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	chk "power down ${dt} s after sealinit started, more than the configured $1 s + 15 s" \
		awk -v d="$dt" -v t="$1" 'BEGIN { exit !(d <= t + 15) }'
	BOUND_DT=$dt
}

sc_legacy() {
	local arch=$1
	legacy_scenario legacy || return
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) sealinit.keysources=legacy ip=dhcp SSLKEYLOGFILE=/dev/console" \
		notpm $(std_disks)
	net_off
	expect_unlocked_legacy
	chk "no DHCP lease line" qemu_grep "$LOG" '^sealinit: legacy: network up: eth0 10\.0\.2\.15'
	chk "a TLS key log line on the console: the kernel's SSLKEYLOGFILE reached libcurl" \
		not qemu_grep "$LOG" '(CLIENT_RANDOM|TRAFFIC_SECRET)'
	chk "the TPM was waited for" not qemu_grep "$LOG" 'waiting for TPM'
	grep -aE '^sealinit: \[ *[0-9.]+\] legacy: ' "$LOG" | sed "s/^sealinit: /info  $arch legacy: /"
	verdict "$arch" legacy "no TPM; DHCP, login, small part, CDN part, verified; marker read in the new root (${DUR} s)"
}

sc_legacy_stall() {
	local arch=$1
	legacy_scenario legacy-stall || return
	# A device without a TPM, so a volume without a TPM token: with one,
	# the network is refused (tpm-kept-away).
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	echo stall-api >"$A/legacy-server/mode"
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) sealinit.device_timeout=$DEV_TIMEOUT_MS ip=dhcp" notpm $(std_disks)
	net_off
	: >"$A/legacy-server/mode"
	expect_failure 'legacy: network deadline passed \(.*deadline of 8000 ms'
	# The TPM wait, the network, the fetch's deadline.
	bounded_by $(( (DEV_TIMEOUT_MS + 8000 + 8000) / 1000 ))
	verdict "$arch" legacy-stall "'${FAILED_LINE:0:160}'; powered down ${BOUND_DT:-?} s after sealinit started (${DUR} s)"
}

sc_legacy_nonet() {
	local arch=$1
	legacy_scenario legacy-nonet || return
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) sealinit.keysources=legacy sealinit.net_timeout=3000 ip=dhcp" notpm $(std_disks)
	expect_failure 'legacy: network unavailable \(no network interface'
	bounded_by 3
	verdict "$arch" legacy-nonet "'${FAILED_LINE}'; powered down ${BOUND_DT:-?} s after sealinit started (${DUR} s)"
}

sc_legacy_wrongca() {
	local arch=$1
	legacy_scenario legacy-wrongca || return
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append rogue) sealinit.keysources=legacy ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off" \
		notpm $(std_disks)
	net_off
	expect_failure 'legacy: TLS verification failed'
	verdict "$arch" legacy-wrongca "static ip=; '${FAILED_LINE:0:160}' (${DUR} s)"
}

sc_legacy_cfgpart() {
	local arch=$1 mode
	legacy_scenario legacy-cfgpart || return
	for mode in 600 644; do
		rm -rf "$S/cfg" "$S/cfg.img"
		mkdir -p "$S/cfg/creds"
		cp "$A/legacy-server/cred" "$S/cfg/creds/device.cred"
		chmod "$mode" "$S/cfg/creds/device.cred"
		timeout 60 mke2fs -q -t ext4 -b 4096 -d "$S/cfg" "$S/cfg.img" 8M ||
			{ problem "mke2fs of the config partition"; break; }
		net_on
		# shellcheck disable=SC2046
		INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) sealinit.keysources=legacy ip=dhcp sealinit.legacy_credentials_dev=/dev/vdd sealinit.legacy_credentials=/creds/device.cred" \
			notpm $(std_disks) "$S/cfg.img:ro:config"
		net_off
		if [ "$mode" = 600 ]; then
			expect_unlocked_legacy
			mv "$LOG" "$S/serial-600.log"
		else
			expect_failure 'legacy credentials missing or unsafe \(.*mode 0644'
		fi
	done
	verdict "$arch" legacy-cfgpart "credentials from /dev/vdd (ext4): 0600 unlocks, 0644 refused: '${FAILED_LINE:0:120}' (${DUR} s)"
}

sc_tpm_only() {
	local arch=$1 before after
	legacy_scenario tpm-only || return
	before=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) sealinit.keysources=tpm2 sealinit.device_timeout=$DEV_TIMEOUT_MS ip=dhcp" \
		notpm $(std_disks)
	net_off
	after=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	expect_failure 'no TPM'
	chk "the legacy source ran although keysources=tpm2" not qemu_grep "$LOG" '^sealinit: legacy'
	chk "the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	verdict "$arch" tpm-only "'${FAILED_LINE}'; no request to the server (${DUR} s)"
}

sc_legacy_after_mismatch() {
	local arch=$1 before after other
	legacy_scenario legacy-after-mismatch || return
	# The volume opens with the legacy key (keyslot 0) and has a TPM token
	# sealed to another rootfs: the TPM refuses this boot.
	other=$(sha256_str "some other rootfs")
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	enroll_into "$S/tpm" "$S/data.img" "sealinit:verity:$other" 2>"$S/enroll.log" ||
		{ problem "enroll failed: $(tail -n 1 "$S/enroll.log")"; verdict "$arch" legacy-after-mismatch ""; return; }
	before=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$(legacy_append good) ip=dhcp" tpm $(std_disks)
	net_off
	after=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	expect_failure 'system state changed since enrollment \(PCR policy mismatch\)'
	chk "no line saying the legacy source was not tried" \
		qemu_grep "$LOG" '^sealinit: legacy: not tried: the TPM refused this boot'
	chk "the legacy source ran after the TPM refused" not qemu_grep "$LOG" '^sealinit: legacy: (logging|network)'
	chk "the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	verdict "$arch" legacy-after-mismatch "'${FAILED_LINE}'; no request to the server (${DUR} s)"
}

# server_requests: lines of the good server's request log so far.
server_requests() { cat "$A/legacy-server/good.log" 2>/dev/null | wc -l; }
# expect_record SOURCE TOKEN KEYSLOT: /run/sealinit/unlock as the booted
# system read it (guest-init), 0644.
expect_record() {
	local want got
	want="source=$1 token=$2 keyslot=$3 device=/dev/vdb uuid=$LUKS_UUID"
	got=$(sed -n 's/^SEALINIT-TEST: unlock-record: //p' "$LOG" | paste -sd ' ' -)
	chk "/run/sealinit/unlock is '$got', want '$want'" [ "$got" = "$want" ]
	got=$(qemu_value "$LOG" 'SEALINIT-TEST: unlock-record-mode')
	chk "/run/sealinit/unlock mode '$got', want 644" [ "$got" = 644 ]
}

# tpm-kept-away: a volume with a TPM token, the legacy fetch configured and
# the server up, and the TPM kept from appearing: on aarch64 by
# module_blacklist=tpm_tis (a kernel argument that is not ours), on x86_64
# (tpm_tis built in) by no TPM at all. The TPM token proves a TPM is
# expected: refused by name, no request, the header unchanged. Controls:
# the same volume with its TPM unlocks by the TPM (and records it in
# /run/sealinit/unlock); a volume without a TPM token and no TPM still
# unlocks by the network.
sc_tpm_kept_away() {
	local arch=$1 ap before after h0 h1 attack withtpm
	legacy_scenario tpm-kept-away || return
	ap="$(legacy_append good) ip=dhcp"
	enroll_for "$arch" "$ap" "$A/legacy-server/sealinit.conf" || { verdict "$arch" tpm-kept-away ""; return; }
	# Control: the TPM there, nothing kept away.
	before=$(server_requests)
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$ap" tpm $(std_disks)
	net_off
	after=$(server_requests)
	expect_unlocked
	chk "control: not unlocked via tpm2" qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata via tpm2'
	chk "control: the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	expect_record tpm2 0 1
	mv "$LOG" "$S/serial-control.log"
	# The attack.
	case "$arch" in
	aarch64) attack="module_blacklist=tpm_tis sealinit.device_timeout=$DEV_TIMEOUT_MS" withtpm=tpm ;;
	*) attack="sealinit.device_timeout=$DEV_TIMEOUT_MS" withtpm=notpm ;;
	esac
	h0=$(header_sha "$S/data.img")
	before=$(server_requests)
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$ap $attack" "$withtpm" $(std_disks)
	net_off
	after=$(server_requests)
	expect_failure "legacy: refused: the data volume has TPM token\(s\) 0 but no TPM appeared within $DEV_TIMEOUT_MS ms; refusing the network fallback"
	chk "attack: the legacy source ran" not qemu_grep "$LOG" '^sealinit: legacy: (logging|network)'
	chk "attack: the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	h1=$(header_sha "$S/data.img")
	chk "attack: the LUKS2 header changed" [ "$h0" = "$h1" ]
	local fl=$FAILED_LINE
	mv "$LOG" "$S/serial-attack.log"
	# Control of the rule: no TPM token, no TPM: the network unlocks.
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	net_on
	# shellcheck disable=SC2046
	INITRD=$LEGACY_INITRD boot "$arch" "$ap sealinit.device_timeout=$DEV_TIMEOUT_MS" notpm $(std_disks)
	net_off
	expect_unlocked_legacy
	expect_record legacy -1 0
	verdict "$arch" tpm-kept-away "${attack%% *}: '${fl:0:150}...'; no request, header unchanged; controls: TPM unlock, TPM-less network unlock (${DUR} s)"
}

# tpm-blacklist: locked down, kernel arguments that keep the TPM's driver
# (or a module of the initramfs) from loading are refused by name before
# any device is touched; a blacklist of a module the initramfs does not
# load boots (control).
sc_tpm_blacklist() {
	local arch=$1 mod
	new_scenario tpm-blacklist
	REFUSED=()
	lockdown_initrd || { verdict "$arch" tpm-blacklist ""; return; }
	# tpm_tis is a module on arm64 and built in on amd64 (so not listed).
	case "$arch" in aarch64) mod=tpm_tis ;; *) mod=dm_crypt ;; esac
	lockdown_refuses "module_blacklist=$mod" "\`module_blacklist=$mod': refused, this build is locked down; it keeps the initramfs's module $mod from loading"
	lockdown_refuses "initcall_blacklist=init_tis" "\`initcall_blacklist=init_tis': refused, this build is locked down"
	enroll_for "$arch" "module_blacklist=nouveau" "$A/sealinit-lockdown.conf" || { verdict "$arch" tpm-blacklist ""; return; }
	# shellcheck disable=SC2046
	INITRD=$A/initrd-lockdown.cpio.gz boot "$arch" "module_blacklist=nouveau" tpm $(std_disks)
	expect_unlocked
	verdict "$arch" tpm-blacklist "${#REFUSED[@]} refused ('${REFUSED[0]}...'); module_blacklist=nouveau unlocks (${DUR} s)"
}

# late-tpm-cap: (aarch64) a TPM that appears after the boot stopped
# waiting: the stand-in tee-supplicant (tee_stand_in), ready at once, loads
# tpm_tis 1 s after it starts,
# sealinit.device_timeout=300. A volume without a TPM token unlocks by the
# network, and the TPM then gets the boot's events and the cap before the
# real init: PCR 15 in the booted guest is their replay with the cap, as
# predicted. Attack: the same short wait on a volume with a TPM token is
# refused by name, no request, the header unchanged; control: that volume
# with the configured wait unlocks by the TPM.
late_tpm_initrd() {
	local aes kver
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	kver=$(cat "$KDIR/kver")
	{ cat "$A/legacy-server/sealinit.conf"; echo tee_supplicant=/usr/sbin/tee-supplicant; } >"$S/sealinit.conf"
	# Ready at once (it holds /dev/teepriv0), the TPM a second later.
	tee_stand_in "$S/late-tpm.sh" 'sleep 1' 'insmod /lib/tpm_tis.ko'
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" --sealinit "$REPO/build/$ARCH/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis_core virtio_pci virtio_blk virtio_net dm_mod dm_crypt dm_verity xts ecb $aes" \
		--config "$S/sealinit.conf" --busybox yes --compress zstd \
		--add "$A/legacy-server/pki/ca.pem:/etc/sealinit/legacy-ca.pem" --add "$A/legacy-server/cred:/etc/sealinit/legacy.cred" \
		--add "$S/late-tpm.sh:/usr/sbin/tee-supplicant" \
		--add "$KDIR/lib/modules/$kver/kernel/drivers/char/tpm/tpm_tis.ko:/lib/tpm_tis.ko" \
		--out "$S/initrd.cpio.gz" >"$S/mkinitramfs.log" 2>&1 || { problem "mkinitramfs: $(tail -n 2 "$S/mkinitramfs.log")"; return 1; }
}
sc_late_tpm_cap() {
	local arch=$1 ap before after h0 h1 fl
	[ "$arch" = aarch64 ] || { skip "$arch" late-tpm-cap "tpm_tis is built into the $arch kernel"; return; }
	legacy_scenario late-tpm-cap || return
	late_tpm_initrd || { verdict "$arch" late-tpm-cap ""; return; }
	ap="$(legacy_append good) ip=dhcp"
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	predict_boot "$arch" "$ap sealinit.device_timeout=300" "$S/sealinit.conf" 2>"$S/predict.log" ||
		{ problem "predict: $(tail -n 1 "$S/predict.log")"; verdict "$arch" late-tpm-cap ""; return; }
	net_on
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap sealinit.device_timeout=300" tpm $(std_disks)
	net_off
	expect_unlocked_legacy
	chk "the TPM was there before the wait ended" qemu_grep "$LOG" '^sealinit: no TPM \(/dev/tpmrm0 did not appear within 300 ms\)'
	chk "no line saying the late TPM was measured and capped" \
		qemu_grep "$LOG" '^sealinit: the TPM /dev/tpmrm0 is here now, after the boot stopped waiting for it: extending this boot.s 4 measurements and capping PCR 15'
	expect_measured
	expect_record legacy -1 0
	mv "$LOG" "$S/serial-late.log"
	# The attack and its control: a volume with a TPM token.
	enroll_for "$arch" "$ap" "$S/sealinit.conf" || { verdict "$arch" late-tpm-cap ""; return; }
	h0=$(header_sha "$S/data.img")
	before=$(server_requests)
	net_on
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap sealinit.device_timeout=300" tpm $(std_disks)
	net_off
	after=$(server_requests)
	expect_failure "legacy: refused: the data volume has TPM token\(s\) 0 but no TPM appeared within 300 ms; refusing the network fallback"
	chk "attack: the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	h1=$(header_sha "$S/data.img")
	chk "attack: the LUKS2 header changed" [ "$h0" = "$h1" ]
	fl=$FAILED_LINE
	mv "$LOG" "$S/serial-attack.log"
	net_on
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks)
	net_off
	expect_unlocked
	expect_record tpm2 0 1
	verdict "$arch" late-tpm-cap "late TPM measured and capped (PCR 15 as predicted); short wait on a TPM token: '${fl:0:100}...'; control: TPM unlock (${DUR} s)"
}

# migrate_initrd ARCH APPEND: $S/initrd.cpio.gz, the legacy initramfs
# whose config migrates (and finishes) and pins the command line that boot
# passes for APPEND: the state the TPM is sealed to is computed from it.
migrate_initrd() {
	{ cat "$A/legacy-server/sealinit.conf"
	  printf '%s\n' migrate=yes migrate_finish=yes "cmdline=$(boot_cmdline "$1" "$2")"; } >"$S/sealinit.conf"
	legacy_initrd "$1" "$S/sealinit.conf" "$S/initrd.cpio.gz" || { problem "$INITRD_ERR"; return 1; }
}

sc_migrate() {
	local arch=$1 v ap
	legacy_scenario migrate || return
	# A volume never enrolled, and a TPM that has never seen it.
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	rm -rf "$S/tpm"
	ap="$(legacy_append good) ip=dhcp"
	migrate_initrd "$arch" "$ap" || { verdict "$arch" migrate ""; return; }
	predict_boot "$arch" "$ap" "$S/sealinit.conf" 2>"$S/predict.log" || problem "predict: $(tail -n 1 "$S/predict.log")"
	net_on
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks)
	net_off
	expect_unlocked_legacy
	chk "boot 1: tpm2 did not report the missing token" qemu_grep "$LOG" '^sealinit: tpm2: no systemd-tpm2 token'
	chk "boot 1: no migration line" qemu_grep "$LOG" '^sealinit: migrated: TPM keyslot 1 enrolled'
	v=$(timeout 60 cryptsetup luksDump "$S/data.img" | grep -cE '^  [0-9]+: systemd-tpm2')
	chk "boot 1: $v systemd-tpm2 tokens on the volume, want 1" [ "$v" = 1 ]
	chk "boot 1: the TPM was not sealed to the expected state" \
		qemu_grep "$LOG" '^sealinit: migrating: sealing to the expected state of PCR 15'
	mv "$LOG" "$S/serial-boot1.log"
	# Boot 2: the same command line, and no network device at all.
	# shellcheck disable=SC2046
	INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks)
	expect_unlocked
	chk "boot 2: not unlocked via tpm2" qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata via tpm2'
	chk "boot 2: no migration-finished line" qemu_grep "$LOG" '^sealinit: migration finished: legacy keyslot 0 removed'
	chk "boot 2: the legacy key still opens the volume" \
		not sh -c "timeout 60 cryptsetup open --test-passphrase --key-file '$IMG_RECOVERY_KEY' '$S/data.img' 2>/dev/null"
	verdict "$arch" migrate "boot 1 legacy + TPM enrolled; boot 2 without network: TPM unlock, legacy keyslot removed (${DUR} s)"
}

# A substituted root for a device that is migrating: its own verity tree,
# its root hash on the command line. The pinned command line refuses it
# before the network is up: the server sees nothing, and no TPM keyslot is
# made for the attacker's root (sc_migrate is the control).
sc_migrate_tampered() {
	local arch=$1 ap before after out h0 h1 hash
	legacy_scenario migrate-tampered || return
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	rm -rf "$S/tpm"
	ap="$(legacy_append good) ip=dhcp"
	migrate_initrd "$arch" "$ap" || { verdict "$arch" migrate-tampered ""; return; }
	cp --sparse=always "$IMG_ROOTFS" "$S/rootfs.img"
	printf 'X' | dd of="$S/rootfs.img" bs=1 seek=$(($(stat -c %s "$S/rootfs.img") - 100)) conv=notrunc status=none
	out=$(timeout 120 veritysetup format "$S/rootfs.img" "$S/rootfs.verity" 2>&1) ||
		{ problem "veritysetup format: $out"; verdict "$arch" migrate-tampered ""; return; }
	hash=$(sed -n 's/^Root hash:[[:space:]]*//p' <<<"$out")
	[ ${#hash} = 64 ] || { problem "no root hash for the substituted root"; verdict "$arch" migrate-tampered ""; return; }
	h0=$(header_sha "$S/data.img")
	before=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	net_on
	INITRD=$S/initrd.cpio.gz ROOTHASH=$hash boot "$arch" "$ap" tpm \
		"$S/rootfs.img:ro:rootfs" "$S/data.img:rw:data" "$S/rootfs.verity:ro:verity"
	net_off
	after=$(cat "$A/legacy-server/good.log" 2>/dev/null | wc -l)
	expect_failure "the kernel command line differs from cmdline= in the configuration: \`roothash=$hash' where \`roothash=$IMG_ROOTHASH' was expected"
	chk "the server saw $((after - before)) requests, want 0" [ "$after" = "$before" ]
	h1=$(header_sha "$S/data.img")
	chk "the LUKS2 header changed: a keyslot for the substituted root?" [ "$h0" = "$h1" ]
	chk "a systemd-tpm2 token on the volume" \
		not sh -c "timeout 60 cryptsetup luksDump '$S/data.img' | grep -qE '^  [0-9]+: systemd-tpm2'"
	verdict "$arch" migrate-tampered "'${FAILED_LINE:0:110}...'; no request, header unchanged (${DUR} s)"
}

# --- replay: an attacker's initramfs that knows the public events -------------
# replay_initrd OUT EVENTS_FILE: an initramfs whose /init is the attacker's:
# busybox, the same kernel modules, sealinit as a tool; it extends each
# line of EVENTS_FILE into PCR 15 (the events are public: `sealinit
# predict' computes them from public artifacts), then asks the TPM for the
# key with `sealinit unlock --test', and reports the exit code.
replay_initrd() {
	local aes
	case "$ARCH" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	cat >"$S/replay-init" <<'EOF'
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "REPLAY: $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/cryptsetup
while read -r ko; do
	case "$ko" in ''|'#'*) continue ;; esac
	insmod "${ko%%:*}" 2>/dev/null
done </etc/sealinit/modules
i=0
while { [ ! -e /dev/tpmrm0 ] || [ ! -e /dev/vdb ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
n=0
while IFS= read -r e; do
	sealinit measure --pcr 15 --string "$e" >/dev/null 2>&1 && n=$((n + 1))
done </etc/replay-events
say "extended=$n"
out=$(sealinit unlock /dev/vdb --test 2>&1)
say "unlock-exit=$?"
echo "$out" | head -n 2 | sed 's/^/REPLAY: unlock-output: /'
poweroff -f
sleep 5
EOF
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" --init-script "$S/replay-init" \
		--sealinit "$REPO/build/$ARCH/sealinit" --kernel-dir "$KDIR" \
		--modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes" \
		--add "$2:/etc/replay-events" --busybox yes --out "$1" >"$1.log" 2>&1 ||
		{ problem "mkinitramfs (attacker's): $(tail -n 2 "$1.log")"; return 1; }
}
# replay_boot FIRMWARE INITRD APPEND: the attacker's boot, with the
# scenario's TPM state and data.img; sets REPLAY_EXIT and REPLAY_N.
replay_boot() {
	# shellcheck disable=SC2046
	QEMU_FIRMWARE=$1 QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$2 boot "$ARCH" "$3" tpm $(std_disks)
	REPLAY_EXIT=$(qemu_value "$LOG" 'REPLAY: unlock-exit')
	REPLAY_N=$(qemu_value "$LOG" 'REPLAY: extended')
}
REPLAY_TIMEOUT=${REPLAY_TIMEOUT:-300}

# The attack: after a reset, anything that runs instead of sealinit can
# extend sealinit's public events. Against a token bound to PCR 15 alone
# it gets the key (the control: the attack is real). Under measured UEFI
# boot, a token also bound to PCRs 4, 7 and 9 (the kernel, the secure-boot
# state, the command line and the initramfs: docs/firmware-pcrs.md) is
# enrolled the way a device migrates (the legacy key, then the TPM sealed
# to 4+7+9 as the firmware measured them and to 15 as the configuration
# expects); it opens on the genuine boot and refuses the attacker's.
sc_replay() {
	local arch=$1 ap cmd v
	legacy_scenario replay || return
	# 1. The control of the attack: direct boot, the PCR-15-only token.
	printf '%s\n' "${A_EVENTS[@]}" >"$S/events-direct"
	replay_initrd "$S/replay-direct.cpio.gz" "$S/events-direct" || { verdict "$arch" replay ""; return; }
	replay_boot "" "$S/replay-direct.cpio.gz" ""
	chk "direct boot: the attacker extended ${REPLAY_N:-no} events, want ${#A_EVENTS[@]}" [ "$REPLAY_N" = "${#A_EVENTS[@]}" ]
	chk "direct boot: the attacker's unlock --test exited '$REPLAY_EXIT', want 0: the control of the attack failed" \
		[ "$REPLAY_EXIT" = 0 ]
	mv "$LOG" "$S/serial-direct.log"
	# 2. The genuine device, migrating under UEFI: the legacy key, then
	# the TPM sealed to 4+7+9+15. The firmware adds ` initrd=initrd' to the
	# command line, which the pinned one must say too.
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	rm -rf "$S/tpm"
	ap="$(legacy_append good) ip=dhcp"
	cmd="$(boot_cmdline "$arch" "$ap") initrd=initrd"
	{ cat "$A/legacy-server/sealinit.conf"
	  printf '%s\n' migrate=yes migrate_finish=yes migrate_pcrs=4+7+9+15 "cmdline=$cmd"; } >"$S/sealinit.conf"
	legacy_initrd "$arch" "$S/sealinit.conf" "$S/initrd.cpio.gz" || { problem "$INITRD_ERR"; verdict "$arch" replay ""; return; }
	qemu_predict "$HOST_SEALINIT" "$S/sealinit.conf" "$cmd" 2>"$S/predict.log" ||
		{ problem "predict: $(tail -n 1 "$S/predict.log")"; verdict "$arch" replay ""; return; }
	EVENTS=("${QEMU_EVENTS[@]}") PREDICTED=$QEMU_PREDICTED
	net_on
	# shellcheck disable=SC2046
	QEMU_FIRMWARE=uefi QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks)
	net_off
	expect_unlocked_legacy
	chk "UEFI boot 1: no migration line" qemu_grep "$LOG" '^sealinit: migrated: TPM keyslot 1 enrolled'
	v=$(timeout 60 cryptsetup token export --token-id 1 "$S/data.img" 2>/dev/null | tr -d ' \n')
	chk "the migration's token is not bound to PCRs 4, 7, 9 and 15 (${v:0:120})" grep -q '"tpm2-pcrs":\[4,7,9,15\]' <<<"$v"
	mv "$LOG" "$S/serial-uefi-migrate.log"
	# 3. The genuine boot again, no network: the TPM opens the volume.
	# shellcheck disable=SC2046
	QEMU_FIRMWARE=uefi QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$S/initrd.cpio.gz boot "$arch" "$ap" tpm $(std_disks)
	expect_unlocked
	chk "UEFI boot 2: not unlocked via tpm2" qemu_grep "$LOG" '^sealinit: unlocked /dev/vdb as /dev/mapper/sealdata via tpm2'
	mv "$LOG" "$S/serial-uefi-genuine.log"
	# 4. The attacker's initramfs, the same kernel and command line, every
	# public event replayed: PCR 9 now holds another initramfs.
	printf '%s\n' "${EVENTS[@]}" >"$S/events-uefi"
	replay_initrd "$S/replay-uefi.cpio.gz" "$S/events-uefi" || { verdict "$arch" replay ""; return; }
	replay_boot uefi "$S/replay-uefi.cpio.gz" "$ap"
	chk "UEFI: the attacker extended ${REPLAY_N:-no} events, want ${#EVENTS[@]}" [ "$REPLAY_N" = "${#EVENTS[@]}" ]
	chk "UEFI: the attacker's unlock --test exited '$REPLAY_EXIT', want 4 (PCR policy mismatch)" [ "$REPLAY_EXIT" = 4 ]
	chk "the marker appeared in the attacker's boot" not grep -aq -- "$IMG_MARKER" "$LOG"
	verdict "$arch" replay "PCR 15 alone (direct boot): the replay unseals (exit 0); 4+7+9+15 under UEFI: the genuine boot unlocks, the replay exits ${REPLAY_EXIT:-?} (${DUR} s)"
}

# --- failure-record: the last failure survives the reboot (UEFI) ---------------
FAILREC_VAR=SealinitLastFailure-a2504ad1-3114-4646-8943-1a06cf0ddc12
sc_failure_record() {
	local arch=$1 ap=sealtest.clear_failure=1 cmd aes vars cause n v
	new_scenario failure-record
	# The production policy (board/*/sealinit.conf): reboot. The devices by
	# UUID, so that boot 1's missing data disk does not shift the others.
	printf '%s\n' root=/dev/vda "hashdev=UUID=$VERITY_UUID" "data=UUID=$LUKS_UUID" \
		mount=/var/lib/sealdata pcr=15 pcrs=15 failure=reboot failure_delay=1 \
		"device_timeout=$DEV_TIMEOUT_MS" >"$S/sealinit.conf"
	case "$arch" in aarch64) aes=aes_ce_blk ;; *) aes=aesni_intel ;; esac
	# efivarfs is a module in Debian's kernels.
	timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$arch" --sealinit "$REPO/build/$arch/sealinit" \
		--kernel-dir "$KDIR" --modules "tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb $aes efivarfs" \
		--config "$S/sealinit.conf" --busybox no --out "$S/initrd.cpio.gz" >"$S/mkinitramfs.log" 2>&1 ||
		{ problem "mkinitramfs: $(tail -n 2 "$S/mkinitramfs.log")"; verdict "$arch" failure-record ""; return; }
	# Enrolled for boots 2 and 3, whose command line the firmware ends
	# with ` initrd=initrd'.
	cmd="$(boot_cmdline "$arch" "$ap") initrd=initrd"
	qemu_predict "$HOST_SEALINIT" "$S/sealinit.conf" "$cmd" 2>"$S/predict.log" ||
		{ problem "predict: $(tail -n 1 "$S/predict.log")"; verdict "$arch" failure-record ""; return; }
	EVENTS=("${QEMU_EVENTS[@]}") PREDICTED=$QEMU_PREDICTED
	cp --sparse=always "$IMG_DATA" "$S/data.img"
	enroll_into "$S/tpm" "$S/data.img" "${EVENTS[@]}" 2>"$S/enroll.log" ||
		{ problem "enroll: $(tail -n 2 "$S/enroll.log")"; verdict "$arch" failure-record ""; return; }

	# 1. No data disk: the boot fails, records why, reboots.
	QEMU_FIRMWARE=uefi QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$S/initrd.cpio.gz \
		boot "$arch" "" tpm "$IMG_ROOTFS:ro:rootfs" "$IMG_VERITY:ro:verity"
	vars=$QEMU_UEFI_VARS_COPY
	cause="data device UUID=$LUKS_UUID did not appear within $DEV_TIMEOUT_MS ms"
	chk "boot 1: qemu exit $RC, want 0 (the reboot, under -no-reboot)" [ "$RC" = 0 ]
	chk "boot 1: FAILED line '$(failed_line "$LOG")', want '$cause'" [ "$(failed_line "$LOG")" = "$cause" ]
	chk "boot 1: no 'failure policy: reboot' line" qemu_grep "$LOG" '^sealinit: the data volume stays locked; failure policy: reboot$'
	chk "boot 1: the failure was not recorded" \
		qemu_grep "$LOG" "^sealinit: failure recorded in EFI variable $FAILREC_VAR \\(1 in a row\\)"
	chk "boot 1: no reboot line naming the way to hold the loop" \
		qemu_grep "$LOG" '^sealinit: rebooting in 1 s \(failure_delay=1, .*sealinit\.failure_delay=3600'
	chk "boot 1: the kernel did not restart" qemu_grep "$LOG" 'reboot: Restarting system'
	chk "boot 1: a key was released" not qemu_grep "$LOG" 'sealinit: (unsealed with token|unlocked /dev)'
	mv "$LOG" "$S/serial-1-failed.log"

	# 2. The same machine (its variable store), the data disk back.
	# shellcheck disable=SC2046
	QEMU_FIRMWARE=uefi QEMU_UEFI_VARS=$vars QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$S/initrd.cpio.gz \
		boot "$arch" "$ap" tpm $(std_disks)
	vars=$QEMU_UEFI_VARS_COPY
	expect_unlocked
	n=$(grep -ac "^sealinit: the previous boot failed (1 in a row, 1 recorded; .*; policy reboot; sealinit .*): $cause\$" "$LOG")
	chk "boot 2: the previous failure printed $n times on the console, want once: $(grep -a 'previous boot' "$LOG" | head -n 1)" [ "$n" = 1 ]
	chk "boot 2: the previous failure is not in the kernel log" \
		qemu_grep "$LOG" "^\\[ *[0-9.]+\\] sealinit: the previous boot failed \\(1 in a row"
	v=$(qemu_value "$LOG" 'SEALINIT-TEST: last-failure-exit')
	chk "boot 2: sealinit last-failure exited '$v', want 0" [ "$v" = 0 ]
	chk "boot 2: last-failure does not show the FAILED line" \
		grep -aqxF "SEALINIT-TEST: last-failure:   FAILED: $cause" "$LOG"
	chk "boot 2: last-failure does not say a boot succeeded since" \
		grep -aqxF "SEALINIT-TEST: last-failure:   failed boots in a row: 0 (a boot succeeded since)" "$LOG"
	chk "boot 2: last-failure --clear did not clear" \
		grep -aqxF "SEALINIT-TEST: last-failure-clear: Cleared the failure record" "$LOG"
	mv "$LOG" "$S/serial-2-reported.log"

	# 3. The control: after the clear, nothing to report.
	# shellcheck disable=SC2046
	QEMU_FIRMWARE=uefi QEMU_UEFI_VARS=$vars QEMU_TIMEOUT=$REPLAY_TIMEOUT INITRD=$S/initrd.cpio.gz \
		boot "$arch" "$ap" tpm $(std_disks)
	expect_unlocked
	chk "boot 3: a previous failure reported after the clear" not qemu_grep "$LOG" 'sealinit: the (previous boot failed|last recorded failure)'
	chk "boot 3: last-failure reports a record after the clear" \
		grep -aqxF "SEALINIT-TEST: last-failure: No failed boot recorded (no EFI variable $FAILREC_VAR)" "$LOG"
	verdict "$arch" failure-record "boot 1 failed and reboots; boot 2 printed '$cause' and last-failure read it; after --clear, boot 3 reports nothing (${DUR} s)"
}

# --- main ---------------------------------------------------------------------
# Both arches: one child per arch, side by side (QEMU TCG runs one vCPU on
# one core, and this machine kind has two); each prints its own lines and
# summary, collected here in arch order. BOOT_PARALLEL=0 runs them in turn.
if [ "$ARCHES" = "aarch64 x86_64" ] && [ "${BOOT_PARALLEL:-1}" = 1 ]; then
	NSKIP=0
	qemu_arch_children "$0" "$ARCHES" "${WANT[@]}"
	echo "info  total run time $(qemu_elapsed "$T_RUN0" "$EPOCHREALTIME") s (the two arches side by side)"
	echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NPASS" = 0 ] && [ "$NFAIL" = 0 ] && exit 77
	[ "$NFAIL" = 0 ]
	exit
fi
ran=0
for ARCH in $ARCHES; do
	if [ ${#WANT[@]} -gt 0 ]; then
		list="${WANT[*]}"
	else
		v=DEFAULT_$ARCH
		list=${!v}
	fi
	if ! qemu_need "$ARCH" >/dev/null 2>&1; then
		# A missing dependency: a skip, or with CI=true a failure (lib.sh).
		for s in $list; do
			if [ "${CI:-}" = true ]; then
				PROBLEMS=("qemu-system for $ARCH cannot be installed (CI=true: a missing test dependency fails)")
				verdict "$ARCH" "$s" ""
			else
				skip "$ARCH" "$s" "qemu-system for $ARCH cannot be installed"
			fi
		done
		[ "${CI:-}" != true ] || ran=$((ran + 1))
		continue
	fi
	PREP_ERR=""
	if ! prepare_arch "$ARCH"; then
		for s in $list; do PROBLEMS=("setup: $PREP_ERR"); verdict "$ARCH" "$s" ""; done
		ran=$((ran + 1))
		continue
	fi
	ran=$((ran + 1))
	for s in $list; do
		"sc_${s//-/_}" "$ARCH"
	done
done

echo "info  total run time $(qemu_elapsed "$T_RUN0" "$EPOCHREALTIME") s"
[ -n "${QEMU_KEEP:-}" ] && echo "info  logs kept in $W"
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
[ "$ran" = 0 ] && exit 77
[ "$NFAIL" = 0 ]
