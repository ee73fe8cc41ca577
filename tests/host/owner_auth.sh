#!/bin/bash
# A TPM whose owner hierarchy has a password (NVIDIA's fTPM provisioning
# takes ownership): enroll makes the storage key and defines the rollback
# counter under it only with --owner-auth-file. Without the option, and
# with a wrong password, each step fails naming the owner hierarchy and
# what was given, and the volume keeps no new keyslot; with the right
# file both are made, and the unlock needs no password at all (the daily
# path never uses the owner hierarchy). And the option's bad inputs.
. "$(dirname "$0")/../lib/common.sh"
command -v tpm2_changeauth >/dev/null || skip "tpm2-tools not installed"
command -v openssl >/dev/null || skip "openssl not installed"
swtpm_start || fail "swtpm"
tpm2_changeauth -c owner ownerpw >/dev/null 2>&1 || fail "tpm2_changeauth -c owner"
printf 'ownerpw' >"$WORK/owner.auth"
printf 'ownerpw\n' >"$WORK/owner-nl.auth"
printf 'wrong' >"$WORK/wrong.auth"
keyslots() { cryptsetup luksDump "$1" | grep -cE '^  [0-9]+: luks2'; }

mkimg "$WORK/img"
expect 13 "enroll, owner password set, no option" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
expect_msg "creating the storage key: the owner hierarchy has a password, and none was given"
expect_msg "--owner-auth-file"
expect 13 "enroll, wrong owner password" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 \
	--owner-auth-file "$WORK/wrong.auth"
expect_msg "the one given is not it"
# tpm2-tools' file: form: the newline is part of the password.
expect 13 "enroll, the password with a newline" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--pcrs 15 --owner-auth-file "$WORK/owner-nl.auth"
[ "$(keyslots "$WORK/img")" = 1 ] || fail "a refused enroll added a keyslot"
expect 0 "enroll with the owner password" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15 \
	--owner-auth-file "$WORK/owner.auth"
expect_msg "created the storage key at 0x81000001"
expect 0 "unlock needs no owner password (control)" "$SEALINIT" unlock "$WORK/img" --test
echo "ok: the storage key is made under the owner password only when it is given"

# The rollback counter's definition, with the storage key there already.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
mkimg "$WORK/img2"
expect 13 "enroll --counter, no option" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
expect_msg "defining the rollback counter: the owner hierarchy has an authorization value, and none was given"
[ "$(keyslots "$WORK/img2")" = 1 ] || fail "a refused enroll --counter added a keyslot"
expect 0 "enroll --counter with the owner password" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter --owner-auth-file "$WORK/owner.auth"
expect_msg "rollback counter: NV index 0x01805e00, defined now"
echo "ok: the rollback counter is defined under the owner password only when it is given"

# Bad inputs: each names the file and what is wrong, before the TPM.
: >"$WORK/empty.auth"
head -c 65 /dev/zero | tr '\0' x >"$WORK/long.auth"
expect 2 "empty --owner-auth-file" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --owner-auth-file "$WORK/empty.auth"
expect_msg "empty file"
expect 2 "65-byte --owner-auth-file" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --owner-auth-file "$WORK/long.auth"
expect_msg "longer than the 64 bytes"
expect 2 "a directory as --owner-auth-file" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --owner-auth-file "$WORK"
expect_msg "not a regular file"
expect 2 "a missing --owner-auth-file" "$SEALINIT" provision "$WORK/img" --owner-auth-file "$WORK/none" --show-recovery-key
expect_msg "cannot use --owner-auth-file \`$WORK/none'"
echo "ok: --owner-auth-file's bad inputs are refused by name"
