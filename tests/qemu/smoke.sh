#!/bin/bash
# SPDX-License-Identifier: MIT
# QEMU smoke test of the boot infrastructure, without sealinit's boot stage:
# for aarch64 and x86_64 it fetches the kernel, builds the disk images and an
# initramfs whose /init is a small busybox script, and boots it with swtpm.
# The script loads the modules in /etc/sealinit/modules order, waits for
# /dev/tpmrm0, opens the dm-verity root and the LUKS2 data volume with stock
# veritysetup/cryptsetup (the recovery key), and switch_roots into
# tests/qemu/guest-init, which reports and powers off.
#
# So it proves, per arch: the kernel + module list give a TPM, virtio disks,
# dm-verity and dm-crypt; the images are right; switch_root and poweroff end
# QEMU. It also checks that mkinitramfs is reproducible (two builds, same
# bytes). Boot times are printed for information, never asserted.
#
#   tests/qemu/smoke.sh [aarch64|x86_64 ...]     (default: both)
# Exit: 0 pass, 1 fail, 77 skip (no arch's qemu could be installed).
# QEMU_KEEP=1 keeps the work directory (logs, images) for a post-mortem.
#
# Debian packages: qemu-system-arm, qemu-system-x86, swtpm, cpio,
# e2fsprogs, cryptsetup-bin (amd64 on the host; the arm64 cryptsetup-bin and
# libpopt0 are unpacked from their .debs, not installed), kmod, binutils,
# and `scripts/deps.sh test`.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/qemu/lib.sh"

ARCHES=${*:-aarch64 x86_64}
# Modules of the boot path (measured on the Debian 6.1 cloud kernels):
#   tpm_tis (pulls tpm_tis_core; built in on amd64, then skipped)
#   virtio_pci virtio_blk (virtio disks over PCI)
#   dm_mod dm_crypt dm_verity
#   xts ecb: the generic aes-xts-plain64 (aes itself is built in). Without
#     ecb, xts cannot instantiate and dm-crypt fails with "Error allocating
#     crypto tfm (-ENOENT)": xts is built over ecb(aes).
#   aes_ce_blk (arm64 Crypto Extensions) / aesni_intel (x86 AES-NI): the fast
#     implementations; aesni_intel fails to load (-ENODEV, -19) on a CPU
#     without AES-NI (QEMU_CPU=qemu64), the generic pair still works there.
# SMOKE_MODULES overrides both lists.
SMOKE_MODULES_COMMON="tpm_tis virtio_pci virtio_blk dm_mod dm_crypt dm_verity xts ecb"
SMOKE_MODULES_aarch64="$SMOKE_MODULES_COMMON aes_ce_blk"
SMOKE_MODULES_x86_64="$SMOKE_MODULES_COMMON aesni_intel"

W=$QEMU_WORK
failures=0 ran=0
fail() { echo "FAIL ($ARCH): $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok   ($ARCH): $*"; }

# The trivial /init (busybox sh). Every wait is bounded and every path ends
# in poweroff -f, so QEMU always exits.
cat >"$W/smoke-init" <<'EOF'
#!/bin/sh
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
say() { echo "SMOKE: $*"; }
die() { say "fail=$*"; poweroff -f; sleep 5; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/cryptsetup
say "init uptime=$(cut -d' ' -f1 /proc/uptime)"

n=0
while read -r ko; do
	case "$ko" in ''|'#'*) continue ;; esac
	ko=${ko%%:*}   # "PATH: what it needs first"
	insmod "$ko" || say "insmod-failed=$ko"
	n=$((n + 1))
done </etc/sealinit/modules
say "modules=$n uptime=$(cut -d' ' -f1 /proc/uptime)"

wait_for() { # wait_for PATH TENTHS
	i=0
	while [ ! -e "$1" ] && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}
if wait_for /dev/tpmrm0 50; then say "tpm=yes"; else say "tpm=no"; fi
for d in vda vdb vdc; do wait_for /dev/$d 50 || die "no /dev/$d"; done

