#!/bin/bash
# With Debian 12's systemd 252 over the same swtpm: volumes
# systemd-cryptenroll enrolled unlock with sealinit (with and without PIN),
# and systemd's own token handler validates and dumps sealinit's tokens.
# (Unsealing sealinit's tokens needs systemd 254 or later, which reads
# tpm2_srk; docs/token-format.md says why.)
. "$(dirname "$0")/../lib/common.sh"
command -v systemd-cryptenroll >/dev/null || skip "systemd-cryptenroll not installed"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"

run env PASSWORD="$PASSPHRASE" systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" --tpm2-pcrs=7+16 "$WORK/img"
[ "$RC" = 0 ] || fail "systemd-cryptenroll: $OUT"
tok=$(cryptsetup token export --token-id 0 "$WORK/img")
echo "$tok" | jq -e 'has("tpm2_srk") | not' >/dev/null || fail "expected a systemd 252 token without tpm2_srk: $tok"
expect 0 "sealinit unlocks a systemd-enrolled volume" "$SEALINIT" unlock "$WORK/img" --test
expect_msg "Token 0 opens keyslot 1"

# systemd's policy binds too: extend PCR 16 and it must fail as a policy mismatch.
extend 16
expect 4 "systemd-enrolled token after extending PCR 16" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"

# With a PIN (systemd 252 hashes it unsalted).
mkimg "$WORK/pin"
run env PASSWORD="$PASSPHRASE" NEWPIN=8642 systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" \
	--tpm2-pcrs=16 --tpm2-with-pin=yes "$WORK/pin"
[ "$RC" = 0 ] || fail "systemd-cryptenroll --tpm2-with-pin: $OUT"
expect 0 "right PIN on a systemd PIN token" bash -c "echo 8642 | '$SEALINIT' unlock '$WORK/pin' --test"
expect 6 "wrong PIN on a systemd PIN token" bash -c "echo 1111 | '$SEALINIT' unlock '$WORK/pin' --test"

# The other direction: systemd's token handler (loaded by libcryptsetup)
# validates a token on import. Re-import sealinit's token through it.
mkimg "$WORK/ours"
expect 0 "sealinit enroll" "$SEALINIT" enroll "$WORK/ours" --key-file "$WORK/pass" --pcrs 7+16 --unsafe-pcrs
cryptsetup token export --token-id 0 "$WORK/ours" > "$WORK/tok.json"
cryptsetup token remove --token-id 0 "$WORK/ours" || fail "token remove"
run cryptsetup --debug token import --token-id 0 --json-file "$WORK/tok.json" "$WORK/ours"
[ "$RC" = 0 ] || fail "systemd's handler rejected sealinit's token: $OUT"
echo "$OUT" | grep -q 'libcryptsetup-token-systemd-tpm2.so' || skip "systemd's token plugin was not loaded"
# ...and dumps every field.
dump=$(cryptsetup luksDump "$WORK/ours")
for f in tpm2-hash-pcrs tpm2-pcr-bank tpm2-primary-alg tpm2-blob tpm2-policy-hash tpm2-pin; do
	echo "$dump" | grep -q "$f" || fail "luksDump (systemd handler) lacks $f"
done
expect 0 "unlock after re-import" "$SEALINIT" unlock "$WORK/ours" --test

# A volume with both kinds of token: either one opens it.
run env PASSWORD="$PASSPHRASE" systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" --tpm2-pcrs=16 "$WORK/ours"
[ "$RC" = 0 ] || fail "systemd-cryptenroll on a sealinit volume: $OUT"
extend 7   # breaks sealinit's 7+16 token, not systemd's 16-only token
expect 0 "falls through to the systemd token" "$SEALINIT" unlock "$WORK/ours" --test
expect_msg "Token 1"
echo ok
