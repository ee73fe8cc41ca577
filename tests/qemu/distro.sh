#!/bin/bash
# SPDX-License-Identifier: MIT
# sealinit as one step of Debian's own initramfs, booted: Debian 12's cloud
# kernel (build/kernels/x86_64) with an initramfs made by the distribution's
# builder in a Debian 12 chroot (tests/lib/distro.sh), through OVMF (UEFI)
# with swtpm, under QEMU x86_64 (TCG).
#
#   tests/qemu/distro.sh [x86_64] [initramfs-tools|dracut ...]
#
# Per builder, one image (cached, see below):
#   the chroot with sealinit installed as the READMEs say (make install,
#   the step, dist/initramfs-tools' hook and local-top script, or
#   dist/dracut's module and its conf.d line), /etc/sealinit.conf
#   (pcrs=15, no data=), and /etc/crypttab naming the data volume by UUID
#   with tpm2-device=auto, so that the hook or module picks it
#   (initramfs-tools: with `initramfs', so that cryptroot opens it in the
#   initramfs); the builder's own image for the cached kernel
#   (update-initramfs -c, or dracut with systemd); the whole tree as the
#   ext4 root disk (/dev/vda, mke2fs -d), whose init= is
#   tests/qemu/distro-init (/sbin/distro-check), not systemd, to keep the
#   boot short.
# Per run: a data disk (/dev/vdb), a LUKS2 volume with that UUID whose
# first line is a marker written on the host (cryptsetup reencrypt
# --encrypt: no device-mapper on the host), enrolled on the host with
# `sealinit enroll --pcrs 15 --expect' against the VM's swtpm state, for
# the PCR 15 value the step will produce: the guest's /proc/cmdline (QEMU's
# -append, then the ` initrd=initrd' that OVMF adds, then a newline), then
# /etc/sealinit.conf, each measured as sha256(sha256(file))
# (dist/initramfs-tools/README.md). Then two boots of the same image and
# the same TPM state:
#   genuine  the command line enrolled for. The step unlocks with no
#            prompt: the booted system has /dev/mapper/sealdata, of that
#            volume (its dm UUID), holding the marker; PCR 15 in the
#            booted system is the enrolled value then the cap
#            (sha256 of "sealinit:cap"); no passphrase prompt appeared;
#            the step's success line is on the console. The positive
#            control of the attack.
#   attack   the same with one word added to the command line
#            (attacker.word=1; any word changes the measurement). The step
#            refuses ("PCR policy mismatch", "leaving it to the
#            passphrase prompt"), the distribution's prompt appears on the
#            serial console (cryptroot's "Please unlock disk sealdata",
#            systemd's "Please enter passphrase for disk"), the test types
#            the passphrase, and the boot goes on with the volume open
#            (the fallback): the marker is read, and PCR 15 is the
#            attack's measurement, capped, not the enrolled value.
# A kernel upgrade re-running the builder is tested without a boot by
# tests/build/distro_initramfs.sh (c).
#
# The images are cached by tests/lib/distro.sh's distro_image in
# build/distro-images/BUILDER-KEY/ (root.img, vmlinuz, initrd.img), KEY a
# hash of the chroot tarball's name (itself a hash of its package list),
# the kernel version, tests/lib/distro.sh, the host's sealinit binary,
# dist/, the manifest, the Makefile, the guest's init and this script's
# image configuration; other keys of the same builder are removed. A cold
# run builds them (35-90 s each, from build/distro-chroots); a warm run
# only boots (157 s here, 2 boots per builder of 30-75 s each).
#
# Output: a PASS/FAIL line per builder and boot, then "N passed, N failed,
# N skipped". Exit 0 if none failed, 1 otherwise, 77 if skipped. Needs
# root (chroot), mmdebstrap, qemu-system-x86, ovmf, swtpm, cryptsetup,
# the host build (build/x86_64/sealinit) and the cached x86_64 kernel; a
# missing one is a SKIP, or with CI=true a FAIL (lib.sh qemu_dep_missing).
# QEMU_KEEP=1 keeps the work directory (serial logs); DISTRO_TIMEOUT
# (default 300) bounds each QEMU run, in seconds.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
QEMU_FIRMWARE=uefi
. "$REPO/tests/qemu/lib.sh"
. "$REPO/tests/lib/distro.sh"
QEMU_TIMEOUT=${DISTRO_TIMEOUT:-300}
QEMU_MEM=${QEMU_MEM:-1024}
W=$QEMU_WORK
ARCH=x86_64
[ "${1:-}" = x86_64 ] && shift
BUILDERS=${*:-initramfs-tools dracut}
for b in $BUILDERS; do
	case "$b" in initramfs-tools|dracut) ;;
	*) echo "distro.sh: unknown argument '$b' (expected x86_64, initramfs-tools, dracut)" >&2; exit 2 ;;
	esac
