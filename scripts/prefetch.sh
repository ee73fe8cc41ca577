#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetch, once, what the tests need from Debian's archive besides installed
# packages: the cloud kernels the QEMU tests boot, and systemd 254 from
# bookworm-backports for the compatibility test. Cached under build/; the
# tests themselves then talk to nothing but loopback and their own VMs.
# A failure here is not fatal: the tests that need the missing piece skip
# or fail with their own message.
REPO=$(cd "$(dirname "$0")/.." && pwd)
for arch in aarch64 x86_64; do
	"$REPO/scripts/fetch-kernel.sh" "$arch" >/dev/null || echo "prefetch: kernel for $arch failed" >&2
done
"$REPO/scripts/fetch-backports.sh" amd64 systemd libsystemd-shared >/dev/null ||
	echo "prefetch: systemd 254 from bookworm-backports failed" >&2
exit 0
