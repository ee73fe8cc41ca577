#!/bin/bash
# The device record (record.h): an NV index only a fleet-signed state can
# write, holding the data volume's id, which the unlock then pins. The
# positive control: enroll --record in the signed state, and the unlock
# with --record opens. Each attack next to its control:
# (a) the rogue volume: the same UUID, a token the attacker sealed with
#     the genuine policy (the same --public-key, in another PCR state): it
#     opens without the record (the attack is real) and is refused with it;
# (b) writing the record in another PCR state: no signature, refused;
# (c) the index deleted with the owner's empty authorization and defined
#     again with the same attributes and policy, unwritten: refused, named;
# (d) one of another policy (AUTHWRITE, none) written with the attacker's
#     id: refused, named; the genuine write replaces it;
# (e) a record entry of the signature file presented as a token's entry,
#     and the other way round: refused.
. "$(dirname "$0")/../lib/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
command -v tpm2_nvdefine >/dev/null || skip "tpm2-tools not installed"
swtpm_start || fail "swtpm"
rsa_key "$WORK/key.pem" "$WORK/pub.pem"
NV=0x01805e01
SIG=$WORK/sig.json
rec_unlock() { # rec_unlock CODE WHAT IMAGE: unlock --test with the record
	expect "$1" "$2" "$SEALINIT" unlock "$3" --test --record --public-key "$WORK/pub.pem" \
		--signature "$SIG"
}
rec_enroll() { # rec_enroll CODE WHAT IMAGE [SIG]: enroll --record
	expect "$1" "$2" "$SEALINIT" enroll "$3" --key-file "$WORK/pass" --public-key "$WORK/pub.pem" \
		--public-key-pcrs 15 --record --signature "${4:-$SIG}"
}

# The genuine state S0 (PCR 15 as a fresh TPM has it), signed for tokens
# and for the record in one run.
expect 0 "sign --record" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--record --signature "$SIG"
expect_msg "Signed the device record's write for the same values"
jq -e '(.sha256 | length) == 2 and .sha256[0].pol != .sha256[1].pol and
	.sha256[0].pcrs == [15] and .sha256[1].pcrs == [15]' "$SIG" >/dev/null ||
	fail "two entries, token then record: $(cat "$SIG")"
# With a counter, the token's entry has the counter step and the record's
# none (docs/updates.md).
expect 0 "sign --record --counter-value" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
	--current --record --counter-value 3 --signature "$WORK/counted.json"
jq -e '.sha256[0].sealinit_counter == 3 and (.sha256[1] | has("sealinit_counter") | not) and
	.sha256[1].pol == $s[0].sha256[1].pol' --slurpfile s "$SIG" "$WORK/counted.json" >/dev/null ||
	fail "counted: $(cat "$WORK/counted.json")"

# Positive control: enroll --record in S0, unlock with it.
mkimg "$WORK/img"
rec_enroll 0 "enroll --record" "$WORK/img"
expect_msg "device record: NV index $NV holds this volume's id"
gid=$(echo "$OUT" | sed -n 's/^Volume key id for [^:]*: \([0-9a-f]\{64\}\)$/\1/p')
[ -n "$gid" ] || fail "no volume id in: $OUT"
tpm2_nvreadpublic "$NV" > "$WORK/nvpub" 2>&1 || fail "tpm2_nvreadpublic: $(cat "$WORK/nvpub")"
grep -q "friendly: policywrite|authread|no_da|written$" "$WORK/nvpub" &&
	grep -q "size: 32$" "$WORK/nvpub" || fail "NV attributes or size: $(cat "$WORK/nvpub")"
