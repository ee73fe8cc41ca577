# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/boot rows built in Debian chroots (tests/lib/distro.sh): the peers
# and sealinit as a step of the distributions' own initramfs.
#   dracut_systemd    stock dracut with systemd and systemd-cryptsetup: the
#                     data volume in /etc/crypttab with tpm2-device=auto,
#                     enrolled by systemd-cryptenroll (PCR 16)
#   itools_clevis     stock initramfs-tools with clevis-initramfs and
#                     clevis-tpm2, enrolled by clevis luks bind (PCR 16)
#   itools_sealinit   sealinit in initramfs-tools (dist/initramfs-tools),
#                     enrolled by sealinit enroll --expect (PCR 15)
#   dracut_sealinit   sealinit in dracut (dist/dracut), the same
# The interface is in bench/rows/README.
#
# Each row's initramfs is made by the distribution's builder in a Debian 12
# chroot for the kernel every row boots (build/kernels/x86_64):
# tests/lib/distro.sh's distro_image, cached in build/distro-images/
# bench-ROW-HASH by the hash of the chroot's package list, the kernel,
# tests/lib/distro.sh, the row's setup function, its crypttab line and, for
# the sealinit rows, the installed files and the configuration. Only its initrd.img is booted: the rows keep the shared disks and
# root (root=/dev/vda, whose /sbin/init is bench/root-init), so the measure
# stays the bench's; the chroot's root.img is not used.
#
# The data volume (vdb) is the row's own copy of $IMG_DATA (its passphrase
# is $IMG_RECOVERY_KEY), named by UUID in the image's /etc/crypttab as
# `sealdata', and enrolled on the host against the row's swtpm state
# ($RW/tpm) by the row's own tool. The peers bind to PCR 16, which nothing
# in this boot extends: zero at enrollment (a fresh swtpm) and at the
# unlock (SeaBIOS's TPM2_Startup(CLEAR); SeaBIOS extends 0-7 only, a
# separator into each, so PCR 7 differs from its value at enrollment). Their
# unseal goes through a PCR policy, as sealinit's does, with nothing in
# the boot (firmware, kernel, initramfs) able to make it differ from one
# boot to the next. sealinit's step binds to PCR 15 as its README says:
# the command line and /etc/sealinit.conf, predicted by `sealinit predict
# --step', then capped.
#
# The check: the root's init sees /dev/mapper/sealdata (root-init's
# "BENCH: ... mapper=sealdata,"), which nobody typed a passphrase for (the
# bench answers no prompt). A boot that falls into a passphrase prompt
# waits there until QEMU's timeout (QEMU_TIMEOUT, 120 s), then the check
# fails the bench naming the prompt. clevis answers cryptroot's prompt
# itself, so for itools_clevis its prompt line is expected and only the
# open volume counts; for the other rows the prompt's text in the log is a
# failure on its own.

BENCH_DISTRO_LIB=$REPO/tests/lib/distro.sh
# shellcheck source=tests/lib/distro.sh
[ ! -f "$BENCH_DISTRO_LIB" ] || . "$BENCH_DISTRO_LIB"
DISTRO_ROW_NAME=sealdata
# The command line of every Debian row, before $BENCH_APPEND: the shared
# rootfs, read-only (its disk is), and its init named: systemd's
# switch-root refuses a root without os-release unless init= names the
# init (the shared root has none; initramfs-tools' default is the same).
DISTRO_ROW_APPEND="root=/dev/vda ro init=/sbin/init"
DISTRO_ROW_PEER_PCR=16
# sealinit's step: /etc/sealinit.conf in the image.
DISTRO_ROW_CONF=("pcrs=15" "device_timeout=10000")
# The prompts the rows' builders show when the TPM does not open the volume.
DISTRO_PROMPT_ITOOLS="Please unlock disk $DISTRO_ROW_NAME"
DISTRO_PROMPT_SYSTEMD="Please enter passphrase for disk"

