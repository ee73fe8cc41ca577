#!/bin/bash
# SPDX-License-Identifier: MIT
# reseal keeps the token's kind. A signed token with a rollback counter
# stays signed, with the same key, signed PCRs and counter: a signature
# made afterwards for the next state (sign, as an update does) opens the
# resealed token, and a signature the counter has revoked does not. A
# literal token stays literal (the control: the kind is the old token's,
# not a default).
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
command -v openssl >/dev/null || skip "openssl not installed"
swtpm_start || fail "swtpm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
CMDLINE="console=ttyS0 root=/dev/vda"
boot_conf "$WORK/boot.conf" 15 "cmdline=$CMDLINE"
C=(--config "$WORK/boot.conf")
NV=0x01805e00
kind() { cryptsetup token export --token-id "$2" "$1" |
	jq -c '{pub: (."tpm2_pubkey" // "" | length > 0), pubpcrs: ."tpm2_pubkey_pcrs", pcrs: ."tpm2-pcrs", nv: ."sealinit_counter_nv"}'; }

mkimg "$WORK/img"
expect 0 "enroll signed, counter" "$SEALINIT" enroll "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
c=$(echo "$OUT" | sed -n 's/.*value \([0-9]*\);.*/\1/p')
before=$(kind "$WORK/img" 0)
pub0=$(cryptsetup token export --token-id 0 "$WORK/img" | jq -r .tpm2_pubkey)
[ "$before" = '{"pub":true,"pubpcrs":[15],"pcrs":[],"nv":"'$NV'"}' ] || fail "enrolled token: $before"
mkimg "$WORK/lit"
expect 0 "enroll literal" "$SEALINIT" enroll "$WORK/lit" "${C[@]}" --key-file "$WORK/pass" --pcrs 15

# A boot, capped; then the recovery.
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE" 15
expect 0 "reseal the signed token" "$SEALINIT" reseal "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log"
expect_msg "signed, sha256 PCRs (none), signed PCRs 15 (the old token's key and rollback counter $NV)"
expect_msg "removed token 0"
after=$(kind "$WORK/img" 1)
[ "$after" = "$before" ] || fail "the resealed token is another kind: $after, was $before"
[ "$(cryptsetup token export --token-id 1 "$WORK/img" | jq -r .tpm2_pubkey)" = "$pub0" ] ||
	fail "the resealed token has another key"
expect 0 "reseal the literal token" "$SEALINIT" reseal "$WORK/lit" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log"
expect_msg "literal, sha256 PCRs 15"
[ "$(kind "$WORK/lit" 1)" = '{"pub":false,"pubpcrs":null,"pcrs":[15],"nv":null}' ] ||
	fail "the literal token changed kind: $(kind "$WORK/lit" 1)"

# The update after the recovery: a signature for the next boot's state,
# at the counter, and one the counter has revoked.
expect 0 "predict" "$SEALINIT" predict "${C[@]}" --cmdline "$CMDLINE" --init "$WORK/init"
printf '%s\n' "$OUT" >"$WORK/next"
for v in $((c - 1)) "$c"; do
	expect 0 "sign for $v" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --values "$WORK/next" \
		--counter-value "$v" --signature "$WORK/sig-$v.json"
done
swtpm_restart || fail "swtpm restart"
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE"
expect 0 "the resealed token with the new signature" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-$c.json"
expect 33 "the resealed token with a revoked signature" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-$((c - 1)).json"
expect 0 "the literal token in the same state" "$SEALINIT" unlock "$WORK/lit" --test
echo "PASS"