done

NPASS=0 NFAIL=0
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
verdict() {
	if [ ${#PROBLEMS[@]} = 0 ]; then
		NPASS=$((NPASS + 1)); echo "PASS  $ARCH distro-$1${2:+: $2}"
	else
		NFAIL=$((NFAIL + 1)); QEMU_KEEP=1
		echo "FAIL  $ARCH distro-$1: $(IFS=';'; echo "${PROBLEMS[*]}" | sed 's/;/; /g')"
	fi
	PROBLEMS=()
}
info() { echo "info  $ARCH $*"; }
finish() {
	echo "$NPASS passed, $NFAIL failed, 0 skipped"
	[ "$NFAIL" = 0 ] || { echo "(kept $W)" >&2; exit 1; }
	exit 0
}
die() { NFAIL=$((NFAIL + 1)); QEMU_KEEP=1; echo "FAIL  $ARCH distro: $*"; finish; }

# --- what the test needs -------------------------------------------------------
# missing WHAT: a SKIP, or with CI=true a FAIL (lib.sh's qemu_dep_missing
# decides), with the summary line.
missing() {
	local rc=0
	(qemu_dep_missing "$ARCH distro: $*") || rc=$?
	if [ "$rc" = 77 ]; then echo "0 passed, 0 failed, 1 skipped"; else echo "0 passed, 1 failed, 0 skipped"; fi
	exit "$rc"
}
[ "$(uname -m)" = x86_64 ] || missing "the chroots are amd64 and need an x86_64 host"
[ "$(id -u)" = 0 ] || missing "needs root (chroot, mmdebstrap --mode=root)"
qemu_need x86_64 || missing "qemu-system-x86_64 or its UEFI firmware cannot be installed"
_qemu_pkgs mmdebstrap || true
for t in mmdebstrap mke2fs cryptsetup swtpm; do
	command -v "$t" >/dev/null || missing "no $t (scripts/deps.sh qemu)"
done
KVER=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" x86_64) || die "scripts/fetch-kernel.sh x86_64 failed"
SEALINIT=$REPO/build/x86_64/sealinit
[ -x "$SEALINIT" ] || die "no $SEALINIT (make)"
info "kernel $KVER; firmware $QEMU_UEFI_CODE_F"

# --- the images, cached by hash -------------------------------------------------
NAME=sealdata
DATA_UUID=5ea1d157-0000-4000-8000-d15700000001
CONF_LINES=("pcrs=15" "device_timeout=10000")
# The guest's command line: QEMU's -append is "console=ttyS0 panic=-1 " and
# this; OVMF then adds " initrd=initrd".
APPEND="root=/dev/vda ro init=/sbin/distro-check"
ATTACK_WORD=attacker.word=1

# crypttab_line BUILDER
crypttab_line() {
	case "$1" in
	initramfs-tools) echo "$NAME UUID=$DATA_UUID none luks,initramfs,tpm2-device=auto" ;;
	dracut) echo "$NAME UUID=$DATA_UUID none luks,tpm2-device=auto" ;;
	esac
}

# setup_common ROOT BUILDER: what both images get before their builder's
# own files: sealinit as the READMEs install it, the configuration, the
# crypttab entry, the booted system's init.
setup_common() {
	install_sealinit "$1" "${CONF_LINES[@]}" || return 1
	crypttab_line "$2" >"$1/etc/crypttab"
	install -m0755 "$REPO/tests/qemu/distro-init" "$1/sbin/distro-check"
}
setup_initramfs_tools() { setup_common "$1" initramfs-tools && install_itools_step "$1"; }
setup_dracut() {
	setup_common "$1" dracut && install_dracut_module "$1" || return 1
	# Debian's dracut builds generic images: the crypttab entry goes in
	# only when asked for.
	echo 'install_items+=" /etc/crypttab "' >"$1/etc/dracut.conf.d/91-crypttab.conf"
}

