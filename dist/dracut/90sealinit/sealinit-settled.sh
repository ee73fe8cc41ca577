#!/bin/sh
# SPDX-License-Identifier: MIT
# dracut without systemd: a job of the settled initqueue, sourced by
# dracut's init before the crypt module's cryptroot-ask-*.sh jobs (name
# order). It runs once: it removes itself. On failure it says why, and
# cryptroot-ask asks for the passphrase.
if /usr/lib/sealinit/sealinit-step; then
    info "sealinit: unlocked with the TPM, PCRs capped"
else
    warn "sealinit: TPM unlock failed (the reason is above); the passphrase prompt follows"
fi
rm -f -- "$job"
