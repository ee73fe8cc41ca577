#!/bin/bash
# SPDX-License-Identifier: MIT
# Install the Debian packages a target needs. Idempotent: when every package
# is already installed it does nothing and touches no network.
#   scripts/deps.sh build|cross|test|bench|all
set -euo pipefail

build="build-essential pkg-config python3 python3-kconfiglib
       libtss2-dev libcryptsetup-dev libjson-c-dev libmbedtls-dev libcmocka-dev libblkid-dev
       libcurl4-openssl-dev"
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross
       libtss2-dev:arm64 libcryptsetup-dev:arm64 libjson-c-dev:arm64
       libmbedtls-dev:arm64 libblkid-dev:arm64 libcurl4-openssl-dev:arm64"
test="swtpm swtpm-tools tpm2-tools cryptsetup-bin systemd jq xxd tmux file strace openssl curl zstd fdisk"
bench="clevis clevis-tpm2 clevis-luks hyperfine"
fuzz="clang libclang-rt-14-dev"

want=""
for t in "$@"; do
	case "$t" in
	build) want="$want $build" ;;
	cross) want="$want $build $cross" ;;
	test)  want="$want $build $test $fuzz" ;;
	bench) want="$want $build $test $bench" ;;
	all)   want="$want $build $cross $test $bench $fuzz" ;;
	*) echo "deps.sh: unknown set \`$t' (expected build, cross, test, bench or all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
