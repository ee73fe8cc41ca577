#!/bin/bash
# The cap is read back: an interposer that answers PCR_Event with success
# and drops it (tpmproxy.py --drop-pcr-event) makes the cap fail, by name,
# and the unlock's cap reports capped=0, so that the boot stops instead of
# switching root with PCR 15 still unsealable. Positive control: the same
# operations through a proxy that forwards everything.
. "$(dirname "$0")/../lib/common.sh"
need_driver unlock_cap
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
DIRECT=$SEALINIT_TCTI

# Positive control: a forwarding proxy; cap works and is verified.
proxy_start "$WORK/fwd.log"
expect 0 "cap through a forwarding proxy" "$SEALINIT" cap --pcrs 15 --tcti "$PROXY_TCTI"
[ "$(commands "$WORK/fwd.log" | grep -c '^PCR_Read$')" = 2 ] || fail "the cap did not read PCR 15 back: $(commands "$WORK/fwd.log" | tr '\n' ' ')"
# A measurement is not read back: a dropped one fails the unseal anyway,
# and the boot path saves the two reads.
: > "$WORK/fwd.log"
expect 0 "measure through a forwarding proxy" "$SEALINIT" measure --pcr 14 --string x --tcti "$PROXY_TCTI"
[ "$(commands "$WORK/fwd.log" | grep -c '^PCR_Read$')" = 0 ] || fail "the measurement read PCRs: $(commands "$WORK/fwd.log" | tr '\n' ' ')"
proxy_stop

# The interposer: sealinit cap fails and names the PCR.
swtpm_restart || fail "swtpm restart"
DIRECT=$SEALINIT_TCTI
before=$(SEALINIT_TCTI=$DIRECT "$SEALINIT" pcrread --pcrs 15)
proxy_start "$WORK/drop.log" --drop-pcr-event
expect 13 "cap through a dropping proxy" "$SEALINIT" cap --pcrs 15 --tcti "$PROXY_TCTI"
expect_msg "PCR 15 did not change as extended"
grep -q 'dropped=1' "$WORK/drop.log" || fail "the proxy dropped nothing: $(cat "$WORK/drop.log")"
[ "$(SEALINIT_TCTI=$DIRECT "$SEALINIT" pcrread --pcrs 15)" = "$before" ] || fail "PCR 15 changed: the proxy forwarded the event"

# The unlock's own cap through the interposer: the volume opens, the cap is
# reported as not done, and the key still unseals (so the boot must stop).
run env SEALINIT_TCTI="$PROXY_TCTI" "$DRIVER" "$WORK/img"
[ "$OUT" = "r=0 capped=0 ()" ] || fail "unlock through a dropping proxy: want r=0 capped=0, got $OUT"
expect 0 "PCR 15 was not capped, so the key still unseals" env SEALINIT_TCTI="$DIRECT" "$SEALINIT" unlock "$WORK/img" --test
proxy_stop
echo ok
