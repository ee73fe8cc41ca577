#!/bin/bash
# SPDX-License-Identifier: MIT
# Host-side demo against a software TPM: measure a rootfs, seal a LUKS2
# key to that measurement, unlock, cap, and watch a tampered rootfs fail.
# Run by `make demo`; needs no root beyond installing packages.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
SEALINIT=${SEALINIT:-$REPO/build/$(uname -m)/sealinit}
. "$REPO/tests/lib/swtpm.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealinit-demo.XXXXXX")
at_exit rm -rf "$WORK"     # swtpm_start pushes swtpm_stop, which runs first

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "A software TPM (swtpm) on 127.0.0.1, fresh state"
swtpm_start || exit 1
echo "SEALINIT_TCTI=$SEALINIT_TCTI"

step "A root filesystem image and a LUKS2 data volume (models, Docker data)"
head -c 1M /dev/urandom > "$WORK/rootfs.img"
printf 'demo passphrase' > "$WORK/recovery-key"
truncate -s 32M "$WORK/data.img"
show cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	"$WORK/data.img" "$WORK/recovery-key"

step "Boot 1: the boot stage measures the rootfs into PCR 15"
show "$SEALINIT" measure --pcr 15 --file "$WORK/rootfs.img"
show "$SEALINIT" pcrread --pcrs 15

step "Provisioning: seal a new key to PCR 15 and add it as keyslot + systemd-tpm2 token"
show "$SEALINIT" -v enroll "$WORK/data.img" --key-file "$WORK/recovery-key" --pcrs 15
show cryptsetup token export --token-id 0 "$WORK/data.img"
echo

step "Unlock (--test: check the key opens the keyslot; the boot stage activates it)"
show "$SEALINIT" -v unlock "$WORK/data.img" --test

step "Cap: extend a separator into PCR 15; the key stays sealed until reboot"
show "$SEALINIT" cap --pcrs 15
show "$SEALINIT" unlock "$WORK/data.img" --test
echo "exit code $? (4 = PCR policy mismatch)"

step "Boot 2: reboot, same rootfs: unlock works again"
swtpm_restart >/dev/null || exit 1
show "$SEALINIT" measure --pcr 15 --file "$WORK/rootfs.img"
show "$SEALINIT" -v unlock "$WORK/data.img" --test

step "Boot 3: reboot with one byte of the rootfs changed: no key"
swtpm_restart >/dev/null || exit 1
printf 'X' | dd of="$WORK/rootfs.img" bs=1 seek=4096 conv=notrunc status=none
show "$SEALINIT" measure --pcr 15 --file "$WORK/rootfs.img"
show "$SEALINIT" unlock "$WORK/data.img" --test
rc=$?
echo "exit code $rc (4 = PCR policy mismatch)"

step "Done"
echo "The QEMU boot demo (measure -> unseal -> unlock -> cap -> switch_root) is"
echo "the boot stage's job; see docs/architecture.md for where it plugs in."
[ "$rc" = 4 ]