# image BUILDER: sets IMG to the directory of BUILDER's cached image set
# (tests/lib/distro.sh distro_image), making it when absent. The key: every
# file the setup installs or make install builds from, and the
# configuration.
image() {
	local b=$1 pkgs files
	case "$b" in initramfs-tools) pkgs=$DISTRO_ITOOLS ;; dracut) pkgs=$DISTRO_DRACUT ;; esac
	files=$(cd "$REPO" && { find dist/initramfs-tools dist/dracut -type f | sort; \
		echo initramfs/manifest tests/qemu/distro-init Makefile; } |
		xargs sha256sum; sha256sum "$SEALINIT")
	distro_image "$b" "$pkgs" "$b" "setup_${b//-/_}" "$files" "${CONF_LINES[@]}" \
		"$(crypttab_line "$b")" "$APPEND" || return 1
	IMG=$DISTRO_IMAGE
	[ -z "$DISTRO_IMAGE_BUILT" ] ||
		info "$b: image built in $DISTRO_IMAGE_BUILT s: root.img $(du -h --apparent-size "$IMG/root.img" | cut -f1)" \
			"($(du -h "$IMG/root.img" | cut -f1) used), initrd.img $(du -h "$IMG/initrd.img" | cut -f1)"
}

# --- the data volume and the TPM -------------------------------------------------
PASS_FILE=$W/pass
printf '%s' "correct horse battery staple" >"$PASS_FILE"
MARKER="sealinit-distro-marker-$RANDOM$RANDOM"

# capped CMDLINE-FILE CONF-FILE: PCR 15 after the step and its cap, as
# `sealinit predict --step' gives it for that command line (the file holds
# it as /proc/cmdline does, with its newline) and configuration. The
# enrolment takes predict's output too, so a boot that unlocks and ends at
# this value checks predict against a real boot (tests/host/distro_step.sh
# checks it against the README's formula).
capped() {
	"$SEALINIT" predict --step --config "$2" --cmdline "$(cat "$1")" | sed -n 's/^pcr15-capped=//p'
}

# volume_and_tpm DIR: DIR/data.img (the marker, encrypted in place: no
# device-mapper needed) and DIR/tpm, with a token sealed to PCR 15 as the
# genuine boot will leave it before the cap.
volume_and_tpm() {
	local d=$1 out
	mkdir -p "$d"
	rm -f "$d/data.img"
	truncate -s 48M "$d/data.img"
	printf '%s\n' "$MARKER" | dd of="$d/data.img" conv=notrunc status=none
	out=$(cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M --force-offline-reencrypt \
		--batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --uuid "$DATA_UUID" \
		--key-file "$PASS_FILE" "$d/data.img" 2>&1) || { echo "cryptsetup reencrypt --encrypt: $out" >&2; return 1; }
	! grep -q "$MARKER" "$d/data.img" || { echo "the marker is still in the clear in data.img" >&2; return 1; }
	printf 'console=ttyS0 panic=-1 %s initrd=initrd\n' "$APPEND" >"$d/cmdline"
	printf '%s\n' "${CONF_LINES[@]}" >"$d/sealinit.conf"
	"$SEALINIT" predict --step --config "$d/sealinit.conf" --cmdline "$(cat "$d/cmdline")" >"$d/expect" ||
		{ echo "predict --step failed" >&2; return 1; }
	qemu_swtpm_tcp "$d/tpm" || return 1
	out=$(timeout 60 "$SEALINIT" enroll "$d/data.img" --key-file "$PASS_FILE" --pcrs 15 \
		--expect "$d/expect" --name "$NAME" 2>&1)
	local rc=$?
	qemu_swtpm_stop
	rm -f "$d/tpm/swtpm-tcp.log" "$d/tpm/.lock"
	[ $rc = 0 ] || { echo "enroll: $out" >&2; return 1; }
}

# boot BUILDER NAME APPEND [ANSWERS]: one boot of BUILDER's image ($IMG) with the
# TPM state and data disk of $V; the serial log is $V/NAME.log.
boot() {
	local append=$3 answers=${4:-} rc=0 log=$V/$2.log tpmpid
	qemu_swtpm_start "$V/tpm" || { problem "swtpm did not start"; return 1; }
	tpmpid=${QEMU_SWTPM_PIDS[-1]}
	qemu_disks_clear
	qemu_disk "$IMG/root.img" ro root
	qemu_disk "$V/data.img" "" data
	local t0=$EPOCHREALTIME
	QEMU_SERIAL_ANSWERS=$answers qemu_start "$ARCH" "$IMG/vmlinuz" "$IMG/initrd.img" "$append" "$log" ||
		{ problem "qemu_start"; qemu_swtpm_stop "$tpmpid"; return 1; }
	qemu_wait || rc=$?
	BOOT_T=$(qemu_elapsed "$t0" "$EPOCHREALTIME")
	qemu_swtpm_stop "$tpmpid"
	sed -i 's/\r$//' "$log"
	[ "$rc" = 0 ] || { problem "qemu exit $rc (124: timeout); see $log"; return 1; }
	qemu_grep "$log" '^DISTRO: done' || { problem "the booted system's check did not run; see $log"; return 1; }
}

