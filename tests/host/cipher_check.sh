#!/bin/bash
# SPDX-License-Identifier: MIT
# The volume's shape is checked on every path, the command line included:
# `sealinit unlock' refuses a header whose data segment was switched to
# cipher_null (the real key still opens it, and dm-crypt would map the
# attacker's plaintext), by name, before the TPM is asked, with the header
# unchanged. With no --cipher the segment must use a known-good cipher;
# --cipher names the one expected. The controls: the genuine header opens,
# with and without --cipher; a wrong --cipher is refused the same way.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
hsha() { head -c 16M "$1" | sha256sum | cut -c1-64; }

# The controls: the genuine header (aes-xts-plain64, 512 bits) opens.
expect 0 "unlock --test, genuine" "$SEALINIT" unlock "$WORK/img" --test
expect_msg "Token 0 opens keyslot 1"
expect 0 "unlock --test --cipher, genuine" "$SEALINIT" unlock "$WORK/img" --test --cipher aes-xts-plain64
expect_msg "Token 0 opens keyslot 1"
# A cipher the caller did not expect is refused, by name.
expect 9 "unlock --test --cipher serpent" "$SEALINIT" unlock "$WORK/img" --test --cipher serpent-xts-plain64
expect_msg "segment 0 is encrypted with \`aes-xts-plain64', expected serpent-xts-plain64"
# --cipher cannot ask for the null cipher.
expect 2 "unlock --cipher cipher_null" "$SEALINIT" unlock "$WORK/img" --test --cipher cipher_null-ecb
expect_msg "never cipher_null"

# The attack: the same header, its segment switched to cipher_null, the
# checksums recomputed (libcryptsetup loads it, and the key still opens it).
cp --sparse=always "$WORK/img" "$WORK/null"
/usr/bin/python3 "$REPO/tests/lib/luks2-edit.py" "$WORK/null" segment-encryption cipher_null-ecb ||
	fail "luks2-edit"
cryptsetup luksDump "$WORK/null" | grep -q 'cipher: cipher_null-ecb' || fail "the edit did not take"
cryptsetup open --test-passphrase --key-file "$WORK/pass" "$WORK/null" ||
	fail "the edited header does not open with the key: the attack is not real"
before=$(hsha "$WORK/null")
expect 9 "unlock --test, cipher_null" "$SEALINIT" unlock "$WORK/null" --test
expect_msg "segment 0 is encrypted with \`cipher_null-ecb', not a known-good cipher"
expect 9 "unlock --test --cipher, cipher_null" "$SEALINIT" unlock "$WORK/null" --test --cipher aes-xts-plain64
expect_msg "segment 0 is encrypted with \`cipher_null-ecb', expected aes-xts-plain64"
# Activation is refused the same way (before device-mapper is touched).
expect 9 "unlock NAME, cipher_null" "$SEALINIT" unlock "$WORK/null" sealinit-null-test
expect_msg "cipher_null-ecb"
[ "$(hsha "$WORK/null")" = "$before" ] || fail "the header changed"
# The TPM was never asked: the genuine header still opens (its token's
# policy is intact, nothing was unsealed and capped on the way).
expect 0 "unlock --test, genuine, after" "$SEALINIT" unlock "$WORK/img" --test

# An unknown cipher and a known one at an unsound key size: refused.
cp --sparse=always "$WORK/img" "$WORK/ecb"
/usr/bin/python3 "$REPO/tests/lib/luks2-edit.py" "$WORK/ecb" segment-encryption aes-ecb || fail "luks2-edit ecb"
expect 9 "unlock --test, aes-ecb" "$SEALINIT" unlock "$WORK/ecb" --test
expect_msg "\`aes-ecb', not a known-good cipher"
truncate -s 20M "$WORK/small"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--cipher aes-cbc-essiv:sha256 --key-size 128 "$WORK/small" "$WORK/pass" >/dev/null || fail "luksFormat cbc"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--cipher aes-xts-plain64 --key-size 256 "$WORK/xts256" "$WORK/pass" >/dev/null 2>&1 ||
	{ truncate -s 20M "$WORK/xts256"; cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
	  --pbkdf-force-iterations 1000 --cipher aes-xts-plain64 --key-size 256 "$WORK/xts256" "$WORK/pass" >/dev/null ||
	  fail "luksFormat xts 256"; }
expect 0 "enroll cbc-essiv" "$SEALINIT" enroll "$WORK/small" --key-file "$WORK/pass" --pcrs 15
expect 0 "unlock --test, aes-cbc-essiv:sha256 128" "$SEALINIT" unlock "$WORK/small" --test
# AES-128-XTS is 256 key bits: allowed.
expect 0 "enroll xts 256" "$SEALINIT" enroll "$WORK/xts256" --key-file "$WORK/pass" --pcrs 15
expect 0 "unlock --test, aes-xts-plain64 256" "$SEALINIT" unlock "$WORK/xts256" --test
echo "PASS"
