#!/bin/bash
# Rollback protection for signed policies: a token bound to the TPM's
# rollback counter (enroll --counter) opens with a signature whose limit is
# at or above the counter (the control), and no longer after `revoke'
# raised the counter past it; a new signature for the new value opens it
# again. The attacker's ways around it each fail by name: deleting the
# counter and defining it again (the TPM starts it above every value it
# had), a counter of other attributes at the index, a token stripped of
# its counter field, a plain (systemd-style) signature for the same values,
# and a counter signature for a plain token.
. "$(dirname "$0")/../lib/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
command -v tpm2_nvundefine >/dev/null || skip "tpm2-tools not installed"
swtpm_start || fail "swtpm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
NV=0x01805e00
# The counter's authPolicy, PolicyCommandCode(NV_Increment), and an
# increment through it, with tpm2-tools: how anyone increments it.
tpm2_startauthsession -S "$WORK/trial.ctx" >/dev/null &&
	tpm2_policycommandcode -S "$WORK/trial.ctx" -L "$WORK/inc.pol" TPM2_CC_NV_Increment >/dev/null &&
	tpm2_flushcontext "$WORK/trial.ctx" || fail "PolicyCommandCode trial"
nv_increment() {
	tpm2_startauthsession -S "$WORK/inc.ctx" --policy-session >/dev/null &&
		tpm2_policycommandcode -S "$WORK/inc.ctx" TPM2_CC_NV_Increment >/dev/null &&
		tpm2_nvincrement "$NV" -C "$NV" -P "session:$WORK/inc.ctx" >/dev/null 2>&1
	local rc=$?
	tpm2_flushcontext "$WORK/inc.ctx" >/dev/null 2>&1
	return $rc
}

mkimg "$WORK/img"
expect 0 "enroll --counter" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
expect_msg "rollback counter: NV index $NV, defined now, value"
v0=$(echo "$OUT" | sed -n 's/.*defined now, value \([0-9]*\);.*/\1/p')
[ -n "$v0" ] || fail "no counter value in: $OUT"
tok=$(cryptsetup token export --token-id 0 "$WORK/img")
echo "$tok" | jq -e --arg nv "$NV" '.sealinit_counter_nv == $nv and .tpm2_pubkey_pcrs == [15]' >/dev/null ||
	fail "token fields: $tok"
tpm2_nvreadpublic "$NV" > "$WORK/nvpub" 2>&1 || fail "tpm2_nvreadpublic: $(cat "$WORK/nvpub")"
grep -q "friendly: policywrite|nt=0x1|authread|no_da|written$" "$WORK/nvpub" &&
	grep -qi "authorization policy: $(xxd -p -c 64 "$WORK/inc.pol")" "$WORK/nvpub" ||
	fail "NV attributes or policy: $(cat "$WORK/nvpub")"

# A second enrollment finds the counter and keeps it.
mkimg "$WORK/img2"
expect 0 "enroll --counter, counter defined" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
expect_msg "already defined, value $v0;"

sign() { # sign OUT [ARGS]: PCR 15's current value
	local out=$1
	shift
	expect 0 "sign $*" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
		--signature "$out" "$@"
}
sign "$WORK/sig-v0.json" --counter-value "$v0"
expect_msg "good while the rollback counter $NV is at most $v0"
jq -e --argjson v "$v0" '.sha256[0].sealinit_counter == $v' "$WORK/sig-v0.json" >/dev/null ||
	fail "no sealinit_counter in $(cat "$WORK/sig-v0.json")"

# Control: the counter is at the signature's limit.
expect 0 "unlock, counter at the limit" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v0.json"
expect_msg "Token 0 opens keyslot 1"

# A plain signature (no counter step, as systemd-measure makes) for the
# same values: not for this token.
sign "$WORK/sig-plain.json"
expect 30 "plain signature for a counter token" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-plain.json"
expect_msg "no sha256 signature with a rollback counter for PCRs 15"
# The same entry with its counter field taken away: looked up as plain,
# and its signature (over the counter policy) is not one.
jq -c 'del(.sha256[0].sealinit_counter)' "$WORK/sig-v0.json" > "$WORK/sig-nofield.json"
expect 30 "counter field removed from the entry" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-nofield.json"

# A counter signature for a plain signed token (no counter): refused.
mkimg "$WORK/plain"
expect 0 "enroll plain signed" "$SEALINIT" enroll "$WORK/plain" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15
expect 30 "counter signature for a plain token" "$SEALINIT" unlock "$WORK/plain" --test \
	--signature "$WORK/sig-v0.json"
