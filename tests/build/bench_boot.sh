#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/boot without booting anything: its scripts parse, its arguments are
# checked (bad ones are refused by name, exit 2; good ones are accepted), its
# row list says which rows run and why the others are skipped, the Debian
# rows' checks fail a boot stuck at a passphrase prompt by name (and pass
# their genuine logs), the floor's module resolution puts dependencies
# first and refuses an unknown module, and the floor's /init builds with
# -Werror.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"

for f in bench/boot bench/rows/*.sh; do
	bash -n "$f" || fail "$f does not parse"
done
sh -n bench/root-init || fail "bench/root-init does not parse as POSIX sh"

# Refused: each names what was wrong, and boots nothing (exit 2 at once).
expect 2 "unknown arch" bench/boot riscv
expect_msg "usage: bench/boot"
expect 2 "two arches" bench/boot x86_64 aarch64
expect_msg "usage: bench/boot"
expect 2 "BOOTS=0" env BOOTS=0 bench/boot x86_64
expect_msg "BOOTS=\`0' is not a positive number"
expect 2 "BOOTS=abc" env BOOTS=abc bench/boot --list
expect_msg "BOOTS=\`abc'"
expect 2 "SMP=0" env SMP=0 bench/boot --list
expect_msg "SMP=\`0' is not a number of guest CPUs from 1 to 8"
expect 2 "an unknown row" env ROWS="sealinit nosuch" bench/boot --list
expect_msg "no row \`nosuch'"
expect 2 "a row name that is no shell name" env ROWS='floor;x' bench/boot --list
expect_msg "row name \`floor;x'"

# Accepted (positive control): the list names every default row, the two
# that need nothing but this tree as running.
expect 0 "--list" bench/boot --list x86_64
for r in sealinit floor dracut_systemd itools_clevis itools_sealinit dracut_sealinit; do
	grep -q "^  $r " <<<"$OUT" || fail "--list does not name $r: $OUT"
done
grep -A1 "^  floor " <<<"$OUT" | grep -q "runs$" || fail "--list: the floor should run: $OUT"
grep -A1 "^  sealinit " <<<"$OUT" | grep -q "runs$" || fail "--list: sealinit should run: $OUT"
# The Debian rows run on an x86_64 host as root with the chroot tools and
# their enrollment tools (the machine the bench runs on), and are skipped,
# each with its reason, anywhere else.
distro_rows="dracut_systemd itools_clevis itools_sealinit dracut_sealinit"
if [ "$(uname -m)" = x86_64 ] && [ "$(id -u)" = 0 ] &&
	command -v mmdebstrap >/dev/null && command -v systemd-cryptenroll >/dev/null && command -v clevis >/dev/null &&
	command -v swtpm >/dev/null && command -v cryptsetup >/dev/null && command -v mke2fs >/dev/null; then
	for r in $distro_rows; do
		grep -A1 "^  $r " <<<"$OUT" | grep -q "runs$" || fail "--list: $r should run on this host: $OUT"
	done
else
	for r in $distro_rows; do
		grep -A1 "^  $r " <<<"$OUT" | grep -q "skipped: ." || fail "--list: $r gives no reason to skip: $OUT"
	done
fi
# On aarch64 they are skipped by name: the chroots are amd64.
expect 0 "--list aarch64" bench/boot --list aarch64
for r in $distro_rows; do
	grep -A1 "^  $r " <<<"$OUT" | grep -q "skipped: x86_64 only" || fail "--list aarch64: $r is not skipped as x86_64 only: $OUT"
done
expect 0 "--list with the optional rows" env ROWS="sealinit_zstd sealinit_nolegacy" bench/boot --list aarch64
grep -q "^  sealinit_zstd " <<<"$OUT" || fail "--list: no sealinit_zstd: $OUT"
# Another checkout's sealinit: skipped, by name, unless SEALINIT_SRC is one.
expect 0 "sealinit_src without SEALINIT_SRC" env -u SEALINIT_SRC ROWS=sealinit_src bench/boot --list
expect_msg "skipped: set SEALINIT_SRC=DIR"
expect 0 "sealinit_src on no checkout" env SEALINIT_SRC="$WORK" ROWS=sealinit_src bench/boot --list
expect_msg "SEALINIT_SRC=\`$WORK' is not a sealinit checkout"
expect 0 "sealinit_src on this checkout" env SEALINIT_SRC="$REPO" ROWS=sealinit_src bench/boot --list
grep -A1 "^  sealinit_src " <<<"$OUT" | grep -q "runs$" || fail "--list: sealinit_src on $REPO should run: $OUT"

# The floor's module order, on a made-up modules.dep: a needs b and c, b
# needs c; ext4 is built in. Dependencies come first, each once.
. bench/rows/floor.sh
m=$WORK/mods
mkdir -p "$m"
printf 'kernel/x/a.ko: kernel/x/b.ko kernel/y/c-d.ko\nkernel/x/b.ko: kernel/y/c-d.ko\nkernel/y/c-d.ko:\nkernel/z/e.ko:\n' >"$m/modules.dep"
printf 'kernel/fs/ext4/ext4.ko\n' >"$m/modules.builtin"
got=$(floor_modules "$m" a ext4 c_d | tr '\n' ' ')
[ "$got" = "kernel/y/c-d.ko kernel/x/b.ko kernel/x/a.ko " ] || fail "floor_modules a ext4 c_d: \`$got'"
got=$(floor_modules "$m" e | tr '\n' ' ')
[ "$got" = "kernel/z/e.ko " ] || fail "floor_modules e: \`$got'"
# An unknown module fails and is named.
run floor_modules "$m" a nosuch
[ "$RC" != 0 ] || fail "floor_modules accepted an unknown module: $OUT"
expect_msg "no module nosuch"

# The Debian rows' checks, on made-up serial logs. A boot that fell into
# the passphrase prompt (nobody answers it: QEMU's timeout ends it, the
# root's init never runs) fails and names the prompt; a volume that the
# unlocker did not open is refused; the positive controls: each row's
# genuine log passes, clevis's with cryptroot's prompt in it (clevis
# answers that prompt itself).
. bench/rows/distro.sh
genuine='BENCH: run-init=4.2 root-init=11.2 uptime=11.2
BENCH: data=none mapper=sealdata,
BENCH: done'
unlocked='Unlocked /dev/disk/by-uuid/23230c29-6c58-46ba-94ec-84b700a7a4dc as /dev/mapper/sealdata (token 0, keyslot 1)'
printf '%s\n' "$genuine" >"$WORK/systemd.log"
printf '%s\n' "$DISTRO_PROMPT_ITOOLS:" "$genuine" >"$WORK/clevis.log"
printf '%s\n' "$unlocked" "$genuine" >"$WORK/sealinit.log"
printf '%s\n' "[  9.1] systemd[1]: Starting systemd-cryptsetup@sealdata.service" \
	"🔐 $DISTRO_PROMPT_SYSTEMD sealdata: " >"$WORK/systemd-prompt.log"
printf '%s\n' "Begin: Running /scripts/local-top ... done." "$DISTRO_PROMPT_ITOOLS: " >"$WORK/itools-prompt.log"
printf '%s\n' "sealinit: sealdata: the TPM did not open /dev/disk/by-uuid/x" "$DISTRO_PROMPT_ITOOLS: " \
	"BENCH: run-init=4.2 root-init=31.2 uptime=31.2" "BENCH: data=none mapper=sealdata," >"$WORK/typed.log"
printf '%s\n' "BENCH: run-init=4.2 root-init=11.2 uptime=11.2" "BENCH: data=none mapper=none" >"$WORK/closed.log"
expect 0 "dracut_systemd's genuine boot" row_dracut_systemd_check "$WORK/systemd.log"
expect 0 "itools_clevis's genuine boot, clevis answering the prompt" row_itools_clevis_check "$WORK/clevis.log"
expect 0 "itools_sealinit's genuine boot" row_itools_sealinit_check "$WORK/sealinit.log"
expect 0 "dracut_sealinit's genuine boot" row_dracut_sealinit_check "$WORK/sealinit.log"
for r in dracut_systemd dracut_sealinit; do
	expect 1 "$r stuck at systemd's prompt" "row_${r}_check" "$WORK/systemd-prompt.log"
	expect_msg "the boot fell into the passphrase prompt (\`$DISTRO_PROMPT_SYSTEMD' on the console)"
done
for r in itools_clevis itools_sealinit; do
	expect 1 "$r stuck at cryptroot's prompt" "row_${r}_check" "$WORK/itools-prompt.log"
	expect_msg "the boot fell into the passphrase prompt (\`$DISTRO_PROMPT_ITOOLS' on the console)"
done
expect 1 "itools_sealinit opened after the prompt" row_itools_sealinit_check "$WORK/typed.log"
expect_msg "the passphrase prompt (\`$DISTRO_PROMPT_ITOOLS') appeared"
expect 1 "dracut_sealinit open with no sealinit line" row_dracut_sealinit_check "$WORK/systemd.log"
expect_msg "not opened by the row's unlocker"
for r in dracut_systemd itools_clevis itools_sealinit dracut_sealinit; do
	expect 1 "$r with the volume closed" "row_${r}_check" "$WORK/closed.log"
	expect_msg "the data volume was not opened"
done

# The floor's /init: static, warning-free.
if command -v gcc >/dev/null; then
	gcc -static -Os -Wall -Wextra -Werror -o "$WORK/floor-init" bench/floor-init.c 2>"$WORK/cc.log" ||
		fail "bench/floor-init.c: $(head -n 5 "$WORK/cc.log")"
	file "$WORK/floor-init" | grep -q 'statically linked' || fail "floor-init is not static: $(file "$WORK/floor-init")"
fi
exit 0
