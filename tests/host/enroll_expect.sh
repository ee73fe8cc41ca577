#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit enroll --expect FILE': a token sealed to predicted PCR values,
# from a system whose PCRs hold something else (the booted system, whose
# PCR 15 is already capped). The token refuses the state it was enrolled
# in, opens once PCR 15 reaches the predicted state, and refuses again one
# event short of it. Bad files are refused naming the line, and enroll
# nothing.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
ROOTHASH=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf '%s\n' root=/dev/vda hashdev=/dev/vdc data=/dev/vdb pcrs=15 "roothash=$ROOTHASH" >"$WORK/boot.conf"
printf '#!/bin/sh\necho init\n' >"$WORK/init"
run "$SEALINIT" predict --config "$WORK/boot.conf" --cmdline "console=ttyS0 root=/dev/vda" --init "$WORK/init"
[ "$RC" = 0 ] || fail "predict: $OUT"
printf '%s\n' "$OUT" >"$WORK/predicted"
grep -q '^pcr15=[0-9a-f]\{64\}$' "$WORK/predicted" || fail "predict printed no pcr15=: $OUT"

# The booted system's PCR 15: something else than the prediction.
expect 0 "measure something else first" "$SEALINIT" measure --pcr 15 --string "not the boot"
expect 0 "enroll --expect the prediction" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--pcrs 15 --expect "$WORK/predicted"
grep -q 'PCR 15 sealed to the values in' <<<"$OUT" || fail "enroll did not say it sealed to --expect: $OUT"
# Now: PCR 15 is not the predicted value.
expect 4 "the token refuses the current state" "$SEALINIT" unlock "$WORK/img" --test
# A boot in the predicted state: reset PCR 15 by restarting the TPM, then
# extend exactly the predicted events.
swtpm_restart || fail "swtpm restart"
sed -n 's/^15 //p' "$WORK/predicted" >"$WORK/events"
while IFS= read -r e; do
	"$SEALINIT" measure --pcr 15 --string "$e" >/dev/null || fail "measure $e"
done <"$WORK/events"
expect 0 "the token opens in the predicted state" "$SEALINIT" unlock "$WORK/img" --test
# One event short of it: refused again.
swtpm_restart || fail "swtpm restart"
head -n -1 "$WORK/events" | while IFS= read -r e; do "$SEALINIT" measure --pcr 15 --string "$e" >/dev/null; done
expect 4 "one event short of the predicted state" "$SEALINIT" unlock "$WORK/img" --test

# Bad files: named by line, nothing enrolled.
before=$(cryptsetup luksDump "$WORK/img" | grep -c systemd-tpm2)
printf 'pcr15=abcd\n' >"$WORK/bad1"
expect 2 "a short value" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 --expect "$WORK/bad1"
grep -q 'line 1: pcr15: 64 hex digits' <<<"$OUT" || fail "short value: $OUT"
printf '%s\n' "pcr24=$(printf '0%.0s' $(seq 64))" >"$WORK/bad2"
expect 2 "PCR 24" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 --expect "$WORK/bad2"
grep -q 'a PCR number 0-23' <<<"$OUT" || fail "pcr24: $OUT"
expect 2 "a PCR --pcrs does not bind" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7 \
	--expect "$WORK/predicted"
grep -q 'gives PCR 15, which --pcrs does not bind' <<<"$OUT" || fail "unbound PCR: $OUT"
printf 'hello\n' >"$WORK/bad3"
expect 2 "garbage" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 --expect "$WORK/bad3"
grep -q "line 1: expected pcrN=HEX" <<<"$OUT" || fail "garbage: $OUT"
# Read whole or refused, never cut: the prediction with a NUL after it, and
# the prediction followed by more than the reader's 16 KiB.
{ cat "$WORK/predicted"; printf '\0pcr7=%s\n' "$(printf '0%.0s' $(seq 64))"; } >"$WORK/bad4"
expect 2 "a NUL byte" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7+15 --expect "$WORK/bad4"
grep -q "a NUL byte at offset $(stat -c %s "$WORK/predicted")" <<<"$OUT" || fail "NUL: $OUT"
{ cat "$WORK/predicted"; for i in $(seq 300); do echo "pcr15=$(grep '^pcr15=' "$WORK/predicted" | cut -d= -f2)"; done; } >"$WORK/bad5"
expect 2 "over 16 KiB" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 --expect "$WORK/bad5"
grep -q "over the limit of 16383" <<<"$OUT" || fail "over 16 KiB: $OUT"
after=$(cryptsetup luksDump "$WORK/img" | grep -c systemd-tpm2)
[ "$before" = "$after" ] || fail "a refused --expect enrolled a token ($before -> $after)"
echo "PASS"
