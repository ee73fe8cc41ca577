#!/bin/bash
# Signed PCR policies (PolicyAuthorize), each attack beside its control:
# sealinit enroll --public-key + sealinit sign open the volume; a tampered
# signature, one for other values, one by another key and a malformed file
# are each refused by name, and a tampered entry before a genuine one
# does not hide it. Then with systemd, both ways: systemd 252's
# enrollment opens with sealinit's signature, systemd 252 accepts
# sealinit's signature file for its own unseal, systemd-measure sign and
# sealinit sign write the same entry, and systemd 254 unseals a token
# sealinit enrolled (252 cannot: docs/token-format.md, the SRK).
. "$(dirname "$0")/../lib/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
swtpm_start || fail "swtpm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/other.pem" 2>/dev/null ||
	fail "openssl genpkey"

mkimg "$WORK/img"
expect 0 "enroll --public-key" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15
expect_msg "signed PCRs 15"
tok=$(cryptsetup token export --token-id 0 "$WORK/img")
echo "$tok" | jq -e '.tpm2_pubkey_pcrs == [15] and ."tpm2-pcrs" == []' >/dev/null ||
	fail "token fields: $tok"
[ "$(echo "$tok" | jq -r .tpm2_pubkey | base64 -d | sha256sum)" = "$(sha256sum < "$WORK/pub.pem")" ] ||
	fail "tpm2_pubkey is not the PEM as given"

# Control: the current value of PCR 15, signed.
expect 0 "sign --current" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--signature "$WORK/sig.json"
expect 0 "unlock with the signature" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig.json"
expect_msg "Token 0 opens keyslot 1"
echo "$OUT" | grep -q "$(cat "$WORK/key.pem" | sed -n 2p)" && fail "the private key reached the output"

# No signature file at all.
expect 30 "no signature file" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/none.json"
expect_msg "cannot read the signature file"

# Tampered: one bit of the signature flipped.
flip_sig "$WORK/sig.json" "$WORK/tampered.json"
expect 32 "tampered signature" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/tampered.json"
expect_msg "TPM rejected the signature"
# The tampered entry first and the genuine one after it, for the same
# values (a merged file): the first is refused by the TPM and the next
# tried, as a corrupt entry must not hide a good one.
jq -c --slurpfile good "$WORK/sig.json" '.sha256 += $good[0].sha256' "$WORK/tampered.json" \
	> "$WORK/tampered-first.json"
[ "$(jq '.sha256 | length' "$WORK/tampered-first.json")" = 2 ] || fail "tampered-first.json"
expect 0 "tampered entry, then the genuine one" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/tampered-first.json"
expect_msg "Token 0 opens keyslot 1"

# Signed for other values of PCR 15: the state is not approved.
printf 'pcr15=%064d\n' 7 > "$WORK/other-values"
expect 0 "sign --values" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
	--values "$WORK/other-values" --signature "$WORK/othervals.json"
expect 30 "signature for other values" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/othervals.json"
expect_msg "nobody signed"

# Signed by another key, for the right values.
expect 0 "sign with another key" "$SEALINIT" sign --private-key "$WORK/other.pem" --pcrs 15 --current \
	--signature "$WORK/otherkey.json"
expect 31 "signature by another key" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/otherkey.json"
expect_msg "by another key"

# For other PCRs only.
expect 0 "sign PCR 7" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 7 --current \
	--signature "$WORK/pcr7.json"
expect 30 "signature for other PCRs" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/pcr7.json"
expect_msg "no sha256 signature for PCRs 15"

# Malformed, named by field.
jq -c '.sha256[0].pol = "xyz"' "$WORK/sig.json" > "$WORK/bad.json"
expect 32 "malformed signature file" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/bad.json"
expect_msg "sha256[0].pol"

# Appending: the file keeps every entry, and the right one is picked among
# them; the same entry twice is stored once.
cp "$WORK/othervals.json" "$WORK/multi.json"
for k in other key; do
	expect 0 "append ($k)" "$SEALINIT" sign --private-key "$WORK/$k.pem" --pcrs 15 --current \
		--signature "$WORK/multi.json"
done
expect 0 "append the same again" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--signature "$WORK/multi.json"
[ "$(jq '.sha256 | length' "$WORK/multi.json")" = 3 ] || fail "expected 3 entries: $(cat "$WORK/multi.json")"
expect 0 "unlock with the right entry third of three" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/multi.json"

# After the PCR moves, the old signature no longer opens; a new one does.
extend 15
expect 30 "old signature after PCR 15 moved" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig.json"
expect 0 "re-sign" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--signature "$WORK/sig.json"
expect 0 "unlock with the new signature" "$SEALINIT" unlock "$WORK/img" --test \
	--signature "$WORK/sig.json"

# Signed + literal PCR + PIN, in systemd's order: a literal PCR that moves
# still refuses, with the signature valid.
mkimg "$WORK/mixed"
expect 0 "enroll signed 15 + literal 16 + PIN" bash -c "printf '4711\n4711\n' | '$SEALINIT' enroll \
	'$WORK/mixed' --key-file '$WORK/pass' --public-key '$WORK/pub.pem' --public-key-pcrs 15 \
	--pcrs 16 --pin --unsafe-pcrs"
