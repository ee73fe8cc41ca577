#!/bin/bash
# Kconfig: every defconfig builds (the aarch64 ones cross-compiled for
# arm64), savedefconfig round-trips to the committed defconfig, options
# become 0/1 constants, and menuconfig starts and saves.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"

for cfg in configs/*_defconfig; do
	name=$(basename "$cfg" _defconfig)
	kc="$WORK/$name.config"
	out="$WORK/build-$name"
	KCONFIG_CONFIG=$kc make -s "${name}_defconfig" >/dev/null || fail "$name: defconfig"
	run env KCONFIG_CONFIG="$kc" make -s BUILD="$out" all
	[ "$RC" = 0 ] || fail "$name: build: $OUT"
	arch=$(file -b "$out/sealinit")
	case "$name" in
	*aarch64*|jetson*) echo "$arch" | grep -q 'ARM aarch64' || fail "$name: not arm64: $arch" ;;
	*) echo "$arch" | grep -q 'x86-64' || fail "$name: not x86-64: $arch" ;;
	esac
	KCONFIG_CONFIG=$kc make -s savedefconfig >/dev/null || fail "$name: savedefconfig"
	cmp -s defconfig "$cfg" || fail "$name: savedefconfig differs from $cfg: $(diff defconfig "$cfg")"
	rm -f defconfig
done

# Jetson: rescue shell off, and so in the generated header.
grep -q '^#define ENABLE_RESCUE_SHELL 0$' "$WORK/build-jetson_orin_nano/include/config.h" ||
	fail "jetson: rescue shell not 0"

# Turning the legacy fallback off yields ENABLE_LEGACY_NET 0 and a binary
# that says so.
kc="$WORK/nolegacy.config"
KCONFIG_CONFIG=$kc make -s qemu_x86_64_defconfig >/dev/null
sed -i 's/^CONFIG_LEGACY_NET=y/# CONFIG_LEGACY_NET is not set/' "$kc"
KCONFIG_CONFIG=$kc make -s BUILD="$WORK/nolegacy" all >/dev/null 2>&1 || fail "no-legacy build"
grep -q '^#define ENABLE_LEGACY_NET 0$' "$WORK/nolegacy/include/config.h" || fail "ENABLE_LEGACY_NET not 0"
"$WORK/nolegacy/sealinit" version | grep -q 'legacy network off' || fail "version does not report legacy off"
# Its default key sources are what it has: the board config validates, and
# names only tpm2; an explicit legacy source is refused by name.
out=$("$WORK/nolegacy/sealinit" boot-config --config board/qemu/sealinit.conf --cmdline "roothash=00ff" 2>&1) ||
	fail "no-legacy build refuses the default configuration: $out"
echo "$out" | grep -qx 'keysources=tpm2' || fail "no-legacy build: default keysources is not tpm2: $(echo "$out" | grep keysources)"
out=$("$WORK/nolegacy/sealinit" boot-config --config board/qemu/sealinit.conf --cmdline "roothash=00ff sealinit.keysources=legacy" 2>&1) &&
	fail "no-legacy build accepts keysources=legacy"
echo "$out" | grep -q 'no legacy network fetch' || fail "no-legacy build: keysources=legacy message: $out"

# menuconfig in a real terminal: it shows the menu, and saving writes the file.
if command -v tmux >/dev/null; then
	kc="$WORK/menu.config"
	sock="$WORK/tmux.sock"
	tmux -S "$sock" new-session -d -x 100 -y 30 "cd '$REPO' && KCONFIG_CONFIG='$kc' make menuconfig; sleep 2"
	seen=""
	for i in $(seq 50); do
		if tmux -S "$sock" capture-pane -p 2>/dev/null | grep -q 'Key sources'; then seen=1; break; fi
		sleep 0.2
	done
	[ -n "$seen" ] || { tmux -S "$sock" kill-server 2>/dev/null; fail "menuconfig did not show its menu"; }
	tmux -S "$sock" send-keys S; sleep 0.5; tmux -S "$sock" send-keys Enter; sleep 0.5
	tmux -S "$sock" send-keys Enter; sleep 0.5; tmux -S "$sock" send-keys Q; sleep 1
	tmux -S "$sock" kill-server 2>/dev/null
	[ -s "$kc" ] && grep -q '^CONFIG_TPM2=y' "$kc" || fail "menuconfig did not save $kc"
fi
echo ok
