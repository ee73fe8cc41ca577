#!/bin/bash
# SPDX-License-Identifier: MIT
# Measured UEFI boot under QEMU: boots the kernel and a small busybox
# initramfs through Debian's UEFI firmware (OVMF on x86_64, AAVMF on
# aarch64; lib.sh's QEMU_FIRMWARE=uefi) with swtpm, and checks what the
# firmware and the kernel's EFI stub measured, from the guest's own event
# log (/sys/kernel/security/tpm0/binary_bios_measurements), which the guest
# writes raw to an extra virtio disk. See docs/firmware-pcrs.md.
#
#   tests/qemu/uefi.sh [aarch64|x86_64 ...]   (default: both, side by side)
#
# Per arch, five boots of the same kernel:
#   base     initramfs A, command line C
#   again    the same inputs, a fresh swtpm and a fresh variable store
#   reboot   the same inputs, the TPM state and the variable store that
#            base left behind (a reboot of the same machine)
#   byte     initramfs A with one byte changed (the gzip header's OS byte:
#            the same size, and the kernel still unpacks it)
#   cmdline  initramfs A, command line C plus one word
# plus one direct boot (no firmware) of A, for the boot time only.
# Checks, per arch:
#   - every UEFI boot ran /init under EFI and wrote its event log;
#   - tpm2_eventlog parses the log, and its sha256 replay equals the PCR
#     values the guest read; every PCR 0-9, 11-14 the log does not name is
#     zero in the guest (PCR 10 is IMA's, not the firmware's);
#   - PCR 4 has the kernel (EV_EFI_BOOT_SERVICES_APPLICATION); on aarch64 its
#     digest is the Authenticode sha256 of vmlinuz (on x86_64 QEMU hands the
#     firmware a setup header it patched, so it is printed only);
#   - PCR 9 has the EFI stub's "LOADED_IMAGE::LoadOptions" event, whose
#     digest is sha256 of the guest's /proc/cmdline in UTF-16LE with its NUL,
#     and "Linux initrd", whose digest is sha256 of the initramfs file;
#   - again and reboot: PCR 0-9 equal base's (the values can be predicted);
#   - byte: PCR 9 differs from base's, PCR 0-8 equal (the positive control
#     of the byte change is "again");
#   - cmdline: PCR 9 differs from base's, PCR 0-8 equal.
# And sealinit predict on the host (build/x86_64/sealinit), per arch:
#   - --firmware-log on each boot's log: PCR 0-9 equal the guest's values;
#   - --firmware-pcrs on base's values in pcrread's format: the same
#     policy= for PCR 4+7+9 as from base's log;
#   - base's log with --initrd B: PCR 9 equals byte's (the boot of B), not
#     base's; with the command line of the cmdline boot (QEMU's -append and
#     the ` initrd=initrd' the firmware adds): cmdline's PCR 9, not base's;
#   - base's log with --kernel vmlinuz: on aarch64 base's PCR 4, and a
#     vmlinuz with one section byte changed gives another value; on
#     x86_64 the value is printed only (QEMU's setup header).
# Output: PASS/FAIL/SKIP lines, info lines, then "N passed, N failed, N
# skipped". Exit 0 if none failed, 1 otherwise, 77 if no arch could run.
# A missing qemu, firmware or tool is a SKIP; with CI=true it is a FAIL
# (tests/qemu/lib.sh, qemu_dep_missing; tests/build/ci_deps.sh tests it).
# QEMU_KEEP=1 keeps the work directories (logs, event logs, YAML).
# UEFI_TIMEOUT (default 240) bounds each QEMU run, in seconds.
#
# Debian packages (scripts/deps.sh qemu; installed when missing): those of
# lib.sh, ovmf, qemu-efi-aarch64, tpm2-tools; /usr/bin/python3 for the
# Authenticode hash.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
QEMU_FIRMWARE=uefi
. "$REPO/tests/qemu/lib.sh"
QEMU_TIMEOUT=${UEFI_TIMEOUT:-240}
W=$QEMU_WORK

