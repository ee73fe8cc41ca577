#!/bin/bash
# SPDX-License-Identifier: MIT
# The recovery key and `sealinit reseal': enroll --recovery adds a keyslot
# for a key in systemd's form, which stock cryptsetup opens as a
# passphrase; after the TPM is cleared (a new swtpm state: the token's
# storage key is gone) the recovery key reseals: a new TPM token bound to
# the state this boot's event log replays to before the cap, the old token
# and its keyslot removed. The new token opens in that state after a
# reboot and not in another (the control); a log that does not replay to
# the TPM is refused, and nothing changes.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
swtpm_start || fail "swtpm"
CMDLINE="console=ttyS0 root=/dev/vda"
boot_conf "$WORK/boot.conf" 15 "cmdline=$CMDLINE"
mapfile -t EV < <(boot_events "$WORK/boot.conf" "$CMDLINE")
VERITY=${EV[2]}
[ "${VERITY#sealinit:verity:}" != "$VERITY" ] || fail "the third event is not the root hash: ${EV[*]}"
mkimg "$WORK/img"
expect 0 "enroll a TPM token" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
expect 2 "--recovery with --pcrs" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --recovery --pcrs 15
expect 0 "enroll --recovery" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --recovery
KEY=$(grep -oE '^  [cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}$' <<<"$OUT" | tr -d ' ')
[ ${#KEY} = 71 ] || fail "no recovery key in systemd's form printed: $OUT"
grep -q 'keyslot 2, token 1' <<<"$OUT" || fail "recovery keyslot/token: $OUT"
printf '%s' "$KEY" >"$WORK/recovery"
cryptsetup luksDump "$WORK/img" | grep -qE '^  1: systemd-recovery' || fail "no systemd-recovery token"
printf '%s' "$KEY" | cryptsetup open --test-passphrase --key-slot 2 --key-file - "$WORK/img" ||
	fail "cryptsetup does not open keyslot 2 with the recovery key"
# Control: a key of the same form that is not this one opens nothing.
printf '%s' "${KEY%?}c" | cryptsetup open --test-passphrase --key-file - "$WORK/img" 2>/dev/null &&
	[ "${KEY: -1}" != c ] && fail "another key of the same form opened the volume"

# The TPM is cleared: the token no longer unseals.
swtpm_stop
swtpm_start || fail "swtpm (cleared)"
run "$SEALINIT" unlock "$WORK/img" --test
[ "$RC" != 0 ] || fail "the old token unsealed on a cleared TPM"
# This boot: its measurements and its cap, in the TPM and in the log.
: >"$WORK/log"
measure_logged "$WORK/log" "${EV[@]}" "sealinit:cap"
# A log that does not replay to PCR 15 is refused before anything is written.
# (A record's digest changed: what the log says was extended is not.)
FAKE=${VERITY%?}f
[ "$FAKE" != "$VERITY" ] || FAKE=${VERITY%?}e
d_real=$(printf '%s' "$VERITY" | sha256sum | cut -c1-64)
d_fake=$(printf '%s' "$FAKE" | sha256sum | cut -c1-64)
# The record stays self-consistent (its string names what its digest is),
# so only the replay catches it.
sed "s/$d_real/$d_fake/; s/$VERITY/$FAKE/" "$WORK/log" >"$WORK/log.bad"
cmp -s "$WORK/log" "$WORK/log.bad" && fail "the log was not altered"
h0=$(head -c 16M "$WORK/img" | sha256sum)
expect 1 "reseal with a log that does not replay" "$SEALINIT" reseal "$WORK/img" --pcrs 15 --config "$WORK/boot.conf" \
	--key-file "$WORK/recovery" --event-log "$WORK/log.bad"
grep -q 'does not replay to PCR 15' <<<"$OUT" || fail "bad log: $OUT"
[ "$h0" = "$(head -c 16M "$WORK/img" | sha256sum)" ] || fail "a refused reseal changed the header"
# The key as a person might type it: upper case, no dashes.
tr -d '-' <"$WORK/recovery" | tr 'a-z' 'A-Z' >"$WORK/typed"
expect 0 "reseal" "$SEALINIT" reseal "$WORK/img" --pcrs 15 --config "$WORK/boot.conf" --key-file "$WORK/typed" --event-log "$WORK/log"
grep -q 'sealed to the state this boot' <<<"$OUT" || fail "reseal output: $OUT"
grep -q 'removed token 0 (keyslot 1)' <<<"$OUT" || fail "the old token was not removed: $OUT"
n=$(cryptsetup luksDump "$WORK/img" | grep -cE '^  [0-9]+: systemd-tpm2')
[ "$n" = 1 ] || fail "$n systemd-tpm2 tokens after reseal, want 1"
cryptsetup luksDump "$WORK/img" | grep -qE '^  1: luks2' && fail "keyslot 1 (the old token's) is still there"
# Capped now: nothing unseals. After a reboot into the same state: it does.
expect 4 "the new token while PCR 15 is capped" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"
for e in "${EV[@]}"; do "$SEALINIT" measure --pcr 15 --string "$e" >/dev/null; done
expect 0 "the new token in the resealed state" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"
for e in "${EV[@]:1}"; do "$SEALINIT" measure --pcr 15 --string "$e" >/dev/null; done
expect 4 "the new token in another state" "$SEALINIT" unlock "$WORK/img" --test

# The attack on the cap: root on the booted system extends PCR 15 once
# more and rewrites the log so that the real cap is labelled as another
# event and its own extend as the cap. "Before the cap" would then be the
# capped state, which the booted system can reach: a token sealed to it
# unseals after every boot. The labels must match the digests: refused.
swtpm_restart || fail "swtpm restart"
: >"$WORK/log2"
measure_logged "$WORK/log2" "${EV[@]}" "sealinit:cap"
cp "$WORK/log2" "$WORK/log2.honest"
measure_logged "$WORK/log2.honest" "attacker"
/usr/bin/python3 - "$WORK/log2.honest" "$WORK/log2.forged" <<'PY' || fail "forging the log"
import json, sys
recs = [json.loads(r) for r in open(sys.argv[1]).read().split("\x1e") if r.strip()]
recs[4]["content"]["string"] = "sealinit:verity:ffff"   # the real cap, relabelled
recs[5]["content"]["string"] = "sealinit:cap"           # the attacker's extend
open(sys.argv[2], "w").write("".join("\x1e" + json.dumps(r) + "\n" for r in recs))
PY
for f in forged honest; do
	cp --sparse=always "$WORK/img" "$WORK/img.$f"
done
h0=$(head -c 16M "$WORK/img.forged" | sha256sum)
expect 1 "reseal with the cap relabelled" "$SEALINIT" reseal "$WORK/img.forged" --pcrs 15 --config "$WORK/boot.conf" \
	--key-file "$WORK/recovery" --event-log "$WORK/log2.forged"
expect_msg "is not the SHA-256 of its string"
[ "$h0" = "$(head -c 16M "$WORK/img.forged" | sha256sum)" ] || fail "a refused reseal changed the header"
# The control: the same extend, logged as what it is; sealed before the
# first cap, so the capped system does not unseal.
expect 0 "reseal with the honest log" "$SEALINIT" reseal "$WORK/img.honest" --pcrs 15 --config "$WORK/boot.conf" \
	--key-file "$WORK/recovery" --event-log "$WORK/log2.honest"
expect 4 "the resealed token on the capped system" "$SEALINIT" unlock "$WORK/img.honest" --test
echo "PASS"