roothash=$(sed -n 's/.*smoke\.roothash=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
# No udev here: libdevmapper makes the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1
if veritysetup open /dev/vda root /dev/vdc "$roothash" &&
   mount -t ext4 -o ro /dev/mapper/root /newroot; then
	say "verity=yes"
else
	die "verity"
fi
if cryptsetup open --key-file /etc/smoke/recovery.key /dev/vdb data &&
   mount -t ext4 /dev/mapper/data /newroot/var/lib/sealdata; then
	say "dmcrypt=yes"
else
	die "dmcrypt"
fi
grep -q . /sys/class/tpm/tpm0/pcr-sha256/0 2>/dev/null &&
	say "pcr0-7=$(for p in 0 1 2 3 4 5 6 7; do head -c 8 /sys/class/tpm/tpm0/pcr-sha256/$p; echo -n ,; done)"
# Which implementation dm-crypt got for its cipher (information).
say "xts-driver=$(awk '/^name/ { n = $3 } /^driver/ && n == "xts(aes)" { print $3; exit }' /proc/crypto)"
say "ok uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in dev proc sys run; do mount --move /$m /newroot/$m; done
exec switch_root /newroot /sbin/init
EOF

for ARCH in $ARCHES; do
	echo "== $ARCH"
	if ! qemu_need "$ARCH"; then
		echo "skip ($ARCH): qemu-system for $ARCH cannot be installed"
		continue
	fi
	ran=$((ran + 1))
	D=$W/$ARCH
	mkdir -p "$D"

	KVER=$("$REPO/scripts/fetch-kernel.sh" "$ARCH") || { fail "fetch-kernel"; continue; }
	KDIR=$REPO/build/kernels/$ARCH
	ok "kernel $KVER"

	# The rootfs gets build/ARCH/sealinit when it has been built (so the
	# guest checks its library closure), else none: the smoke test does not
	# build sealinit. SEALINIT_aarch64/SEALINIT_x86_64 pick another binary.
	svar=SEALINIT_$ARCH
	sbin=${!svar:-$REPO/build/$ARCH/sealinit}
	[ -f "$sbin" ] || sbin=none
	SEALINIT=$sbin "$REPO/tests/qemu/mkimages.sh" "$D/img" "$ARCH" || { fail "mkimages"; continue; }
	. "$D/img/images.env"

	# Stock cryptsetup/veritysetup for the guest: the host's for x86_64;
	# for arm64, unpacked from Debian's :arm64 .debs into build/debs.
	extra=()
	if [ "$ARCH" = x86_64 ]; then
		tools=/sbin
	else
		sysroot=$(qemu_deb_root arm64 cryptsetup-bin libpopt0) || { fail "arm64 cryptsetup-bin"; continue; }
		tools=$sysroot/sbin
		extra+=(--sysroot "$sysroot")
	fi
	modvar=SMOKE_MODULES_$ARCH
	mk=("$REPO/initramfs/mkinitramfs" --arch "$ARCH" --init-script "$W/smoke-init"
		--kernel-dir "$KDIR" --modules "${SMOKE_MODULES:-${!modvar}}"
		--add "$tools/cryptsetup:/sbin/cryptsetup" --add "$tools/veritysetup:/sbin/veritysetup"
		--add "$IMG_RECOVERY_KEY:/etc/smoke/recovery.key" "${extra[@]}")
	"${mk[@]}" --out "$D/initrd.cpio.gz" 2>"$D/mkinitramfs.log" || { cat "$D/mkinitramfs.log"; fail "mkinitramfs"; continue; }
	sed -n '/wrote/,$p' "$D/mkinitramfs.log"
	# Written 0600: it may carry credentials. The second build replaces a
	# world-readable file already there, under a permissive umask.
	mode=$(stat -c %a "$D/initrd.cpio.gz")
	[ "$mode" = 600 ] && ok "initramfs written with mode 0600" || fail "initramfs mode $mode, want 600"
	install -m 0644 /dev/null "$D/initrd2.cpio.gz"
	# Reproducible: a second build (new staging dir, new copy times) must
	# give the same bytes.
	(umask 022; "${mk[@]}" --quiet --out "$D/initrd2.cpio.gz") || { fail "mkinitramfs (second build)"; continue; }
	mode=$(stat -c %a "$D/initrd2.cpio.gz")
	[ "$mode" = 600 ] && ok "a 0644 initramfs rebuilt under umask 022 is 0600" || fail "rebuilt initramfs mode $mode, want 600"
	if cmp -s "$D/initrd.cpio.gz" "$D/initrd2.cpio.gz"; then
		ok "mkinitramfs twice: identical ($(sha256sum <"$D/initrd.cpio.gz" | cut -c1-16)...)"
	else
		fail "mkinitramfs is not reproducible: $(cmp "$D/initrd.cpio.gz" "$D/initrd2.cpio.gz")"
	fi

	qemu_swtpm_start "$D/tpm" || { fail "swtpm"; continue; }
	qemu_disks_clear
	qemu_disk "$IMG_ROOTFS" ro rootfs
	qemu_disk "$IMG_DATA" "" data
	qemu_disk "$IMG_VERITY" ro verity
	LOG=$D/serial.log
	qemu_start "$ARCH" "$KDIR/vmlinuz" "$D/initrd.cpio.gz" "smoke.roothash=$IMG_ROOTHASH" "$LOG"
	t_ok=- t_done=-
	qemu_expect "$LOG" '^SMOKE: (ok|fail)' && qemu_grep "$LOG" '^SMOKE: ok' && t_ok=$QEMU_EXPECT_T
	qemu_expect "$LOG" 'SEALINIT-TEST: done' && t_done=$QEMU_EXPECT_T
	rc=0; qemu_wait || rc=$?

	# Assertions, from the serial log.
	[ "$rc" = 0 ] || fail "qemu exit $rc (124: timeout; see $LOG)"
	qemu_grep "$LOG" 'Run /init as init process' || fail "kernel never ran /init"
	if qemu_grep "$LOG" 'SMOKE: insmod-failed'; then
		fail "insmod: $(grep -ao 'insmod-failed=[^ ]*' "$LOG" | tr '\n' ' ')"
	fi
	[ "$(qemu_value "$LOG" 'SMOKE: tpm')" = yes ] && ok "/dev/tpmrm0 appeared" || fail "no /dev/tpmrm0"
	[ "$(qemu_value "$LOG" 'SMOKE: verity')" = yes ] && ok "dm-verity root opened" || fail "dm-verity: $(qemu_value "$LOG" 'SMOKE: fail')"
	[ "$(qemu_value "$LOG" 'SMOKE: dmcrypt')" = yes ] && ok "LUKS2 data volume opened" || fail "dm-crypt: $(qemu_value "$LOG" 'SMOKE: fail')"
	qemu_grep "$LOG" '^SMOKE: ok' && ok "SMOKE: ok" || fail "no SMOKE: ok"
	[ "$(qemu_value "$LOG" 'SEALINIT-TEST: pid')" = 1 ] && ok "guest-init ran as PID 1 after switch_root" || fail "guest-init not PID 1"
	[ "$(qemu_value "$LOG" 'SEALINIT-TEST: root')" = /dev/mapper/root ] &&
	[ "$(qemu_value "$LOG" 'SEALINIT-TEST: root-mode')" = ro ] && ok "root is the verity mapping, read-only" ||
		fail "root: $(qemu_value "$LOG" 'SEALINIT-TEST: root') $(qemu_value "$LOG" 'SEALINIT-TEST: root-mode')"
	got=$(qemu_value "$LOG" 'SEALINIT-TEST: marker')
	[ -n "$got" ] && [ "$got" = "$IMG_MARKER" ] && ok "marker read back through dm-crypt" || fail "marker: got '$got', want '$IMG_MARKER'"
	qemu_grep "$LOG" 'SEALINIT-TEST: done' && ok "guest-init done, powered off" || fail "guest-init did not finish"
	if [ "$IMG_SEALINIT" = yes ]; then
		# No token is enrolled here, so unlock must fail, but as sealinit,
		# not as a loader error; pcrread must work through the device TCTI.
		r=$(qemu_value "$LOG" 'SEALINIT-TEST: pcrread-exit')
		[ "$r" = 0 ] && ok "sealinit pcrread in the guest (closure + dlopen'd TCTI)" ||
			fail "sealinit pcrread in the guest: exit '$r': $(grep -a 'pcrread-output' "$LOG" | head -n 2)"
		r=$(qemu_value "$LOG" 'SEALINIT-TEST: reunseal-exit')
		case "$r" in
		''|0|126|127|missing) fail "sealinit unlock --test in the guest: exit '$r' (want a sealinit failure: no token)" ;;
		*) ok "sealinit unlock --test without a token fails cleanly (exit $r)" ;;
		esac
	else
		echo "note ($ARCH): no build/$ARCH/sealinit; rootfs without it"
	fi

	# Figures, for information only.
	t_init=$(grep -aoE '^\[ *[0-9.]+\] Run /init' "$LOG" | grep -oE '[0-9]+\.[0-9]+' | head -n1)
	echo "time ($ARCH): from qemu start: 'SMOKE: ok' ${t_ok} s, guest-init done ${t_done} s;" \
		"guest uptime: Run /init ${t_init:-?} s, modules loaded $(qemu_value "$LOG" 'SMOKE: modules=[0-9]* uptime') s," \
		"SMOKE: ok $(qemu_value "$LOG" 'SMOKE: ok uptime') s, guest-init done $(qemu_value "$LOG" 'SEALINIT-TEST: uptime-end') s"
	echo "info ($ARCH): dm-crypt's xts(aes) implementation: $(qemu_value "$LOG" 'SMOKE: xts-driver')"
	pcrs=$(qemu_value "$LOG" 'SMOKE: pcr0-7')
	echo "info ($ARCH): PCR 0-7 sha256 (first 4 bytes) at /init: ${pcrs:-unreadable}"
	qemu_swtpm_stop "${QEMU_SWTPM_PIDS[-1]}"
done

if [ "$ran" = 0 ]; then
	echo "SKIP: no qemu-system could be installed"
	exit 77
fi
if [ "$failures" != 0 ]; then
	echo "smoke: $failures failure(s); logs in $W (kept)"
	QEMU_KEEP=1
	exit 1
fi
echo "smoke: ok"
exit 0
