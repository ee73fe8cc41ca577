#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit migrate' on a booted device, whose PCR 15 is capped (README's
# example): the TPM token is sealed to the state before the cap, from this
# boot's log, as the configuration expects it. It does not open on the
# booted system and opens after a genuine reboot (the control). Sealing to
# the capped values (--current after a capped boot) is refused by name:
# the booted system would unseal that token at will. `migrate --finish'
# then needs the next boot's record of a TPM unlock (migrate.sh tests the
# refusals); with it, the legacy keyslot goes and the TPM still opens.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
swtpm_start || fail "swtpm"
CMDLINE="console=ttyS0 root=/dev/vda"
boot_conf "$WORK/boot.conf" 15 "cmdline=$CMDLINE"
C=(--config "$WORK/boot.conf")
hdr() { head -c 16M "$1" | sha256sum; }
mkimg "$WORK/img"

# The legacy boot: measured and capped (keysources=tpm2,legacy, no token yet).
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE" 15
h0=$(hdr "$WORK/img")
expect 1 "migrate --current on a capped boot" "$SEALINIT" migrate "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log" --current
expect_msg "--current: PCR 15 is capped this boot"
[ "$h0" = "$(hdr "$WORK/img")" ] || fail "a refused migrate changed the header"
expect 1 "migrate without a log" "$SEALINIT" migrate "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/nolog"
expect_msg "--expect FILE"
expect 0 "migrate" "$SEALINIT" migrate "$WORK/img" "${C[@]}" --key-file "$WORK/pass" --event-log "$WORK/log"
expect 4 "the TPM token on the capped system" "$SEALINIT" unlock "$WORK/img" --test

# The next boot, genuine: the token opens; the boot records it.
swtpm_restart || fail "swtpm restart"
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE"
expect 0 "the TPM token after a genuine boot" "$SEALINIT" unlock "$WORK/img" --test
tok=$(cryptsetup luksDump --dump-json-metadata "$WORK/img" |
	jq -r '.tokens | to_entries[] | select(.value.type == "systemd-tpm2") | "token=\(.key)\nkeyslot=\(.value.keyslots[0])"')
printf 'source=tpm2\n%s\ndevice=/dev/vdb\nuuid=%s\n' "$tok" "$(cryptsetup luksUUID "$WORK/img")" >"$WORK/unlock"
log_extend "$WORK/log" 15 "sealinit:cap"
expect 0 "migrate --finish" "$SEALINIT" migrate --finish "$WORK/img" --boot-record "$WORK/unlock"
expect_msg "Removed legacy keyslot 0"
cryptsetup open --test-passphrase --key-file "$WORK/pass" "$WORK/img" 2>/dev/null &&
	fail "the legacy key still opens"
swtpm_restart || fail "swtpm restart"
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE"
expect 0 "the TPM token after --finish" "$SEALINIT" unlock "$WORK/img" --test
echo "PASS"