policy=$(sed -n 's/.*authorization policy: \([0-9A-Fa-f]*\)$/\1/p' "$WORK/nvpub")
[ ${#policy} = 64 ] || fail "NV policy: $(cat "$WORK/nvpub")"
# What the index holds is the volume's id, read by tpm2-tools (AUTHREAD).
tpm2_nvread "$NV" -C "$NV" -s 32 2>/dev/null | xxd -p -c 64 > "$WORK/held" || fail "tpm2_nvread"
[ "$(cat "$WORK/held")" = "$gid" ] || fail "the record holds $(cat "$WORK/held"), expected $gid"
rec_unlock 0 "unlock --record (control)" "$WORK/img"
expect_msg "Device record (NV index $NV): volume id $gid, matches"
expect_msg "Token 0 opens keyslot 1"
# Both pins, agreeing; then disagreeing.
expect 0 "record and fixate_volume_key agree" "$SEALINIT" unlock "$WORK/img" --test --record \
	--public-key "$WORK/pub.pem" --signature "$SIG" --fixate-volume-key "$gid"
expect 29 "record and fixate_volume_key disagree" "$SEALINIT" unlock "$WORK/img" --test --record \
	--public-key "$WORK/pub.pem" --signature "$SIG" --fixate-volume-key "$(printf '%064d' 0)"
expect_msg "the device record (NV index $NV) holds $gid"

# (a) The rogue volume: the genuine UUID, enrolled by the attacker in
# another state (S1) with the fleet's public key: its token's policy is
# the genuine one, so it unseals in S0 with the genuine signature.
uuid=$(cryptsetup luksUUID "$WORK/img")
mkimg "$WORK/rogue"
cryptsetup luksUUID -q --uuid "$uuid" "$WORK/rogue" || fail "luksUUID"
extend 15
expect 0 "attacker enrolls the rogue volume in S1" "$SEALINIT" enroll "$WORK/rogue" \
	--key-file "$WORK/pass" --public-key "$WORK/pub.pem" --public-key-pcrs 15
rid=$(echo "$OUT" | sed -n 's/^Volume key id for [^:]*: \([0-9a-f]\{64\}\)$/\1/p')
[ -n "$rid" ] && [ "$rid" != "$gid" ] || fail "rogue id '$rid' (genuine $gid)"

# (b) In S1 the record cannot be written: no signature for these values.
# The refusal comes before the enrollment: no token is added.
mkimg "$WORK/img2"
rec_enroll 30 "enroll --record in another state" "$WORK/img2"
expect_msg "device record"
expect_msg "for PCRs 15"
cryptsetup token export --token-id 0 "$WORK/img2" >/dev/null 2>&1 && fail "(b) added a token"
# The TPM itself refuses too: the genuine record entry's signature and
# pol, through tpm2-tools, in S1 (our lookup never gets that far).
jq -r '.sha256[1].pol' "$SIG" | xxd -r -p > "$WORK/approved.pol"
jq -r '.sha256[1].sig' "$SIG" | base64 -d > "$WORK/record.sig"
printf 'sealinit:record' > "$WORK/ref"
python3 - "$WORK/approved.pol" "$WORK/ref" "$WORK/ahash" <<'PY' || fail "ahash"
import hashlib, sys
pol, ref = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(hashlib.sha256(pol + ref).digest())
PY
tpm_write_s1() { # the attacker's NV_Write in the current state with the genuine signature
	local rc
	tpm2_loadexternal -C o -G rsa -u "$WORK/pub.pem" -c "$WORK/fleet.ctx" -n "$WORK/fleet.name" \
		>/dev/null 2>&1 || return 2
	tpm2_verifysignature -c "$WORK/fleet.ctx" -d "$WORK/ahash" -f rsassa \
		-s "$WORK/record.sig" -t "$WORK/ticket" >/dev/null 2>&1 || return 3
	tpm2_startauthsession -S "$WORK/w.ctx" --policy-session >/dev/null &&
		tpm2_policypcr -S "$WORK/w.ctx" -l sha256:15 >/dev/null &&
		tpm2_policycommandcode -S "$WORK/w.ctx" TPM2_CC_NV_Write >/dev/null &&
		tpm2_policyauthorize -S "$WORK/w.ctx" -i "$WORK/approved.pol" -q "$WORK/ref" \
			-n "$WORK/fleet.name" -t "$WORK/ticket" >/dev/null 2>&1 &&
		printf '%s' "$rid" | xxd -r -p > "$WORK/id.bin" &&
		tpm2_nvwrite "$NV" -C "$NV" -P "session:$WORK/w.ctx" -i "$WORK/id.bin" >/dev/null 2>&1
	rc=$?
	tpm2_flushcontext "$WORK/w.ctx" >/dev/null 2>&1
	tpm2_flushcontext -t >/dev/null 2>&1
	return $rc
}
tpm_write_s1
rc=$?
[ $rc = 1 ] || fail "(b) NV_Write in S1 through the genuine signature: rc $rc (expected the TPM's refusal)"
tpm2_nvread "$NV" -C "$NV" -s 32 2>/dev/null | xxd -p -c 64 | grep -qx "$gid" ||
	fail "(b) the record changed"

# A reboot: back to S0.
swtpm_restart || fail "swtpm restart"
# The attack is real: without the record the rogue volume opens in S0.
expect 0 "rogue volume without the record (the attack)" "$SEALINIT" unlock "$WORK/rogue" --test \
	--signature "$SIG"
# With the record it is refused, naming it; the genuine one opens.
rec_unlock 29 "rogue volume with the record" "$WORK/rogue"
expect_msg "not the volume of the device record (NV index $NV)"
expect_msg "$gid"
rec_unlock 0 "genuine volume with the record (control)" "$WORK/img"
# The control of (b)'s tpm2-tools write: in S0 the same commands pass the
# TPM's policy (writing the genuine id again, so nothing changes).
rid_saved=$rid
rid=$gid
tpm_write_s1 || fail "(b) control: NV_Write in S0 through the genuine signature: rc $?"
rid=$rid_saved
rec_unlock 0 "after the tpm2-tools write in S0" "$WORK/img"

# (c) The index deleted (the owner's empty authorization) and defined again
# with the same attributes and policy, never written.
echo "$policy" | xxd -r -p > "$WORK/policy.bin"
tpm2_nvundefine "$NV" -C o >/dev/null || fail "tpm2_nvundefine"
rec_unlock 34 "no index at all" "$WORK/img"
expect_msg "NV index $NV is not defined"
tpm2_nvdefine "$NV" -C o -s 32 -a "policywrite|authread|no_da" -L "$WORK/policy.bin" >/dev/null ||
	fail "tpm2_nvdefine"
rec_unlock 34 "same shape, unwritten" "$WORK/img"
expect_msg "NV index $NV is not the device record of this fleet key: never written"
rec_unlock 34 "same shape, unwritten: the rogue volume" "$WORK/rogue"
# No token is tried without the record: the TPM sees no Load or Unseal,
# and nothing is activated (the control, after (c)'s genuine write: with
# the record, NV_Read then Unseal).
proxy_start "$WORK/tpm.log"
expect 34 "unwritten record, through the proxy" "$SEALINIT" unlock "$WORK/img" sealrec --record \
	--public-key "$WORK/pub.pem" --signature "$SIG" --tcti "$PROXY_TCTI"
commands "$WORK/tpm.log" | grep -qE '^(Load|Unseal)$' &&
	fail "a token was tried without the record: $(commands "$WORK/tpm.log" | tr '\n' ' ')"
[ -e /dev/mapper/sealrec ] && fail "activated without the record"
proxy_stop
# Control: the genuine write (S0) writes that index.
rec_enroll 0 "enroll --record over the unwritten index" "$WORK/img"
proxy_start "$WORK/tpm.log"
expect 0 "after the genuine write, through the proxy" "$SEALINIT" unlock "$WORK/img" --test \
	--record --public-key "$WORK/pub.pem" --signature "$SIG" --tcti "$PROXY_TCTI"
commands "$WORK/tpm.log" | grep -qx 'Unseal' && commands "$WORK/tpm.log" | grep -qx 'NV_Read' ||
	fail "the record read, then the token: $(commands "$WORK/tpm.log" | tr '\n' ' ')"
with=$(commands "$WORK/tpm.log" | tr '\n' ' ')
proxy_stop
# What the record costs at boot: NV_ReadPublic and NV_Read, two commands
# more than the same unlock without it (docs/fleet.md).
proxy_start "$WORK/tpm.log"
expect 0 "the same unlock without the record, through the proxy" "$SEALINIT" unlock "$WORK/img" \
	--test --signature "$SIG" --tcti "$PROXY_TCTI"
without=$(commands "$WORK/tpm.log" | tr '\n' ' ')
proxy_stop
[ "$with" = "NV_ReadPublic NV_Read $without" ] ||
	fail "the record's cost at boot: with it '$with', without it '$without'"
echo "ok: the record costs two TPM commands at boot ($(wc -w <<<"$without") without it: $without)"

# (d) Another policy, written with the attacker's id.
tpm2_nvundefine "$NV" -C o >/dev/null || fail "tpm2_nvundefine"
tpm2_nvdefine "$NV" -C o -s 32 -a "authwrite|authread|no_da" >/dev/null || fail "tpm2_nvdefine"
printf '%s' "$rid" | xxd -r -p > "$WORK/id.bin"
tpm2_nvwrite "$NV" -C "$NV" -i "$WORK/id.bin" >/dev/null || fail "tpm2_nvwrite"
rec_unlock 34 "attacker's index with the rogue id" "$WORK/rogue"
expect_msg "NV index $NV is not the device record of this fleet key: attributes 0x"
expect_msg "a policy (0 bytes) other than PolicyAuthorize"
rec_unlock 34 "attacker's index: the genuine volume too" "$WORK/img"
# Control: the genuine write replaces the attacker's index.
rec_enroll 0 "enroll --record over the attacker's index" "$WORK/img"
rec_unlock 0 "after the genuine write" "$WORK/img"
rec_unlock 29 "rogue volume after the genuine write" "$WORK/rogue"
# An index of the right shape for another fleet key: named by its policy.
rsa_key "$WORK/other.pem" "$WORK/other-pub.pem"
expect 34 "another fleet's key" "$SEALINIT" unlock "$WORK/img" --test --record \
	--public-key "$WORK/other-pub.pem" --signature "$SIG"
expect_msg "a policy (32 bytes) other than PolicyAuthorize"
# A counter at the handle is never deleted by a record write.
expect 0 "a counter" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
expect 1 "record write over the counter" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --record=0x01805e00 --signature "$SIG"
expect_msg "holds a counter, not a device record; not deleted"
tpm2_nvreadpublic 0x01805e00 >/dev/null 2>&1 || fail "the counter was deleted"

# (e) An entry of one kind presented as the other: the TPM verifies each
# signature over its own pol and policyRef.
tokpol=$(jq -r '.sha256[0].pol' "$SIG")
recpol=$(jq -r '.sha256[1].pol' "$SIG")
jq -c '.sha256 = [.sha256[1]]' "$SIG" > "$WORK/only-rec.json"
jq -c '.sha256 = [.sha256[0]]' "$SIG" > "$WORK/only-tok.json"
jq -c --arg p "$tokpol" '.sha256 = [.sha256[1] | .pol = $p]' "$SIG" > "$WORK/rec-as-tok.json"
jq -c --arg p "$recpol" '.sha256 = [.sha256[0] | .pol = $p]' "$SIG" > "$WORK/tok-as-rec.json"
expect 30 "only the record's entry, for a token" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/only-rec.json"
expect 32 "the record's signature as a token's entry" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/rec-as-tok.json"
expect_msg "the TPM rejected the signature for PCRs of the token's key"
expect 0 "the token's entry, for a token (control)" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/only-tok.json"
mkimg "$WORK/img3"
rec_enroll 30 "only the token's entry, for the record" "$WORK/img3" "$WORK/only-tok.json"
expect_msg "no signature of the device record's policy"
rec_enroll 32 "the token's signature as the record's entry" "$WORK/img3" "$WORK/tok-as-rec.json"
expect_msg "the TPM rejected the signature for PCRs of the device record's fleet key"
cryptsetup token export --token-id 0 "$WORK/img3" >/dev/null 2>&1 && fail "(e) added a token"
rec_enroll 0 "the record's entry, for the record (control)" "$WORK/img3" "$WORK/only-rec.json"
echo "PASS"
