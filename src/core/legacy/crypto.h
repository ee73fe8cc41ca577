/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_LEGACY_CRYPTO_H
#define SEALINIT_LEGACY_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * The legacy split-key scheme's cryptography (docs/legacy-protocol.md):
 * the key derivation, and the integrity check plus AES-256-CBC decryption
 * of the joined resource. The wire details live elsewhere; this is pure
 * computation, tested against vectors made with openssl.
 */

#define SI_LEGACY_FIELD_MAX 512

struct si_legacy_creds {
	const char *email;
	const char *password;
	const char *fingerprint;  /* the hardware fingerprint string */
	const char *salt;         /* from the contract */
};

/*
 * key || iv = SHA-384(email 0x00 password 0x00 fingerprint 0x00 salt):
 * the 48 bytes give the AES-256 key (32) and the CBC IV (16). The 0x00
 * separators are this contract's; the real one may join differently.
 * Returns 0, or -EINVAL when a field is missing or longer than
 * SI_LEGACY_FIELD_MAX.
 */
int si_legacy_derive(const struct si_legacy_creds *c, uint8_t key[32], uint8_t iv[16]);

/*
 * Check, then decrypt. CBC without a MAC is malleable, so the ciphertext's
 * SHA-256 must equal the digest the authenticated API gave before a single
 * block is decrypted. An integrity failure and a bad PKCS#7 padding return
 * the same code (-EBADMSG), in the same way, so that no padding oracle
 * exists. out must hold len bytes; *out_len is the plaintext length.
 */
int si_legacy_decrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *ct, size_t len,
		      const uint8_t expect_sha256[32], uint8_t *out, size_t *out_len);

#endif
