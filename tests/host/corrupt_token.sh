#!/bin/bash
# Corrupted tokens fail with a message naming the field, exit 8, and the
# image is byte-identical before and after.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs
good=$(cryptsetup token export --token-id 0 "$WORK/img")
blob=$(echo "$good" | jq -r '."tpm2-blob"')

# corrupt NAME FIELD JQ-FILTER: replace token 0 with a mutated copy, then
# unlock must fail naming FIELD and leave every byte of the image alone.
corrupt() {
	local name=$1 field=$2 filter=$3 before after
	cp "$WORK/img" "$WORK/bad"
	echo "$good" | jq -c "$filter" > "$WORK/tok.json"
	cryptsetup token remove --token-id 0 "$WORK/bad" || fail "$name: token remove"
	# systemd's plugin validates imports; bypass it to write a bad token.
	# systemd's token plugin validates imports: bypass it to store a bad one.
	cryptsetup --disable-external-tokens token import --token-id 0 --json-file "$WORK/tok.json" "$WORK/bad" ||
		fail "$name: token import refused"
	before=$(digest "$WORK/bad")
	expect 8 "$name" "$SEALINIT" unlock "$WORK/bad" --test
	expect_msg "malformed token"
	expect_msg "\`$field'"
	after=$(digest "$WORK/bad")
	[ "$before" = "$after" ] || fail "$name: image changed by a failed unlock"
}

corrupt "bad base64"        tpm2-blob        '."tpm2-blob" = "AJ4AIJ%%%"'
corrupt "truncated blob"    tpm2-blob        ".\"tpm2-blob\" = \"${blob:0:120}\""
corrupt "wrong policy hash" tpm2-policy-hash '."tpm2-policy-hash" = "'"$(printf '%064d' 0)"'"'
corrupt "unknown bank"      tpm2-pcr-bank    '."tpm2-pcr-bank" = "sm3_256"'
corrupt "PCR out of range"  tpm2-pcrs        '."tpm2-pcrs" = [31]'
corrupt "bad srk"           tpm2_srk         '.tpm2_srk = "AAAA"'

# The intact image still unlocks.
expect 0 "unlock intact image" "$SEALINIT" unlock "$WORK/img" --test

# A second, good token still unlocks when the first is corrupted.
cp "$WORK/img" "$WORK/two"
expect 0 "enroll second token" "$SEALINIT" enroll "$WORK/two" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs
echo "$good" | jq -c '."tpm2-pcr-bank" = "md5"' > "$WORK/tok.json"
cryptsetup token remove --token-id 0 "$WORK/two" || fail "token remove"
cryptsetup --disable-external-tokens token import --token-id 0 --json-file "$WORK/tok.json" "$WORK/two" || fail "import"
expect 0 "second token after a malformed first" "$SEALINIT" unlock "$WORK/two" --test
expect_msg "Token 1"
echo ok
