#!/bin/bash
# enroll -> unlock --test, and what the enrolled keyslot looks like.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"

expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7+16 --unsafe-pcrs
expect_msg "created the storage key at 0x81000001"
expect 0 "unlock" "$SEALINIT" unlock "$WORK/img" --test
expect_msg "Token 0 opens keyslot 1"

# The keyslot uses PBKDF2-SHA512 at 1000 iterations, not Argon2id.
dump=$(cryptsetup luksDump "$WORK/img")
echo "$dump" | sed -n '/^  1: luks2/,/Digest ID/p' | grep -q 'PBKDF:      pbkdf2' || fail "keyslot 1 not pbkdf2: $dump"
echo "$dump" | sed -n '/^  1: luks2/,/Digest ID/p' | grep -q 'Hash:       sha512' || fail "keyslot 1 not sha512"
echo "$dump" | sed -n '/^  1: luks2/,/Digest ID/p' | grep -q 'Iterations: 1000' || fail "keyslot 1 not 1000 iterations"

# The token carries every field systemd writes, plus tpm2_srk.
json=$(cryptsetup token export --token-id 0 "$WORK/img")
for f in type keyslots tpm2-blob tpm2-pcrs tpm2-pcr-bank tpm2-primary-alg tpm2-policy-hash tpm2-pin tpm2_srk; do
	echo "$json" | jq -e --arg f "$f" 'has($f)' >/dev/null || fail "token lacks $f: $json"
done
[ "$(echo "$json" | jq -c '."tpm2-pcrs"')" = "[7,16]" ] || fail "tpm2-pcrs: $json"
# cryptsetup hands the token to systemd's own plugin to dump it.
cryptsetup luksDump "$WORK/img" | grep -q '0: systemd-tpm2' || fail "luksDump does not show a systemd-tpm2 token"

# A second unlock on a rebooted TPM (same state, PCRs reset) works too.
swtpm_restart || fail "swtpm restart"
expect 0 "unlock after TPM restart" "$SEALINIT" unlock "$WORK/img" --test

# unlock without NAME and without --test is a usage error.
expect 2 "unlock without NAME" "$SEALINIT" unlock "$WORK/img"
echo ok