expect 0 "plain signature for the plain token (control)" "$SEALINIT" unlock "$WORK/plain" --test \
	--signature "$WORK/sig-plain.json"

# The token stripped of its counter field: PolicyAuthorize without the
# counter's policyRef is not the sealed object's policy.
cryptsetup token export --token-id 0 "$WORK/img" | jq -c 'del(.sealinit_counter_nv)' > "$WORK/stripped.json"
cp "$WORK/img" "$WORK/img-stripped"
cryptsetup token remove --token-id 0 "$WORK/img-stripped" &&
	cryptsetup token import --token-id 0 --json-file "$WORK/stripped.json" "$WORK/img-stripped" ||
	fail "token surgery"
expect 4 "token stripped of its counter" "$SEALINIT" unlock "$WORK/img-stripped" --test \
	--signature "$WORK/sig-plain.json"

# Revoke: the counter moves up by one; the old signature is refused, naming
# both values.
expect 0 "revoke" "$SEALINIT" revoke
v1=$((v0 + 1))
expect_msg "$NV: $v0 -> $v1"
expect 33 "old signature after revoke" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v0.json"
expect_msg "at most $v0; it is $v1: revoked"
# Control: the new signature opens.
sign "$WORK/sig-v1.json" --counter-value "$v1"
expect 0 "new signature after revoke" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v1.json"
# The boot's rules read the opening token's counter on the unlock's own
# connection, right after its Unseal (the boot checks it against the
# volume's high-water mark): from the token the unlock parsed, not from a
# second read of the header, which a disk could answer differently.
printf 'pcrs=15\n' >"$WORK/boot.conf"
proxy_start "$WORK/rules.log"
expect 0 "unlock --boot-rules, counter token" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-v1.json" --boot-rules --config "$WORK/boot.conf" --tcti "$PROXY_TCTI"
proxy_stop
expect_msg "Rollback counter $NV: $v1 (token 0)"
got=$(commands "$WORK/rules.log" | sed -n '/^Unseal$/,$p' | grep -v '^FlushContext$' | head -n 3 | tr '\n' ' ')
[ "$got" = "Unseal NV_ReadPublic NV_Read " ] ||
	fail "the counter is not read right after the Unseal on the same connection: '$got'"
expect 0 "unlock --boot-rules, plain token (control)" "$SEALINIT" unlock "$WORK/plain" --test \
	--signature "$WORK/sig-plain.json" --boot-rules --config "$WORK/boot.conf"
expect_msg "Token 0 has no rollback counter"
echo "ok: the boot's unlock reads the opening token's counter after its Unseal"
# Both in one file: the newest is used.
cp "$WORK/sig-v0.json" "$WORK/both.json"
sign "$WORK/both.json" --counter-value "$v1"
[ "$(jq '.sha256 | length' "$WORK/both.json")" = 2 ] || fail "both.json: $(cat "$WORK/both.json")"
expect 0 "file with old and new" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/both.json"

# A corrupt newest entry must not hide a good older one: each entry that
# matches is tried, newest first. The newest here is for v1 + 5, first in
# the file; flip_sig alters it, or its sig stops being base64.
cp "$WORK/sig-v1.json" "$WORK/nb.json"
sign "$WORK/nb.json" --counter-value $((v1 + 5))
jq -c '.sha256 |= reverse' "$WORK/nb.json" > "$WORK/newest-first.json"
jq -e --argjson v $((v1 + 5)) '.sha256[0].sealinit_counter == $v and (.sha256 | length) == 2' \
	"$WORK/newest-first.json" >/dev/null || fail "newest-first.json: $(cat "$WORK/newest-first.json")"
flip_sig "$WORK/newest-first.json" "$WORK/corrupt-newest.json"
jq -c '.sha256[0].sig = "@@"' "$WORK/newest-first.json" > "$WORK/unparsed-newest.json"
jq -c '.sha256 |= .[:1]' "$WORK/corrupt-newest.json" > "$WORK/corrupt-only.json"
proxy_start "$WORK/tpm.log"
expect 0 "newest entry good (control)" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/newest-first.json" --tcti "$PROXY_TCTI"
good_cmds=$(commands "$WORK/tpm.log" | grep -c .)
[ "$(commands "$WORK/tpm.log" | grep -c '^VerifySignature$')" = 1 ] ||
	fail "one entry that works costs one VerifySignature: $(commands "$WORK/tpm.log" | tr '\n' ' ')"