row_dracut_systemd_title() { echo "dracut + systemd-cryptsetup (tpm2-device=auto)"; }
row_itools_clevis_title() { echo "initramfs-tools + clevis tpm2"; }
row_itools_sealinit_title() { echo "sealinit in initramfs-tools"; }
row_dracut_sealinit_title() { echo "sealinit in dracut"; }

# distro_need [TOOL...]: what every Debian row needs, and the host tool its
# enrollment runs.
distro_need() {
	local t
	[ "$ARCH" = x86_64 ] || { echo "x86_64 only (the Debian chroots are amd64)"; return 1; }
	[ -f "$BENCH_DISTRO_LIB" ] || { echo "needs tests/lib/distro.sh (Debian chroots), not in this tree"; return 1; }
	[ "$(uname -m)" = x86_64 ] || { echo "the Debian chroots are amd64: needs an x86_64 host"; return 1; }
	[ "$(id -u)" = 0 ] || { echo "needs root (chroot, mmdebstrap --mode=root)"; return 1; }
	for t in mmdebstrap mke2fs cryptsetup swtpm "$@"; do
		command -v "$t" >/dev/null || { echo "no $t on the host (scripts/deps.sh bench)"; return 1; }
	done
}

row_dracut_systemd_need() { distro_need systemd-cryptenroll; }
row_itools_clevis_need() { distro_need clevis; }
row_itools_sealinit_need() { distro_need; }
row_dracut_sealinit_need() { distro_need; }

# --- the images ------------------------------------------------------------------
# distro_crypttab ROW: the data volume's /etc/crypttab entry. initramfs-tools
# needs `initramfs' for a volume that is not the root; dracut's and
# sealinit's step take tpm2-device= (clevis has no crypttab option).
distro_crypttab() {
	local uuid=$DISTRO_DATA_UUID
	case $1 in
	dracut_systemd|dracut_sealinit) echo "$DISTRO_ROW_NAME UUID=$uuid none luks,tpm2-device=auto" ;;
	itools_clevis) echo "$DISTRO_ROW_NAME UUID=$uuid none luks,initramfs" ;;
	itools_sealinit) echo "$DISTRO_ROW_NAME UUID=$uuid none luks,initramfs,tpm2-device=auto" ;;
	esac
}

# The SETUP functions of distro_image, called with the chroot's root.
# Debian's dracut builds generic images: the crypttab goes in only when
# asked for, and the TPM's libraries (the tpm2-tss module: libtss2-*, which
# systemd-cryptsetup dlopen()s) only when named.
distro_setup_dracut_systemd() {
	distro_crypttab dracut_systemd >"$1/etc/crypttab"
	printf '%s\n' 'install_items+=" /etc/crypttab "' 'add_dracutmodules+=" tpm2-tss "' \
		>"$1/etc/dracut.conf.d/90-bench.conf"
}
distro_setup_itools_clevis() { distro_crypttab itools_clevis >"$1/etc/crypttab"; }
distro_setup_itools_sealinit() {
	install_sealinit "$1" "${DISTRO_ROW_CONF[@]}" && install_itools_step "$1" || return 1
	distro_crypttab itools_sealinit >"$1/etc/crypttab"
}
distro_setup_dracut_sealinit() {
	install_sealinit "$1" "${DISTRO_ROW_CONF[@]}" && install_dracut_module "$1" || return 1
	distro_crypttab dracut_sealinit >"$1/etc/crypttab"
	echo 'install_items+=" /etc/crypttab "' >"$1/etc/dracut.conf.d/90-bench.conf"
}