# booted_checks LOG EXPECTED-PCR15: what both boots show in the booted system.
booted_checks() {
	local log=$1 want=$2 dmuuid
	[ "$(qemu_value "$log" 'DISTRO: mapper')" = yes ] || problem "no /dev/mapper/$NAME in the booted system"
	dmuuid=$(qemu_value "$log" 'DISTRO: dm-uuid')
	[ "$dmuuid" = "CRYPT-LUKS2-${DATA_UUID//-/}-$NAME" ] || problem "/dev/mapper/$NAME's dm UUID is '$dmuuid'"
	[ "$(qemu_value "$log" 'DISTRO: marker')" = "$MARKER" ] ||
		problem "the opened volume does not hold the marker (read '$(qemu_value "$log" 'DISTRO: marker')')"
	[ "$(qemu_value "$log" 'DISTRO: pcr15' | tr 'A-F' 'a-f')" = "$want" ] ||
		problem "PCR 15 in the booted system is '$(qemu_value "$log" 'DISTRO: pcr15')', not $want"
}

# guest_cmdline LOG FILE: the guest's /proc/cmdline bytes, from their hex.
guest_cmdline() {
	local hex
	hex=$(qemu_value "$1" 'DISTRO: cmdline-hex')
	[ -n "$hex" ] || return 1
	printf "$(sed 's/../\\x&/g' <<<"$hex")" >"$2"
}

for b in $BUILDERS; do
	case "$b" in
	initramfs-tools) PROMPT="Please unlock disk $NAME" ;;
	dracut) PROMPT="Please enter passphrase for disk" ;;
	esac
	image "$b" || { problem "building the $b image"; verdict "$b-image"; continue; }
	V=$W/$b
	volume_and_tpm "$V" || { problem "the data volume and its token"; verdict "$b-enroll"; continue; }

	# genuine: the positive control.
	if boot "$b" genuine "$APPEND"; then
		log=$V/genuine.log
		guest_cmdline "$log" "$V/cmdline.guest" || problem "the guest printed no command line"
		cmp -s "$V/cmdline.guest" "$V/cmdline" ||
			problem "the guest's /proc/cmdline '$(cat -A "$V/cmdline.guest")' is not the one enrolled for '$(cat -A "$V/cmdline")'"
		booted_checks "$log" "$(capped "$V/cmdline" "$V/sealinit.conf")"
		qemu_grep "$log" "$PROMPT" && problem "the passphrase prompt appeared"
		qemu_grep "$log" "Unlocked /dev/disk/by-uuid/$DATA_UUID as /dev/mapper/$NAME \\(token 0" ||
			problem "no 'Unlocked ... (token 0' line of sealinit unlock"
		qemu_grep "$log" 'policy mismatch|did not open' && problem "the step reported a failure"
	fi
	verdict "$b-genuine" "unlocked by the TPM with no prompt, marker read in the booted system, PCR 15 = enrolled value + cap (${BOOT_T:-?} s)"

	# attack: one more word; the TPM refuses, the prompt takes over.
	printf '%s\t%s\n' "$PROMPT" "$(cat "$PASS_FILE")" >"$V/answers"
	if boot "$b" attack "$APPEND $ATTACK_WORD" "$V/answers"; then
		log=$V/attack.log
		printf 'console=ttyS0 panic=-1 %s %s initrd=initrd\n' "$APPEND" "$ATTACK_WORD" >"$V/cmdline.attack"
		guest_cmdline "$log" "$V/cmdline.attack.guest" || problem "the guest printed no command line"
		cmp -s "$V/cmdline.attack.guest" "$V/cmdline.attack" ||
			problem "the guest's /proc/cmdline is '$(cat -A "$V/cmdline.attack.guest")'"
		qemu_grep "$log" 'PCR policy mismatch' || problem "the step did not say the PCR policy mismatched"
		qemu_grep "$log" "$NAME: the TPM did not open .*leaving it to the passphrase prompt" ||
			problem "the step did not say it left $NAME to the passphrase prompt"
		qemu_grep "$log" "$PROMPT" || problem "the distribution's prompt ('$PROMPT') did not appear"
		qemu_grep "$log" 'Unlocked /dev/disk/by-uuid/' && problem "sealinit unlock says it unlocked"
		booted_checks "$log" "$(capped "$V/cmdline.attack" "$V/sealinit.conf")"
		[ "$(qemu_value "$log" 'DISTRO: pcr15')" != "$(capped "$V/cmdline" "$V/sealinit.conf")" ] ||
			problem "PCR 15 is the genuine boot's"
	fi
	verdict "$b-attack" "'$ATTACK_WORD' added: the TPM refused (policy mismatch), the prompt appeared, the passphrase opened it, PCR 15 capped (${BOOT_T:-?} s)"
done
finish