# --- the parent: one child per arch, side by side ----------------------------
if [ "${1:-}" != --child ]; then
	ARCHES=${*:-aarch64 x86_64}
	for a in $ARCHES; do
		case "$a" in aarch64|x86_64) ;; *) echo "uefi.sh: unknown arch '$a'" >&2; exit 2 ;; esac
	done
	declare -A CHILD
	for a in $ARCHES; do
		"$0" --child "$a" >"$W/$a.out" 2>"$W/$a.err" </dev/null &
		CHILD[$a]=$!
		QEMU_HELPER_PIDS+=("$!")   # ended by qemu_cleanup if we are interrupted
	done
	ran=0
	for a in $ARCHES; do
		rc=0
		wait "${CHILD[$a]}" || rc=$?
		_qemu_forget QEMU_HELPER_PIDS "${CHILD[$a]}"
		cat "$W/$a.out"
		[ "$rc" = 77 ] || ran=$((ran + 1))
		if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
			QEMU_KEEP=1
			grep -q '^FAIL' "$W/$a.out" || echo "FAIL  $a: exit $rc: $(tail -n 3 "$W/$a.err" | tr '\n' ' ')"
		fi
	done
	np=$(cat "$W"/*.out | grep -c '^PASS')
	nf=$(cat "$W"/*.out | grep -c '^FAIL')
	ns=$(cat "$W"/*.out | grep -c '^SKIP')
	echo "$np passed, $nf failed, $ns skipped"
	[ "$nf" = 0 ] || exit 1
	[ "$ran" -gt 0 ] || exit 77
	exit 0
fi

# --- one arch ------------------------------------------------------------------
ARCH=$2
NPASS=0 NFAIL=0
pass() { NPASS=$((NPASS + 1)); echo "PASS  $ARCH $*"; }
fail() { NFAIL=$((NFAIL + 1)); QEMU_KEEP=1; echo "FAIL  $ARCH $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
info() { echo "info  $ARCH $*"; }
finish() { [ "$NFAIL" = 0 ] && exit 0; echo "(kept $W)" >&2; exit 1; }

# A missing piece is a skip, or with CI=true a failure (lib.sh).
qemu_need "$ARCH" || qemu_dep_missing "$ARCH: qemu-system or its UEFI firmware cannot be installed"
_qemu_pkgs tpm2-tools || true
command -v tpm2_eventlog >/dev/null || qemu_dep_missing "$ARCH: no tpm2_eventlog (tpm2-tools)"
KVER=$(timeout 600 "$REPO/scripts/fetch-kernel.sh" "$ARCH") || { fail "fetch-kernel"; finish; }
KDIR=$REPO/build/kernels/$ARCH
info "kernel $KVER; firmware $QEMU_UEFI_CODE_F ($(dpkg-query -W -f='${Package} ${Version}' \
	"$(case $ARCH in aarch64) echo qemu-efi-aarch64 ;; *) echo ovmf ;; esac)" 2>/dev/null))"

# The guest's /init: tests/qemu/uefi-init.
case "$ARCH" in aarch64) MODS="tpm_tis virtio_pci virtio_blk" ;; *) MODS="virtio_pci virtio_blk" ;; esac
INITRD_A=$W/initrd-a.cpio.gz INITRD_B=$W/initrd-b.cpio.gz
timeout 300 "$REPO/initramfs/mkinitramfs" --quiet --arch "$ARCH" --init-script "$REPO/tests/qemu/uefi-init" \
	--kernel-dir "$KDIR" --modules "$MODS" --out "$INITRD_A" 2>"$W/mkinitramfs.log" ||
	{ fail "mkinitramfs: $(tail -n 2 "$W/mkinitramfs.log")"; finish; }
# B: byte 9 of the gzip header (OS) changed; the kernel ignores it.
cp "$INITRD_A" "$INITRD_B"
printf '\377' | dd of="$INITRD_B" bs=1 seek=9 conv=notrunc status=none
n=$(cmp -l "$INITRD_A" "$INITRD_B" | wc -l)
[ "$n" = 1 ] || { fail "initramfs B differs from A in $n bytes, want 1"; finish; }

# boot NAME INITRD APPEND [TPMDIR VARS]: one boot; the guest's values go to
# $W/NAME/: serial.log, eventlog.bin, eventlog.yaml, pcr.N, cmdline; sets
# BOOT_T (s, QEMU start to "UEFI: done") and BOOT_T_STUB (to the EFI stub's
# first line). TPMDIR and VARS reuse an earlier boot's TPM and variables.
boot() {
	local name=$1 initrd=$2 append=$3 tpmdir=${4:-} vars=${5:-} d=$W/$1 rc=0 sz p
	mkdir -p "$d"
	[ -n "$tpmdir" ] || { tpmdir=$d/tpm; mkdir -p "$tpmdir"; }
	qemu_swtpm_start "$tpmdir" || { fail "$name: swtpm did not start"; return 1; }
	local tpmpid=${QEMU_SWTPM_PIDS[-1]}
	truncate -s 4M "$d/out.img"
	qemu_disks_clear
	qemu_disk "$d/out.img" "" out
	QEMU_UEFI_VARS=$vars qemu_start "$ARCH" "$KDIR/vmlinuz" "$initrd" "$append" "$d/serial.log" ||
		{ fail "$name: qemu_start"; qemu_swtpm_stop "$tpmpid"; return 1; }
	BOOT_VARS=$QEMU_UEFI_VARS_COPY BOOT_TPM=$tpmdir
	BOOT_T_STUB=- BOOT_T=-
	[ "$QEMU_FIRMWARE" != uefi ] || { qemu_expect "$d/serial.log" 'EFI stub: ' && BOOT_T_STUB=$QEMU_EXPECT_T; }
	qemu_expect "$d/serial.log" '^UEFI: done' && BOOT_T=$QEMU_EXPECT_T
	qemu_wait || rc=$?
	qemu_swtpm_stop "$tpmpid"
	sed -i 's/\r$//' "$d/serial.log"
	[ "$rc" = 0 ] || { fail "$name: qemu exit $rc (124: timeout); see $d/serial.log"; return 1; }
	qemu_grep "$d/serial.log" '^UEFI: done' || { fail "$name: /init did not finish"; return 1; }
	for p in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		qemu_value "$d/serial.log" "UEFI: pcr$p" | tr 'A-F' 'a-f' >"$d/pcr.$p"
	done
	grep -ao 'UEFI: cmdline=\[[^]]*\]' "$d/serial.log" | tail -n1 | sed 's/^UEFI: cmdline=\[//; s/\]$//' >"$d/cmdline"
	[ "$QEMU_FIRMWARE" = uefi ] || return 0
	sz=$(qemu_value "$d/serial.log" 'UEFI: log-size')
	case "$sz" in ''|none|*[!0-9]*) fail "$name: the guest has no event log"; return 1 ;; esac
	head -c "$sz" "$d/out.img" >"$d/eventlog.bin"
	[ "$(sha256sum <"$d/eventlog.bin" | cut -c1-64)" = "$(qemu_value "$d/serial.log" log-sha256)" ] ||
		{ fail "$name: the event log read from the disk is not what the guest wrote"; return 1; }
	tpm2_eventlog "$d/eventlog.bin" >"$d/eventlog.yaml" 2>"$d/eventlog.err" ||
		{ fail "$name: tpm2_eventlog: $(head -n 2 "$d/eventlog.err")"; return 1; }
	return 0
}
pcr() { cat "$W/$1/pcr.$2"; }
# replay NAME PCR: the sha256 value tpm2_eventlog computed, without 0x
replay() {
	awk -v want="$2" '/^pcrs:/ { p = 1 } p && /^  sha256:/ { s = 1; next } p && s && /^  [a-z]/ { exit }
		p && s && $1 == want { sub(/^0x/, "", $3); print $3; exit }' "$W/$1/eventlog.yaml"
}
# events NAME: one line per event: NUM PCR TYPE SHA256-DIGEST
events() {
	awk '/^- EventNum:/ { if (n != "") print n, pcr, type, dig; n = $3; pcr = type = dig = "-" }
		/^  PCRIndex:/ { pcr = $2 } /^  EventType:/ { type = $2 }
		/^  - AlgorithmId: sha256/ { getline; gsub(/"/, "", $2); dig = $2 }
		/^pcrs:/ { print n, pcr, type, dig; n = ""; exit }' "$W/$1/eventlog.yaml"
}
# tagged NAME TEXT: the sha256 digest of the PCR 9 EV_EVENT_TAG whose data
# ends with TEXT (the stub's tagged event: id, size, NUL-terminated text).
tagged() {
	local hex
	hex=$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')00
	awk -v h="$hex" '/^- EventNum:/ { pcr = type = dig = "" }
		/^  PCRIndex:/ { pcr = $2 } /^  EventType:/ { type = $2 }
		/^  - AlgorithmId: sha256/ { getline; gsub(/"/, "", $2); dig = $2 }
		/^  Event: "/ { e = $2; gsub(/"/, "", e)
			if (pcr == 9 && type == "EV_EVENT_TAG" && substr(e, length(e) - length(h) + 1) == h) print dig }' "$W/$1/eventlog.yaml"
}
same_pcrs() { # same_pcrs A B PCR...: 0 if A and B agree on every PCR
	local a=$1 b=$2 p
	shift 2
	for p in "$@"; do [ "$(pcr "$a" "$p")" = "$(pcr "$b" "$p")" ] || { info "$b: PCR $p differs from $a"; return 1; }; done
}
FWPCRS=(0 1 2 3 4 5 6 7 8 9)
APPEND="uefi.test=1"

# Five UEFI boots, then one direct. base first: reboot reuses its state.
ok_base=0
boot base "$INITRD_A" "$APPEND" && ok_base=1
BASE_VARS=$BOOT_VARS BASE_TPM=$BOOT_TPM
T_BASE=$BOOT_T T_STUB=$BOOT_T_STUB
ok_again=0;   boot again "$INITRD_A" "$APPEND" && ok_again=1
ok_reboot=0;  boot reboot "$INITRD_A" "$APPEND" "$BASE_TPM" "$BASE_VARS" && ok_reboot=1
ok_byte=0;    boot byte "$INITRD_B" "$APPEND" && ok_byte=1
ok_cmdline=0; boot cmdline "$INITRD_A" "$APPEND uefi.variant=1" && ok_cmdline=1
T_DIRECT=-
QEMU_FIRMWARE="" boot direct "$INITRD_A" "$APPEND" && T_DIRECT=$BOOT_T

[ "$ok_base" = 1 ] || { fail "base boot failed: nothing to check"; finish; }
check "base: /init ran under UEFI (/sys/firmware/efi)" qemu_grep "$W/base/serial.log" '^UEFI: efi=yes'
check "base: the EFI stub loaded the initrd through LoadFile2 and measured it" \
	qemu_grep "$W/base/serial.log" 'EFI stub: Measured initrd data into PCR 9'
info "guest /proc/cmdline: '$(cat "$W/base/cmdline")' (QEMU -append: '$(qemu_console "$ARCH") panic=-1 $APPEND')"
info "boot time (QEMU start to /init done): UEFI ${T_BASE} s (EFI stub after ${T_STUB} s), direct ${T_DIRECT} s"

for b in base again reboot byte cmdline; do
	okv=ok_$b
	[ "${!okv}" = 1 ] || continue
	bad=""
	for p in "${FWPCRS[@]}" 11 12 13 14; do
		want=$(replay "$b" "$p")
		[ -n "$want" ] || want=0000000000000000000000000000000000000000000000000000000000000000
		[ "$want" = "$(pcr "$b" "$p")" ] || bad="$bad $p"
	done
	check "$b: the event log ($(events "$b" | wc -l) events) replays to the guest's PCR 0-9, 11-14${bad:+ (differ:$bad)}" [ -z "$bad" ]
done

events base >"$W/base/events.txt"
kdig=$(awk '$2 == 4 && $3 == "EV_EFI_BOOT_SERVICES_APPLICATION" { print $4 }' "$W/base/events.txt")
check "base: PCR 4 has one EV_EFI_BOOT_SERVICES_APPLICATION (the kernel)" [ "$(echo "$kdig" | grep -c .)" = 1 ]
if [ -x /usr/bin/python3 ]; then
	authenticode=$(/usr/bin/python3 - "$KDIR/vmlinuz" <<'EOF'
# The Authenticode sha256 of a PE image (the PE/COFF spec's hash: the
# headers without the checksum and the certificate-table entry, the sections
# in file order, then the rest of the file before the certificates).
import hashlib, struct, sys
d = open(sys.argv[1], 'rb').read()
pe = struct.unpack_from('<I', d, 0x3c)[0]
assert d[pe:pe + 4] == b'PE\0\0'
nsec, = struct.unpack_from('<H', d, pe + 6)
optsz, = struct.unpack_from('<H', d, pe + 20)
opt = pe + 24
magic, = struct.unpack_from('<H', d, opt)
ddir = opt + (96 if magic == 0x10b else 112)
hdrsz, = struct.unpack_from('<I', d, opt + 60)
cksum, cert = opt + 64, ddir + 4 * 8
certoff, certsz = struct.unpack_from('<II', d, cert)
h = hashlib.sha256(d[:cksum] + d[cksum + 4:cert] + d[cert + 8:hdrsz])
end = hdrsz
secs = []
for i in range(nsec):
    rawsz, rawptr = struct.unpack_from('<II', d, opt + optsz + 40 * i + 16)
    if rawsz:
        secs.append((rawptr, rawsz))
for ptr, sz in sorted(secs):
    h.update(d[ptr:ptr + sz])
    end = ptr + sz
last = len(d) - (certsz if certoff else 0)
if last > end:
    h.update(d[end:last])
print(h.hexdigest())
EOF
)
	if [ "$ARCH" = aarch64 ]; then
		check "base: the PCR 4 kernel digest is vmlinuz's Authenticode sha256 (${authenticode:0:16}...)" \
			[ -n "$kdig" ] && [ "$kdig" = "$authenticode" ]
	else
		info "PCR 4 kernel digest ${kdig:0:16}..., vmlinuz's Authenticode sha256 ${authenticode:0:16}..." \
			"(QEMU patches the x86 setup header it hands the firmware)"
	fi
fi
want=$({ printf '%s' "$(cat "$W/base/cmdline")" | iconv -f UTF-8 -t UTF-16LE; printf '\0\0'; } | sha256sum | cut -c1-64)
check "base: PCR 9 LoadOptions digest = sha256(UTF-16LE /proc/cmdline + NUL)" \
	[ "$(tagged base LOADED_IMAGE::LoadOptions)" = "$want" ]
check "base: PCR 9 'Linux initrd' digest = sha256 of the initramfs file" \
	[ "$(tagged base 'Linux initrd')" = "$(sha256sum <"$INITRD_A" | cut -c1-64)" ]
check "base: PCR 8 and 11-14 are not extended" \
	[ "$(cat "$W"/base/pcr.{8,11,12,13,14} | sort -u)" = 0000000000000000000000000000000000000000000000000000000000000000 ]
info "base events (num pcr type sha256):"
sed 's/^/info  '"$ARCH"'    /' "$W/base/events.txt"
for p in "${FWPCRS[@]}"; do info "base PCR $p = $(pcr base "$p")"; done

[ "$ok_again" = 1 ] && check "again (same inputs, fresh TPM and variables): PCR 0-9 as in base" same_pcrs base again "${FWPCRS[@]}"
[ "$ok_reboot" = 1 ] && check "reboot (base's TPM state and variable store): PCR 0-9 as in base" same_pcrs base reboot "${FWPCRS[@]}"
if [ "$ok_byte" = 1 ]; then
	check "byte (initramfs one byte changed): PCR 9 differs from base" \
		[ "$(pcr base 9)" != "$(pcr byte 9)" ]
	check "byte: PCR 0-8 as in base (the kernel is the same)" same_pcrs base byte 0 1 2 3 4 5 6 7 8
fi
if [ "$ok_cmdline" = 1 ]; then
	check "cmdline (one word added): PCR 9 differs from base" [ "$(pcr base 9)" != "$(pcr cmdline 9)" ]
	check "cmdline: PCR 0-8 as in base" same_pcrs base cmdline 0 1 2 3 4 5 6 7 8
fi

# --- sealinit predict against the guests' values --------------------------------
HOST_SEALINIT=$REPO/build/x86_64/sealinit
[ -x "$HOST_SEALINIT" ] || { fail "no $HOST_SEALINIT: run make"; finish; }
# predicted NAME ARGS...: predict's pcrN=HEX and policy= lines, into $W/NAME.predict
predicted() {
	local name=$1
	shift
	timeout 60 "$HOST_SEALINIT" predict "$@" >"$W/$name.predict" 2>"$W/$name.predict.err" ||
		{ info "predict $*: $(cat "$W/$name.predict.err")"; return 1; }
}
pval() { sed -n "s/^pcr$2=//p" "$W/$1.predict"; }
equal() { [ -n "$1" ] && [ "$1" = "$2" ]; }      # equal A B: both set, the same
differ() { [ -n "$1" ] && [ "$1" != "$2" ]; }    # differ A B: A set, not B
for b in base again reboot byte cmdline; do
	okv=ok_$b
	[ "${!okv}" = 1 ] || continue
	bad=""
	predicted "$b" --firmware-log "$W/$b/eventlog.bin" --pcrs 0+1+2+3+4+5+6+7+8+9 || bad=" predict failed"
	for p in "${FWPCRS[@]}"; do
		[ "$(pval "$b" "$p")" = "$(pcr "$b" "$p")" ] || bad="$bad $p"
	done
	check "$b: predict --firmware-log gives the guest's PCR 0-9${bad:+ (differ:$bad)}" [ -z "$bad" ]
done
for p in "${FWPCRS[@]}"; do printf 'sha256:%-2u %s\n' "$p" "$(pcr base "$p")"; done >"$W/base.readout"
predicted fwlog-479 --firmware-log "$W/base/eventlog.bin" --pcrs 4+7+9
predicted readout-479 --firmware-pcrs "$W/base.readout" --pcrs 4+7+9
check "base: predict's policy= for PCR 4+7+9 from the read-out equals the one from the log" \
	equal "$(sed -n 's/^policy=//p' "$W/fwlog-479.predict")" "$(sed -n 's/^policy=//p' "$W/readout-479.predict")"
if [ "$ok_byte" = 1 ]; then
	predicted initrd-b --firmware-log "$W/base/eventlog.bin" --pcrs 9 --initrd "$INITRD_B"
	want=$(pval initrd-b 9)
	check "byte: PCR 9 is predict's from base's log and --initrd B (${want:0:16}...)" \
		equal "$want" "$(pcr byte 9)"
	check "base: PCR 9 is not that prediction (the initrd differs)" differ "$want" "$(pcr base 9)"
fi
if [ "$ok_cmdline" = 1 ]; then
	# What the stub measures: QEMU's -append, then what the firmware adds.
	stub="$(qemu_console "$ARCH") panic=-1 $APPEND uefi.variant=1 initrd=initrd"
	predicted stub-cmdline --firmware-log "$W/base/eventlog.bin" --pcrs 9 --firmware-cmdline "$stub"
	want=$(pval stub-cmdline 9)
	check "cmdline: PCR 9 is predict's from base's log and --firmware-cmdline '$stub'" \
		equal "$want" "$(pcr cmdline 9)"
	check "base: PCR 9 is not that prediction (the command line differs)" differ "$want" "$(pcr base 9)"
fi
predicted kernel --firmware-log "$W/base/eventlog.bin" --pcrs 4 --kernel "$KDIR/vmlinuz"
want=$(pval kernel 4)
if [ "$ARCH" = aarch64 ]; then
	check "base: PCR 4 is predict's from base's log and --kernel vmlinuz (${want:0:16}...)" \
		equal "$want" "$(pcr base 4)"
	# The control: one byte of the kernel's first section flipped.
	/usr/bin/python3 - "$KDIR/vmlinuz" "$W/vmlinuz.changed" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
pe = struct.unpack_from('<I', d, 0x3c)[0]
sec = pe + 24 + struct.unpack_from('<H', d, pe + 20)[0]
d[struct.unpack_from('<I', d, sec + 20)[0] + 100] ^= 1
open(sys.argv[2], 'wb').write(d)
EOF
	predicted kernel-changed --firmware-log "$W/base/eventlog.bin" --pcrs 4 --kernel "$W/vmlinuz.changed"
	check "base: a vmlinuz with one section byte flipped predicts another PCR 4" \
		differ "$(pval kernel-changed 4)" "$(pcr base 4)"
else
	info "PCR 4 from --kernel vmlinuz ${want:0:16}..., the guest's $(pcr base 4 | cut -c1-16)..." \
		"(QEMU fills in the setup header of the image it hands the firmware: not predictable from the file)"
fi
finish