: > "$WORK/tpm.log"
expect 0 "newest entry corrupt, older good" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/corrupt-newest.json" --tcti "$PROXY_TCTI"
expect_msg "Token 0 opens keyslot 1"
[ "$(commands "$WORK/tpm.log" | grep -c '^VerifySignature$')" = 2 ] &&
	[ "$(commands "$WORK/tpm.log" | grep -c .)" = $((good_cmds + 1)) ] ||
	fail "the corrupt entry, then the older one: $(commands "$WORK/tpm.log" | tr '\n' ' ')"
proxy_stop
expect 0 "newest entry's sig not base64, older good" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/unparsed-newest.json"
# Control: the corrupt entry alone is refused, by name.
expect 32 "only the corrupt entry" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/corrupt-only.json"
expect_msg "the TPM rejected the signature for PCRs of the token's key"
expect_msg "sha256[0] (limit $((v1 + 5)))"
# Both broken: each named.
jq -c '.sha256[1].sig = "@@"' "$WORK/corrupt-newest.json" > "$WORK/both-bad.json"
expect 32 "newest corrupt, older not base64" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/both-bad.json"
expect_msg "sha256[0] (limit $((v1 + 5)))"
expect_msg "skipped: \`sha256[1].sig': invalid base64"

# revoke --counter-value: raise to a value, idempotent.
expect 0 "revoke --counter-value" "$SEALINIT" revoke --counter-value $((v1 + 2))
expect_msg "$v1 -> $((v1 + 2))"
expect 0 "revoke to a lower value" "$SEALINIT" revoke --counter-value "$v1"
expect_msg "nothing to do"
expect 2 "revoke by too much" "$SEALINIT" revoke --counter-value 999999999
expect_msg "at most 1024"
expect 33 "v1 signature after the second revoke" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-v1.json"
v3=$((v1 + 2))

# The attacker with owner rights deletes the counter and defines it again
# with the same attributes (the same Name once written): the TPM starts it
# at the highest value any counter had, so the old signature stays refused.
tpm2_nvundefine "$NV" >/dev/null 2>&1 || fail "tpm2_nvundefine"
expect 13 "counter gone" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v0.json"
expect_msg "is not on this TPM"
tpm2_nvdefine "$NV" -C o -s 8 -a "nt=counter|policywrite|authread|no_da" -L "$WORK/inc.pol" \
	>/dev/null 2>&1 || fail "tpm2_nvdefine"
nv_increment || fail "tpm2_nvincrement through the counter's policy"
expect 33 "v0 signature, counter defined again" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig-v0.json"
expect_msg "revoked"
run "$SEALINIT" status "$WORK/img" --json --event-log /nonexistent
now=$(echo "$OUT" | jq -r '.tpm.counters[0].value')
[ "$now" -gt "$v3" ] || fail "counter defined again at $now, not above $v3"
echo "$OUT" | jq -e --arg nv "$NV" '.tokens[0].counter_nv == $nv and (.tokens[0].pkfp | length) == 64' \
	>/dev/null || fail "status: $OUT"
# What reading the counter costs (the boot's rollback check reads it at
# every counted boot): NV_ReadPublic and NV_Read, the genuine counter's
# Name checked offline; the same read of a foreign index (below) reads
# its public area again to name what differs.
proxy_start "$WORK/tpm.log"
run "$SEALINIT" status "$WORK/img" --json --event-log /nonexistent --tcti "$PROXY_TCTI"
proxy_stop
got=$(commands "$WORK/tpm.log" | grep '^NV_' | tr '\n' ' ')
[ "$got" = "NV_ReadPublic NV_Read " ] || fail "reading the counter sent '$got', want 'NV_ReadPublic NV_Read '"
echo "ok: reading the counter costs two TPM commands (NV_ReadPublic NV_Read)"

# A counter of other attributes at the index (one the attacker can write
# at will): its Name differs, refused before any signature is looked at.
tpm2_nvundefine "$NV" >/dev/null 2>&1 || fail "tpm2_nvundefine"
tpm2_nvdefine "$NV" -C o -s 8 -a "nt=counter|authwrite|authread|no_da" >/dev/null 2>&1 &&
	tpm2_nvincrement "$NV" -C "$NV" >/dev/null 2>&1 || fail "tpm2_nvdefine authwrite"
sign "$WORK/sig-any.json" --counter-value 999999
expect 13 "counter of other attributes" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-any.json"
expect_msg "is not sealinit's rollback counter"
expect 13 "revoke on a foreign index" "$SEALINIT" revoke
expect_msg "is not sealinit's rollback counter"
# The same with the attributes of earlier builds (incremented with the
# owner's authorization, no policy), and with sealinit's attributes but
# another policy (PolicyAuthValue: whoever knows the index's auth writes).
tpm2_startauthsession -S "$WORK/trial.ctx" >/dev/null &&
	tpm2_policyauthvalue -S "$WORK/trial.ctx" -L "$WORK/av.pol" >/dev/null &&
	tpm2_flushcontext "$WORK/trial.ctx" || fail "PolicyAuthValue trial"