# distro_row_image ROW PACKAGES BUILDER [KEY...]: ROW's cached image set
# (DISTRO_IMAGE); ROW_INITRD and ROW_APPEND; the row's copy of the data
# volume, $RW/data.img, not enrolled yet.
distro_row_image() {
	local row=$1 pkgs=$2 builder=$3 out
	shift 3
	DISTRO_DATA_UUID=$(cryptsetup luksUUID "$IMG_DATA") || { echo "cannot read the UUID of $IMG_DATA"; return 1; }
	scripts/fetch-kernel.sh x86_64 >/dev/null || { echo "scripts/fetch-kernel.sh x86_64 failed"; return 1; }
	distro_image "bench-$row" "$pkgs" "$builder" "distro_setup_$row" "$(declare -f "distro_setup_$row")" \
		"$(distro_crypttab "$row")" "$@" || { echo "$row: the $builder image could not be made"; return 1; }
	[ -z "$DISTRO_IMAGE_BUILT" ] || echo "$row: image built in $DISTRO_IMAGE_BUILT s ($DISTRO_IMAGE)"
	ROW_INITRD[$row]=$DISTRO_IMAGE/initrd.img
	ROW_APPEND[$row]="$DISTRO_ROW_APPEND $BENCH_APPEND"
	cp --sparse=always "$IMG_DATA" "$RW/data.img"
	rm -rf "$RW/tpm"
}

# distro_sealinit_key: what the sealinit rows' setup installs (make install
# builds the binary first, so that its hash is the one installed).
distro_sealinit_key() {
	make -C "$REPO" -s --no-print-directory -j2 all >/dev/null || { echo "make failed"; return 1; }
	(cd "$REPO" && { find dist/initramfs-tools dist/dracut -type f | LC_ALL=C sort;
		echo initramfs/manifest Makefile build/x86_64/sealinit; } | xargs sha256sum)
	printf '%s\n' "${DISTRO_ROW_CONF[@]}"
}