expect 0 "mixed: right PIN" bash -c "echo 4711 | '$SEALINIT' unlock '$WORK/mixed' --test --signature '$WORK/sig.json'"
expect 6 "mixed: wrong PIN" bash -c "echo 1234 | '$SEALINIT' unlock '$WORK/mixed' --test --signature '$WORK/sig.json'"
extend 16
expect 4 "mixed: literal PCR 16 moved" bash -c "echo 4711 | '$SEALINIT' unlock '$WORK/mixed' --test --signature '$WORK/sig.json'"
swtpm_restart || fail "swtpm restart"

if command -v systemd-cryptenroll >/dev/null; then
	# systemd 252 enrolls; sealinit signs and unlocks. systemd's own
	# --tpm2-signature check unseals it with sealinit's signature file.
	expect 0 "sign after restart" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
		--signature "$WORK/sig.json"
	mkimg "$WORK/sd"
	run env PASSWORD="$PASSPHRASE" systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" \
		--tpm2-public-key="$WORK/pub.pem" --tpm2-public-key-pcrs=15 --tpm2-pcrs= \
		--tpm2-signature="$WORK/sig.json" "$WORK/sd"
	[ "$RC" = 0 ] || fail "systemd-cryptenroll 252 with sealinit's signature file: $OUT"
	sd=$(cryptsetup token export --token-id 0 "$WORK/sd")
	[ "$(echo "$sd" | jq -r '."tpm2-policy-hash"')" = "$(echo "$tok" | jq -r '."tpm2-policy-hash"')" ] ||
		fail "systemd's policy hash differs from sealinit's for the same key"
	expect 0 "sealinit opens systemd 252's signed token" "$SEALINIT" unlock "$WORK/sd" --test \
		--signature "$WORK/sig.json"
	expect 32 "...and refuses it with a tampered signature" "$SEALINIT" unlock "$WORK/sd" --test \
		--signature "$WORK/tampered.json"
	mkimg "$WORK/sd2"
	run env PASSWORD="$PASSPHRASE" systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" \
		--tpm2-public-key="$WORK/pub.pem" --tpm2-public-key-pcrs=15 --tpm2-pcrs= \
		--tpm2-signature="$WORK/othervals.json" "$WORK/sd2"
	[ "$RC" = 0 ] && fail "systemd 252 accepted a signature for other values"
fi

measure=/usr/lib/systemd/systemd-measure
if [ -x "$measure" ]; then
	# systemd-measure signs PCR 11 of a UKI; sealinit sign, given the same
	# value, writes the same entry (PKCS#1 v1.5 is deterministic).
	head -c 4096 /dev/zero > "$WORK/linux"
	run "$measure" sign --tpm2-device="$SEALINIT_TCTI" --linux="$WORK/linux" --bank=sha256 \
		--private-key="$WORK/key.pem" --public-key="$WORK/pub.pem" --phase=enter-initrd --json=short
	[ "$RC" = 0 ] || fail "systemd-measure sign: $OUT"
	echo "$OUT" > "$WORK/measure.json"
	v=$("$measure" calculate --linux="$WORK/linux" --bank=sha256 --phase=enter-initrd --json=short |
		jq -r '.sha256[0].hash')
	echo "pcr11=$v" > "$WORK/pcr11"
	expect 0 "sealinit sign PCR 11" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 11 \
		--values "$WORK/pcr11" --signature "$WORK/ours11.json"
	[ "$(jq -cS .sha256 "$WORK/measure.json")" = "$(jq -cS .sha256 "$WORK/ours11.json")" ] ||
		fail "systemd-measure and sealinit sign differ: $(cat "$WORK/measure.json") vs $(cat "$WORK/ours11.json")"
	# And sealinit adds to systemd's file, keeping its entry.
	cp "$WORK/measure.json" "$WORK/both.json"
	expect 0 "append to systemd's file" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
		--current --signature "$WORK/both.json"
	[ "$(jq '.sha256 | length' "$WORK/both.json")" = 2 ] || fail "append to systemd's file"
	swtpm_restart || fail "swtpm restart"
fi

root=${SYSTEMD254_ROOT:-}
if [ -z "$root" ]; then
	root=$("$REPO/scripts/fetch-backports.sh" amd64 systemd libsystemd-shared 2>/dev/null) || root=
fi
if [ -n "$root" ] && [ -x "$root/lib/systemd/systemd-cryptsetup" ]; then
	# systemd 254 unseals sealinit's signed token with sealinit's signature.
	expect 0 "sign for 254" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
		--signature "$WORK/sig.json"
	attach254() {
		run env LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu/systemd" SYSTEMD_LOG_LEVEL=debug \
			timeout 60 "$root/lib/systemd/systemd-cryptsetup" attach sealinit-signed "$WORK/img" - \
			"tpm2-device=swtpm:host=127.0.0.1\\,port=$SWTPM_PORT,headless=1,tpm2-signature=$1"
		swtpm_restart || fail "swtpm restart"
	}
	attach254 "$WORK/sig.json"
	echo "$OUT" | grep -q 'Completed TPM2 key unsealing' ||
		fail "systemd 254 could not unseal sealinit's signed token: $OUT"
	attach254 "$WORK/tampered.json"
	echo "$OUT" | grep -q 'Completed TPM2 key unsealing' && fail "systemd 254 unsealed with a tampered signature"
	echo "systemd 254: unsealed with the signature, refused the tampered one"
else
	echo "systemd 254 not available: the systemd-side unseal of sealinit's token was not run" >&2
fi
echo ok
