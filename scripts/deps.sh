#!/bin/bash
# SPDX-License-Identifier: MIT
# Install the Debian packages a target needs. Idempotent: when every package
# is already installed it does nothing and touches no network.
#   scripts/deps.sh [--check] build|cross|test|qemu|bench|fuzz|initramfs|all
# --check installs nothing: it names the missing packages and exits 1.
# Only `make deps', `make check' and the demos install; every other target
# (`make fuzz', bench/unlock) checks, so that a build or an install never
# runs apt (docs/building.md).
# `all' (what `make check' runs first) is every package any test needs,
# the QEMU machines and their UEFI firmware included, so that no test has to
# install one lazily and no missing piece turns into a skip (with CI=true a
# test that still finds one missing fails; docs/testing.md). apt and dpkg
# wait up to APT_LOCK_TIMEOUT seconds (default 600) for a lock another apt
# holds, instead of failing at once.
set -euo pipefail

build="build-essential pkg-config python3 python3-kconfiglib
       libtss2-dev libcryptsetup-dev libjson-c-dev libmbedtls-dev libcmocka-dev libblkid-dev
       libcurl4-openssl-dev"
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross
       libtss2-dev:arm64 libcryptsetup-dev:arm64 libjson-c-dev:arm64
       libmbedtls-dev:arm64 libblkid-dev:arm64 libcurl4-openssl-dev:arm64"
# mmdebstrap: tests/build/distro_initramfs.sh makes its Debian chroots with it
# (initramfs-tools and dracut conflict, so neither goes on the host), and
# builds dist/debian's package with dpkg-buildpackage (debhelper).
test="swtpm swtpm-tools tpm2-tools cryptsetup-bin systemd jq xxd tmux file strace openssl curl zstd fdisk e2fsprogs xfsprogs btrfs-progs
      mmdebstrap debhelper"
# tests/qemu: the machines, their UEFI firmware (OVMF, AAVMF), what
# mkimages.sh and mkinitramfs run, depmod for fetch-kernel.sh.
qemu="qemu-system-arm qemu-system-x86 ovmf qemu-efi-aarch64 swtpm cpio e2fsprogs cryptsetup-bin
      binutils kmod tpm2-tools"
# bench/boot plots with gnuplot-nox (its png terminal). clevis binds, on the
# host, bench/unlock's image and bench/boot's itools_clevis data volume
# (systemd-cryptenroll, from `systemd' in the test set, the dracut_systemd
# one). The peers' initramfs packages (dracut, initramfs-tools,
# clevis-initramfs, tpm2-tools) go into bench/boot's Debian chroots
# (mmdebstrap, the test set), never on the host.
bench="clevis clevis-tpm2 clevis-luks hyperfine gnuplot-nox"
fuzz="clang libclang-rt-14-dev"
# `make initramfs' and initramfs/mkinitramfs (checked, never installed).
initramfs="binutils cpio gzip kmod"

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
want=""
for t in "$@"; do
	case "$t" in
	build) want="$want $build" ;;
	cross) want="$want $build $cross" ;;
	test)  want="$want $build $test $fuzz" ;;
	qemu)  want="$want $build $test $qemu" ;;
	bench) want="$want $build $test $bench" ;;
	fuzz)  want="$want $build $fuzz" ;;
	initramfs) want="$want $initramfs" ;;
	all)   want="$want $build $cross $test $qemu $bench $fuzz $initramfs" ;;
	*) echo "deps.sh: unknown set \`$t' (expected build, cross, test, qemu, bench, fuzz, initramfs or all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ $check = 1 ]; then
	echo "deps.sh: missing Debian packages:$missing; \`make deps' installs them" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root or install them" >&2
	exit 1
fi
case "$missing" in
*:arm64*)
	dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64 ;;
esac
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
lock=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}")
apt-get "${lock[@]}" update -qq
apt-get "${lock[@]}" install -y -qq --no-install-recommends $missing >/dev/null