# distro_enroll ROW CMD...: run CMD against a fresh swtpm state in $RW/tpm
# (SEALINIT_TCTI and TPM2TOOLS_TCTI name it), then stop that swtpm.
distro_enroll() {
	local row=$1 out rc
	shift
	qemu_swtpm_tcp "$RW/tpm" || { echo "$row: no swtpm for the enrollment"; return 1; }
	out=$(timeout 120 "$@" 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$RW/tpm/swtpm-tcp.log" "$RW/tpm/.lock"
	[ $rc = 0 ] || { echo "$row: $1 failed (exit $rc): $out"; return 1; }
	echo "$row: $out" | tail -n 3
}

row_dracut_systemd_prepare() {
	distro_row_image dracut_systemd "$DISTRO_DRACUT,tpm2-tools" dracut || return 1
	# systemd-cryptenroll 252 reads the passphrase from $PASSWORD.
	PASSWORD=$(cat "$IMG_RECOVERY_KEY") distro_enroll dracut_systemd \
		bash -c 'systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" --tpm2-pcrs="$1" "$2"' _ \
		"$DISTRO_ROW_PEER_PCR" "$RW/data.img"
}

row_itools_clevis_prepare() {
	distro_row_image itools_clevis "$DISTRO_ITOOLS,clevis,clevis-tpm2,clevis-luks,clevis-initramfs" initramfs-tools ||
		return 1
	# clevis's tpm2 pin talks to the TPM through tpm2-tools: TPM2TOOLS_TCTI.
	distro_enroll itools_clevis clevis luks bind -y -k "$IMG_RECOVERY_KEY" -d "$RW/data.img" tpm2 \
		"{\"pcr_bank\":\"sha256\",\"pcr_ids\":\"$DISTRO_ROW_PEER_PCR\"}"
}

row_itools_sealinit_prepare() { distro_sealinit_prepare itools_sealinit "$DISTRO_ITOOLS" initramfs-tools; }
row_dracut_sealinit_prepare() { distro_sealinit_prepare dracut_sealinit "$DISTRO_DRACUT" dracut; }
# distro_sealinit_prepare ROW PACKAGES BUILDER: the image with sealinit
# installed as the READMEs say, and the data volume enrolled for PCR 15 as
# the step will leave it before the cap: `predict --step' for the image's
# configuration and the row's command line as /proc/cmdline shows it.
distro_sealinit_prepare() {
	local row=$1 key bin=$REPO/build/x86_64/sealinit
	key=$(distro_sealinit_key) || { echo "$key"; return 1; }
	distro_row_image "$row" "$2" "$3" "$key" || return 1
	printf '%s\n' "${DISTRO_ROW_CONF[@]}" >"$RW/sealinit.conf"
	timeout 60 "$bin" predict --step --config "$RW/sealinit.conf" \
		--cmdline "$(qemu_console "$ARCH") panic=-1 ${ROW_APPEND[$row]}" >"$RW/expect" 2>&1 ||
		{ echo "$row: predict --step: $(cat "$RW/expect")"; return 1; }
	distro_enroll "$row" "$bin" enroll "$RW/data.img" --key-file "$IMG_RECOVERY_KEY" --pcrs 15 \
		--expect "$RW/expect" --name "$DISTRO_ROW_NAME"
}

row_dracut_systemd_disks() { bench_shared_disks "$RW/data.img"; }
row_itools_clevis_disks() { bench_shared_disks "$RW/data.img"; }
row_itools_sealinit_disks() { bench_shared_disks "$RW/data.img"; }
row_dracut_sealinit_disks() { bench_shared_disks "$RW/data.img"; }

# --- the checks ------------------------------------------------------------------
# distro_check LOG PROMPT PROMPT-IS-FAILURE [LINE]: the volume is open in
# the booted system, nobody was asked for its passphrase (unless the
# unlocker answers the prompt itself: clevis), and LINE (a regex: the
# unlocker's own success line) is in the log.
distro_check() {
	local log=$1 prompt=$2 strict=$3 line=${4:-} maps
	maps=$(grep -aoE 'BENCH: data=[^ ]* mapper=[^ ]*' "$log" | tail -n 1 | sed 's/.*mapper=//')
	if [ -z "$maps" ]; then
		if grep -aqF "$prompt" "$log"; then
			echo "the boot fell into the passphrase prompt (\`$prompt' on the console) and waited there until QEMU's timeout: the TPM did not open $DISTRO_ROW_NAME"
		else
			echo "the root's init did not run (no BENCH line; QEMU's timeout?): $(grep -av '^\s*$' "$log" | tail -n 2 | tr '\n' ' ')"
		fi
		return 1
	fi
	case ",$maps" in
	*,"$DISTRO_ROW_NAME",*) ;;
	*) echo "the data volume was not opened: the booted system's /dev/mapper has \`$maps'$(grep -aqF "$prompt" "$log" &&
		echo ", and the passphrase prompt (\`$prompt') appeared")"; return 1 ;;
	esac
	if [ "$strict" = 1 ] && grep -aqF "$prompt" "$log"; then
		echo "the passphrase prompt (\`$prompt') appeared: the TPM did not open $DISTRO_ROW_NAME by itself"
		return 1
	fi
	if [ -n "$line" ] && ! grep -aqE "$line" "$log"; then
		echo "$DISTRO_ROW_NAME is open but the log has no \`$line': not opened by the row's unlocker"
		return 1
	fi
}
row_dracut_systemd_check() { distro_check "$1" "$DISTRO_PROMPT_SYSTEMD" 1; }
row_itools_clevis_check() { distro_check "$1" "$DISTRO_PROMPT_ITOOLS" 0; }
row_itools_sealinit_check() {
	distro_check "$1" "$DISTRO_PROMPT_ITOOLS" 1 "Unlocked /dev/disk/by-uuid/[^ ]* as /dev/mapper/$DISTRO_ROW_NAME"
}
row_dracut_sealinit_check() {
	distro_check "$1" "$DISTRO_PROMPT_SYSTEMD" 1 "Unlocked /dev/disk/by-uuid/[^ ]* as /dev/mapper/$DISTRO_ROW_NAME"
}
