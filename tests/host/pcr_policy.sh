#!/bin/bash
# Extending a PCR in the policy blocks unseal; one outside it does not.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7,16 --unsafe-pcrs

extend 15
expect 0 "unlock after extending PCR 15 (not in policy)" "$SEALINIT" unlock "$WORK/img" --test

extend 16
expect 4 "unlock after extending PCR 16 (in policy)" "$SEALINIT" unlock "$WORK/img" --test
expect_msg "system state changed since enrollment"
expect_msg "PCR sha256 values differ"

# A reboot (PCRs back to their initial values) makes it work again.
swtpm_restart || fail "swtpm restart"
expect 0 "unlock after reboot" "$SEALINIT" unlock "$WORK/img" --test

# cap closes it until the next boot.
expect 0 "cap" "$SEALINIT" cap --pcrs 7+16
expect 4 "unlock after cap" "$SEALINIT" unlock "$WORK/img" --test
echo ok
