/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/sha512.h>

#include "core/hash.h"
#include "core/legacy/crypto.h"
#include "core/mbedcompat.h"
#include "core/secret.h"

int si_legacy_derive(const struct si_legacy_creds *c, uint8_t key[32], uint8_t iv[16])
{
	const char *fields[4] = { c->email, c->password, c->fingerprint, c->salt };
	mbedtls_sha512_context sha;
	uint8_t out[64]; /* the API writes 64; SHA-384 uses the first 48 */
	int i, r = -EIO;

	for (i = 0; i < 4; i++)
		if (!fields[i] || !*fields[i] || strlen(fields[i]) > SI_LEGACY_FIELD_MAX)
			return -EINVAL;
	mbedtls_sha512_init(&sha);
	if (si_mbed_sha512_starts(&sha, 1 /* SHA-384 */))
		goto out;
	for (i = 0; i < 4; i++) {
		static const uint8_t sep = 0;

		if ((i && si_mbed_sha512_update(&sha, &sep, 1)) ||
		    si_mbed_sha512_update(&sha, (const uint8_t *)fields[i], strlen(fields[i])))
			goto out;
	}
	if (si_mbed_sha512_finish(&sha, out))
		goto out;
	memcpy(key, out, 32);
	memcpy(iv, out + 32, 16);
	r = 0;
out:
	mbedtls_sha512_free(&sha);
	si_wipe(out, sizeof(out));
	return r;
}

/* PKCS#7 padding length, checked in constant time: 1..16, every padding
 * byte equal to it. Returns the length, or 0 for bad padding. */
static size_t pkcs7_len(const uint8_t *last_block)
{
	unsigned int pad = last_block[15], bad = 0, i;

	bad |= (unsigned int)(pad == 0) | (unsigned int)(pad > 16);
	for (i = 0; i < 16; i++) {
		/* in_pad is 1 for the last `pad` bytes, without a branch on pad */
		unsigned int in_pad = ((15u - i) - pad) >> 31 & 1u;

		bad |= in_pad & (unsigned int)(last_block[i] != pad);
	}
	return bad ? 0 : pad;
}

int si_legacy_decrypt(const uint8_t key[32], const uint8_t iv[16], const uint8_t *ct, size_t len,
		      const uint8_t expect_sha256[32], uint8_t *out, size_t *out_len)
{
	mbedtls_aes_context aes;
	uint8_t digest[32], ivc[16];
	size_t pad;
	int r;

	*out_len = 0;
	if (len == 0 || len % 16)
		return -EBADMSG;
	r = si_sha256(ct, len, digest);
	if (r < 0)
		return r;
	if (!si_memeq(digest, expect_sha256, sizeof(digest)))
		return -EBADMSG;

	memcpy(ivc, iv, sizeof(ivc));
	mbedtls_aes_init(&aes);
	r = -EIO;
	if (mbedtls_aes_setkey_dec(&aes, key, 256) ||
	    mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, len, ivc, ct, out))
		goto out;
	pad = pkcs7_len(out + len - 16);
	if (!pad) {
		si_wipe(out, len);
		r = -EBADMSG;
		goto out;
	}
	si_wipe(out + len - pad, pad);
	*out_len = len - pad;
	r = 0;
out:
	mbedtls_aes_free(&aes);
	si_wipe(ivc, sizeof(ivc));
	return r;
}