for attrs in "ownerwrite|authread|no_da" "policywrite|authread|no_da -L $WORK/av.pol"; do
	tpm2_nvundefine "$NV" >/dev/null 2>&1 || fail "tpm2_nvundefine"
	# shellcheck disable=SC2086 # attrs carries -L FILE
	tpm2_nvdefine "$NV" -C o -s 8 -a "nt=counter|${attrs%% *}" ${attrs#"${attrs%% *}"} >/dev/null 2>&1 ||
		fail "tpm2_nvdefine $attrs"
	case $attrs in
	ownerwrite*) tpm2_nvincrement "$NV" -C o >/dev/null 2>&1 ;;
	*) tpm2_startauthsession -S "$WORK/av.ctx" --policy-session >/dev/null &&
		tpm2_policyauthvalue -S "$WORK/av.ctx" >/dev/null &&
		tpm2_nvincrement "$NV" -C "$NV" -P "session:$WORK/av.ctx" >/dev/null 2>&1
	   tpm2_flushcontext "$WORK/av.ctx" >/dev/null 2>&1 ;;
	esac
	tpm2_nvreadpublic "$NV" | grep -q written || fail "$attrs: not incremented"
	expect 13 "counter defined as $attrs" "$SEALINIT" unlock "$WORK/img" --test \
		--signature "$WORK/sig-any.json"
	expect_msg "is not sealinit's rollback counter"
	expect 13 "revoke on a counter defined as $attrs" "$SEALINIT" revoke
	expect_msg "is not sealinit's rollback counter"
done

# revoke DEVICE: refused when the device's next boot would not unlock (the
# file it reads has no signature good at the new value for this boot's
# state), the counter left as it was; allowed with a file that has one.
# On a fresh TPM, the state measured and logged as the boot does, signed
# before the cap, then capped, as a booted system is.
swtpm_stop
swtpm_start || fail "swtpm again"
mkimg "$WORK/dev"
expect 0 "enroll --counter (fresh TPM)" "$SEALINIT" enroll "$WORK/dev" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
c=$(echo "$OUT" | sed -n 's/.*defined now, value \([0-9]*\);.*/\1/p')
: >"$WORK/log"
measure_logged "$WORK/log" "sealinit:cmdline:console=ttyS0" "sealinit:verity:abcd"
echo "pcr15=$("$SEALINIT" pcrread --pcrs 15 | cut -d' ' -f2)" >"$WORK/state"
grep -qE '^pcr15=[0-9a-f]{64}$' "$WORK/state" || fail "state: $(cat "$WORK/state")"
for n in "$c" $((c + 1)); do
	expect 0 "sign the state for $n" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
		--values "$WORK/state" --counter-value "$n" --signature "$WORK/next-$n.json"
done
printf 'pcr15=%064d\n' 9 >"$WORK/other-state"
expect 0 "sign another state" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
	--values "$WORK/other-state" --counter-value 99 --signature "$WORK/other-99.json"
measure_logged "$WORK/log" "sealinit:cap"
expect 2 "revoke DEVICE without --signature" "$SEALINIT" revoke "$WORK/dev"
expect 1 "revoke DEVICE, the file good only at the old value" "$SEALINIT" revoke "$WORK/dev" \
	--signature "$WORK/next-$c.json" --event-log "$WORK/log"
expect_msg "would lock $WORK/dev out at its next boot; nothing was changed"
expect_msg "good while the counter is at most $c"
expect 1 "revoke DEVICE, a file for another state" "$SEALINIT" revoke "$WORK/dev" \
	--signature "$WORK/other-99.json" --event-log "$WORK/log"
expect_msg "nobody signed"
# The signature altered: found, but it does not verify.
flip_sig "$WORK/next-$((c + 1)).json" "$WORK/next-bad.json"
expect 1 "revoke DEVICE, an altered signature" "$SEALINIT" revoke "$WORK/dev" \
	--signature "$WORK/next-bad.json" --event-log "$WORK/log"
