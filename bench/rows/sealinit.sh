# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/boot rows: sealinit's own initramfs, as `make initramfs' builds it
# for the qemu_ARCH defconfig (its module list, boot configuration and
# compression), booting the happy path: verity root, measure, unseal from
# the swtpm, unlock and mount the data volume, cap, switch_root. Two
# variants of the same build, not booted unless ROWS names them:
# sealinit_zstd (CONFIG_INITRAMFS_COMPRESSION="zstd") and sealinit_nolegacy
# (CONFIG_LEGACY_NET off: what carrying the legacy fetch costs). And
# sealinit_src: the same row built from another checkout, SEALINIT_SRC=DIR,
# to compare two trees in one run:
#   SEALINIT_SRC=../other ROWS="sealinit sealinit_src floor" bench/boot
# The interface is in bench/rows/README.

row_sealinit_title() { echo "sealinit's own initramfs (make initramfs, qemu defconfig)"; }
row_sealinit_zstd_title() { echo "sealinit, the same build with zstd"; }
row_sealinit_nolegacy_title() { echo "sealinit without the legacy fetch (CONFIG_LEGACY_NET off)"; }
row_sealinit_src_title() { echo "sealinit's own initramfs built from SEALINIT_SRC=${SEALINIT_SRC:-(unset)}"; }

row_sealinit_need() { return 0; }
row_sealinit_zstd_need() { return 0; }
row_sealinit_nolegacy_need() { return 0; }
row_sealinit_src_need() {
	[ -n "${SEALINIT_SRC:-}" ] || { echo "set SEALINIT_SRC=DIR to the sealinit checkout to build"; return 1; }
	[ -f "$SEALINIT_SRC/Makefile" ] && [ -d "$SEALINIT_SRC/configs" ] ||
		{ echo "SEALINIT_SRC=\`$SEALINIT_SRC' is not a sealinit checkout (no Makefile, configs/)"; return 1; }
}

row_sealinit_prepare() { sealinit_prepare sealinit "" "$REPO"; }
row_sealinit_zstd_prepare() { sealinit_prepare sealinit_zstd zstd "$REPO"; }
row_sealinit_nolegacy_prepare() { sealinit_prepare sealinit_nolegacy nolegacy "$REPO"; }
row_sealinit_src_prepare() { sealinit_prepare sealinit_src "" "$(cd "$SEALINIT_SRC" && pwd)"; }

