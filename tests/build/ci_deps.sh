#!/bin/bash
# SPDX-License-Identifier: MIT
# A missing piece of the test machine is a skip when a developer runs a
# test, and a failure with CI=true: in CI, make check installs every test
# dependency first (scripts/deps.sh all), and a skip would hide the tests
# that need the missing piece (the UEFI boots did, when their firmware
# package could not be installed). The missing piece is faked: the UEFI
# firmware image named by QEMU_UEFI_CODE does not exist.
#   - tests/qemu/uefi.sh aarch64: without CI, exit 77 and a SKIP line (the
#     control); with CI=true, exit 1 and a FAIL line naming the firmware;
#   - tests/qemu/boot.sh aarch64 happy, booting through that firmware
#     (QEMU_FIRMWARE=uefi): the same, as its scenario line and summary;
#   - tests/qemu/distro.sh x86_64 (OVMF): the same, with its summary.
# Nothing boots: both stop at the dependency check.
. "$(dirname "$0")/../lib/common.sh"
export QEMU_UEFI_CODE=$WORK/no-such-firmware/AAVMF_CODE.fd QEMU_UEFI_VARS=$WORK/no-such-firmware/AAVMF_VARS.fd
export APT_LOCK_TIMEOUT=60
# A failing QEMU test keeps its scratch directory for the post-mortem: here
# they go under WORK, which is removed.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
unset CI QEMU_KEEP

# runq LABEL CMD...: run with a bound, keep output and status.
runq() { local l=$1; shift; OUT=$(timeout 300 "$@" 2>&1); RC=$?; echo "== $l (exit $RC)" >>"$WORK/all.log"; echo "$OUT" >>"$WORK/all.log"; }

runq "uefi.sh, no CI" bash "$REPO/tests/qemu/uefi.sh" aarch64
[ "$RC" = 77 ] || fail "uefi.sh without CI: exit $RC, want 77 (skip): $OUT"
grep -q '^SKIP  aarch64: qemu-system or its UEFI firmware cannot be installed$' <<<"$OUT" || fail "uefi.sh without CI: no SKIP line: $OUT"
grep -q '^0 passed, 0 failed, 1 skipped$' <<<"$OUT" || fail "uefi.sh without CI: summary: $OUT"

runq "uefi.sh, CI=true" env CI=true bash "$REPO/tests/qemu/uefi.sh" aarch64
[ "$RC" = 1 ] || fail "uefi.sh with CI=true: exit $RC, want 1 (fail): $OUT"
grep -q '^FAIL  aarch64: qemu-system or its UEFI firmware cannot be installed (CI=true' <<<"$OUT" || fail "uefi.sh with CI=true: no FAIL line: $OUT"
grep -q '^0 passed, 1 failed, 0 skipped$' <<<"$OUT" || fail "uefi.sh with CI=true: summary: $OUT"
grep -q '^SKIP' <<<"$OUT" && fail "uefi.sh with CI=true still skips: $OUT"

runq "boot.sh, no CI" env QEMU_FIRMWARE=uefi bash "$REPO/tests/qemu/boot.sh" aarch64 happy
[ "$RC" = 77 ] || fail "boot.sh without CI: exit $RC, want 77 (skip): $OUT"
grep -q '^SKIP  aarch64 happy: qemu-system for aarch64 cannot be installed$' <<<"$OUT" || fail "boot.sh without CI: no SKIP line: $OUT"

runq "boot.sh, CI=true" env CI=true QEMU_FIRMWARE=uefi bash "$REPO/tests/qemu/boot.sh" aarch64 happy
[ "$RC" = 1 ] || fail "boot.sh with CI=true: exit $RC, want 1 (fail): $OUT"
grep -q '^FAIL  aarch64 happy: qemu-system for aarch64 cannot be installed (CI=true' <<<"$OUT" || fail "boot.sh with CI=true: no FAIL line: $OUT"
grep -q '^0 passed, 1 failed, 0 skipped$' <<<"$OUT" || fail "boot.sh with CI=true: summary: $OUT"
# distro.sh (x86_64 only, through OVMF): the same, before any chroot is
# made. It needs root and an x86_64 host first; elsewhere it skips for that.
if [ "$(uname -m)" = x86_64 ] && [ "$(id -u)" = 0 ]; then
	runq "distro.sh, no CI" bash "$REPO/tests/qemu/distro.sh" x86_64
	[ "$RC" = 77 ] || fail "distro.sh without CI: exit $RC, want 77 (skip): $OUT"
	grep -q '^SKIP  x86_64 distro: qemu-system-x86_64 or its UEFI firmware cannot be installed$' <<<"$OUT" ||
		fail "distro.sh without CI: no SKIP line: $OUT"
	grep -q '^0 passed, 0 failed, 1 skipped$' <<<"$OUT" || fail "distro.sh without CI: summary: $OUT"
	runq "distro.sh, CI=true" env CI=true bash "$REPO/tests/qemu/distro.sh" x86_64
	[ "$RC" = 1 ] || fail "distro.sh with CI=true: exit $RC, want 1 (fail): $OUT"
	grep -q '^FAIL  x86_64 distro: qemu-system-x86_64 or its UEFI firmware cannot be installed (CI=true' <<<"$OUT" ||
		fail "distro.sh with CI=true: no FAIL line: $OUT"
	grep -q '^0 passed, 1 failed, 0 skipped$' <<<"$OUT" || fail "distro.sh with CI=true: summary: $OUT"
fi
echo "PASS: a missing UEFI firmware skips without CI and fails with CI=true (uefi.sh, boot.sh, distro.sh)"