expect_msg "does not verify with the token's key"
# A log with a digest altered says nothing about the state.
sed '2s/"digest": "\(.\)/"digest": "f\1/; 2s/"digest": "f\(.\)\(.\{62\}\)/"digest": "f\2/' "$WORK/log" >"$WORK/log.bad"
cmp -s "$WORK/log" "$WORK/log.bad" && fail "the log was not altered"
expect 1 "revoke DEVICE, a log that does not replay" "$SEALINIT" revoke "$WORK/dev" \
	--signature "$WORK/next-$((c + 1)).json" --event-log "$WORK/log.bad"
expect_msg "the log was altered"
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log"
[ "$(echo "$OUT" | jq -r '.tpm.counters[0].value')" = "$c" ] || fail "a refused revoke moved the counter: $OUT"
# The control: the file the next boot reads is good at the new value.
expect 0 "revoke DEVICE, the file good at the new value" "$SEALINIT" revoke "$WORK/dev" \
	--signature "$WORK/next-$((c + 1)).json" --event-log "$WORK/log"
expect_msg "token 0 unlocks at the next boot with the counter at $((c + 1))"
expect_msg "$NV: $c -> $((c + 1))"

# Root takes the owner and lockout hierarchies (tpm2_changeauth, as after
# a container escape) so that revocation stops working while the old
# signatures keep opening. The counter's own policy increments it
# regardless, and status names the passwords that appeared.
c=$((c + 1))
for n in "$c" $((c + 1)); do
	sign "$WORK/cur-$n.json" --counter-value "$n"
done
run "$SEALINIT" status "$WORK/dev" --event-log "$WORK/log"
expect_msg "TPM hierarchy passwords: none"
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log"
echo "$OUT" | jq -e '.tpm.hierarchy_auth == {"owner": false, "endorsement": false, "lockout": false,
	"in_lockout": false}' >/dev/null || fail "status on a TPM without passwords: $OUT"
tpm2_changeauth -c owner ownerpw >/dev/null && tpm2_changeauth -c lockout lockoutpw >/dev/null ||
	fail "tpm2_changeauth"
run "$SEALINIT" status "$WORK/dev" --event-log "$WORK/log"
expect_msg "TPM hierarchy passwords: owner, lockout set (sealinit sets none: someone else did)"
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log"
echo "$OUT" | jq -e '.tpm.hierarchy_auth.owner and .tpm.hierarchy_auth.lockout and
	(.tpm.hierarchy_auth.endorsement | not)' >/dev/null || fail "status with passwords: $OUT"
expect 0 "the signature for $c opens before the revoke" "$SEALINIT" unlock "$WORK/dev" --test \
	--signature "$WORK/cur-$c.json"
expect 0 "revoke with owner and lockout passwords set" "$SEALINIT" revoke
expect_msg "$NV: $c -> $((c + 1))"
expect 33 "the signature for $c after that revoke" "$SEALINIT" unlock "$WORK/dev" --test \
	--signature "$WORK/cur-$c.json"
expect_msg "revoked"
expect 0 "the signature for $((c + 1)) (control)" "$SEALINIT" unlock "$WORK/dev" --test \
	--signature "$WORK/cur-$((c + 1)).json"
# Whoever can send the TPM a command may increment the counter (tpm2-tools
# through its policy, the control), but not change its authValue, which
# the boot's PolicyNV reads it with: the policy names NV_Increment only.
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log"
before=$(echo "$OUT" | jq -r '.tpm.counters[0].value')
nv_increment || fail "tpm2_nvincrement through the counter's policy"
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log"
[ "$(echo "$OUT" | jq -r '.tpm.counters[0].value')" = $((before + 1)) ] || fail "not incremented: $OUT"
tpm2_startauthsession -S "$WORK/ca.ctx" --policy-session >/dev/null &&
	tpm2_policycommandcode -S "$WORK/ca.ctx" TPM2_CC_NV_ChangeAuth >/dev/null || fail "ChangeAuth session"
tpm2_changeauth -c "$NV" -p "session:$WORK/ca.ctx" newauth >/dev/null 2>&1 &&
	fail "the counter's authValue was changed"
tpm2_flushcontext "$WORK/ca.ctx" >/dev/null 2>&1
tpm2_nvincrement "$NV" -C o -P ownerpw >/dev/null 2>&1 && fail "incremented with the owner's authorization"
# Defining a counter still takes the owner's authorization: named.
tpm2_nvundefine "$NV" -C o -P ownerpw >/dev/null 2>&1 || fail "tpm2_nvundefine with the owner password"
expect 13 "enroll --counter with an owner password" "$SEALINIT" enroll "$WORK/dev" \
	--key-file "$WORK/pass" --public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
expect_msg "the owner hierarchy has an authorization value"
echo "PASS"