# sealinit_prepare ROW VARIANT SRC: build the checkout SRC (incrementally,
# in build/bench/ARCH/) with its initramfs for the defconfig changed by
# VARIANT, then
# enroll a copy of the data volume against the row's own swtpm state for
# what this build will measure with the row's command line.
sealinit_prepare() {
	local row=$1 variant=$2 src=$3 kc b hb cross=() host append
	b=$BENCH_CACHE/$row
	[ "$src" = "$REPO" ] || b=$b-$(bench_key "$src")
	mkdir -p "$b"
	kc=$b/config
	KCONFIG_CONFIG=$kc.new make -C "$src" -s --no-print-directory "qemu_${ARCH}_defconfig" >/dev/null || return 1
	case $variant in
	zstd) sed -i 's/^CONFIG_INITRAMFS_COMPRESSION=.*/CONFIG_INITRAMFS_COMPRESSION="zstd"/' "$kc.new"
	      grep -q '^CONFIG_INITRAMFS_COMPRESSION="zstd"' "$kc.new" ||
		echo 'CONFIG_INITRAMFS_COMPRESSION="zstd"' >>"$kc.new" ;;
	nolegacy) sed -i 's/^CONFIG_LEGACY_NET=y$/# CONFIG_LEGACY_NET is not set/' "$kc.new"
	      grep -q '^CONFIG_LEGACY_NET=y' "$kc.new" && { echo "could not turn CONFIG_LEGACY_NET off"; return 1; } ;;
	esac
	# The modules of the kernel every row boots, whatever tree builds it.
	sed -i '/^CONFIG_INITRAMFS_KERNEL_DIR=/d' "$kc.new"
	echo "CONFIG_INITRAMFS_KERNEL_DIR=\"$KDIR\"" >>"$kc.new"
	# Only a changed configuration rebuilds (make follows its mtime).
	cmp -s "$kc.new" "$kc" && rm -f "$kc.new" || mv "$kc.new" "$kc"
	[ "$ARCH" = "$(uname -m)" ] || cross=(CROSS_COMPILE=aarch64-linux-gnu-)
	KCONFIG_CONFIG=$kc make -C "$src" -s --no-print-directory -j2 "${cross[@]}" BUILD="$b/target" initramfs >"$b/make.log" 2>&1 ||
		{ echo "make initramfs failed: $(tail -n 3 "$b/make.log")"; return 1; }
	# `predict' runs on the host: a host build of the same configuration.
	host=$b/target/sealinit
	if [ ${#cross[@]} -gt 0 ]; then
		hb=$b/host
		KCONFIG_CONFIG=$kc make -C "$src" -s --no-print-directory -j2 CROSS_COMPILE= BUILD="$hb" all >"$b/make-host.log" 2>&1 ||
			{ echo "host build failed: $(tail -n 3 "$b/make-host.log")"; return 1; }
		host=$hb/sealinit
	fi
	ROW_INITRD[$row]=$b/target/initramfs.cpio.gz
	append="roothash=$IMG_ROOTHASH sealinit.loglevel=7 $BENCH_APPEND"
	ROW_APPEND[$row]=$append
	cp --sparse=always "$IMG_DATA" "$RW/data.img"
	# The configuration the initramfs carries (CONFIG_BOOT_CONFIG).
	local conf
	conf=$(sed -n 's/^CONFIG_BOOT_CONFIG="\(.*\)"$/\1/p' "$kc")
	case $conf in /*) ;; *) conf=$src/$conf ;; esac
	local out
	out=$(timeout 60 "$host" predict --config "$conf" --cmdline "$(qemu_console "$ARCH") panic=-1 $append" \
		--init "$BENCH_ROOT_INIT" 2>&1) || { echo "predict: $out"; return 1; }
	mapfile -t QEMU_EVENTS < <(sed -n 's/^15 //p' <<<"$out")
	[ ${#QEMU_EVENTS[@]} -ge 4 ] || { echo "predict printed: $out"; return 1; }
	qemu_enroll_events "$host" "$RW/tpm" "$RW/data.img" "$IMG_RECOVERY_KEY" "${QEMU_EVENTS[@]}"
}

row_sealinit_disks() { bench_shared_disks "$RW/data.img"; }
row_sealinit_zstd_disks() { row_sealinit_disks; }
row_sealinit_nolegacy_disks() { row_sealinit_disks; }
row_sealinit_src_disks() { row_sealinit_disks; }

# The boot counts only if sealinit unlocked and mounted the data volume.
row_sealinit_check() { sealinit_check "$@"; }
row_sealinit_zstd_check() { sealinit_check "$@"; }
row_sealinit_nolegacy_check() { sealinit_check "$@"; }
row_sealinit_src_check() { sealinit_check "$@"; }
sealinit_check() {
	grep -aq "BENCH: data=marker=$IMG_MARKER" "$1" && return 0
	echo "the data volume was not unlocked: $(grep -a 'sealinit: ' "$1" | tail -n 2 | tr '\n' ' ')"
	return 1
}

# sealinit's own stamps (loglevel 7): "sealinit: [   1.234] STEP: 12.3 ms",
# and /init start -> switch_root from its first and last stamps.
row_sealinit_steps() { sealinit_steps "$@"; }
row_sealinit_zstd_steps() { sealinit_steps "$@"; }
row_sealinit_nolegacy_steps() { sealinit_steps "$@"; }
row_sealinit_src_steps() { sealinit_steps "$@"; }
sealinit_steps() {
	local t0 t1 run mark
	t0=$(grep -aoE 'sealinit: \[ *[0-9.]+\] sealinit [^ ]+ starting as PID 1' "$1" | head -n 1 |
		sed -E 's/^sealinit: \[ *([0-9.]+)\].*/\1/')
	t1=$(grep -aoE 'sealinit: \[ *[0-9.]+\] switch_root' "$1" | head -n 1 |
		sed -E 's/^sealinit: \[ *([0-9.]+)\].*/\1/')
	# The rest of the bench's stage: from the kernel's "Run /init" to
	# sealinit's first stamp (exec, the dynamic loader, libraries), and
	# from its switch_root to the root's init.
	run=$(grep -aoE 'BENCH: run-init=[0-9.]+' "$1" | tail -n 1 | sed 's/.*=//')
	mark=$(grep -aoE 'root-init=[0-9.]+' "$1" | tail -n 1 | sed 's/.*=//')
	[ -n "$run" ] && [ -n "$t0" ] &&
		awk -v a="$run" -v b="$t0" 'BEGIN { printf "Run /init -> sealinit starts\t%.1f\n", (b - a) * 1000 }'
	[ -n "$t0" ] && [ -n "$t1" ] &&
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "/init start -> switch_root\t%.1f\n", (b - a) * 1000 }'
	grep -aoE 'sealinit: \[ *[0-9.]+\] [a-z0-9 _-]+: [0-9.]+ ms' "$1" |
		sed -E 's/^sealinit: \[ *[0-9.]+\] //; s/ ms$//; s/: /\t/'
	[ -n "$t1" ] && [ -n "$mark" ] &&
		awk -v a="$t1" -v b="$mark" 'BEGIN { printf "switch_root -> the root'"'"'s init\t%.1f\n", (b - a) * 1000 }'
}
