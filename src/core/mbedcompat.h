/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CORE_MBEDCOMPAT_H
#define SEALINIT_CORE_MBEDCOMPAT_H

/*
 * The few mbedTLS calls whose form changed between 2.28 (Debian 12) and 3.x
 * (Buildroot ships 3.6), in one place, switched on MBEDTLS_VERSION_NUMBER:
 *   - 3.0 removed the *_ret hash functions; the plain names return int now;
 *   - 3.0 dropped mbedtls_rsa_init's padding arguments and the mode/RNG
 *     arguments of mbedtls_rsa_pkcs1_verify;
 *   - 3.0 added an RNG to mbedtls_pk_parse_key (RSA blinding) and the
 *     signature buffer's size to mbedtls_pk_sign;
 *   - 3.0 made struct fields private (the PEM context's decoded buffer);
 *   - 3.3 replaced mbedtls_pkcs5_pbkdf2_hmac (an MD context) with
 *     mbedtls_pkcs5_pbkdf2_hmac_ext (an MD type).
 * Every caller includes the mbedTLS header it needs first.
 */
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/version.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SI_MBEDTLS3 1
#include <mbedtls/private_access.h>
#else
#define SI_MBEDTLS3 0
#endif

static inline int si_mbed_sha256(const void *in, size_t len, unsigned char out[32])
{
#if SI_MBEDTLS3
	return mbedtls_sha256(in, len, out, 0);
#else
	return mbedtls_sha256_ret(in, len, out, 0);
#endif
}

static inline int si_mbed_sha256_starts(mbedtls_sha256_context *c)
{
#if SI_MBEDTLS3
	return mbedtls_sha256_starts(c, 0);
#else
	return mbedtls_sha256_starts_ret(c, 0);
#endif
}

static inline int si_mbed_sha256_update(mbedtls_sha256_context *c, const void *in, size_t len)
{
#if SI_MBEDTLS3
	return mbedtls_sha256_update(c, in, len);
#else
	return mbedtls_sha256_update_ret(c, in, len);
#endif
}

static inline int si_mbed_sha256_finish(mbedtls_sha256_context *c, unsigned char out[32])
{
#if SI_MBEDTLS3
	return mbedtls_sha256_finish(c, out);
#else
	return mbedtls_sha256_finish_ret(c, out);
#endif
}

/* is384: 1 for SHA-384, 0 for SHA-512 */
static inline int si_mbed_sha512_starts(mbedtls_sha512_context *c, int is384)
{
#if SI_MBEDTLS3
	return mbedtls_sha512_starts(c, is384);
#else
	return mbedtls_sha512_starts_ret(c, is384);
#endif
}

static inline int si_mbed_sha512_update(mbedtls_sha512_context *c, const void *in, size_t len)
{
#if SI_MBEDTLS3
	return mbedtls_sha512_update(c, in, len);
#else
	return mbedtls_sha512_update_ret(c, in, len);
#endif
}

static inline int si_mbed_sha512_finish(mbedtls_sha512_context *c, unsigned char out[64])
{
#if SI_MBEDTLS3
	return mbedtls_sha512_finish(c, out);
#else
	return mbedtls_sha512_finish_ret(c, out);
#endif
}

/* An RSA context set to PKCS#1 v1.5 padding. */
static inline void si_mbed_rsa_init_v15(mbedtls_rsa_context *rsa)
{
#if SI_MBEDTLS3
	mbedtls_rsa_init(rsa);
	(void)mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
#else
	mbedtls_rsa_init(rsa, MBEDTLS_RSA_PKCS_V15, 0);
#endif
}

/* Verify a PKCS#1 signature over a HASH_LEN-byte digest with the public key. */
static inline int si_mbed_rsa_verify(mbedtls_rsa_context *rsa, mbedtls_md_type_t md,
				     unsigned int hash_len, const unsigned char *hash,
				     const unsigned char *sig)
{
#if SI_MBEDTLS3
	return mbedtls_rsa_pkcs1_verify(rsa, md, hash_len, hash, sig);
#else
	return mbedtls_rsa_pkcs1_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md, hash_len, hash,
					sig);
#endif
}

/* An unencrypted PEM or DER private key; LEN counts a PEM's closing NUL. */
static inline int si_mbed_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key,
				       size_t len,
				       int (*f_rng)(void *, unsigned char *, size_t))
{
#if SI_MBEDTLS3
	return mbedtls_pk_parse_key(pk, key, len, NULL, 0, f_rng, NULL);
#else
	(void)f_rng;
	return mbedtls_pk_parse_key(pk, key, len, NULL, 0);
#endif
}

/* Sign into SIG, which holds SIG_SIZE bytes (at least the key's length). */
static inline int si_mbed_pk_sign(mbedtls_pk_context *pk, mbedtls_md_type_t md,
				  const unsigned char *hash, size_t hash_len,
				  unsigned char *sig, size_t sig_size, size_t *sig_len,
				  int (*f_rng)(void *, unsigned char *, size_t))
{
#if SI_MBEDTLS3
	return mbedtls_pk_sign(pk, md, hash, hash_len, sig, sig_size, sig_len, f_rng, NULL);
#else
	if (sig_size < mbedtls_pk_get_len(pk))
		return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
	return mbedtls_pk_sign(pk, md, hash, hash_len, sig, sig_len, f_rng, NULL);
#endif
}

/* The DER a successful mbedtls_pem_read_buffer decoded (owned by the context). */
static inline unsigned char *si_mbed_pem_der(mbedtls_pem_context *pc, size_t *len)
{
#if SI_MBEDTLS3
	*len = pc->MBEDTLS_PRIVATE(buflen);
	return pc->MBEDTLS_PRIVATE(buf);
#else
	*len = pc->buflen;
	return pc->buf;
#endif
}

/* PBKDF2-HMAC-SHA-256. */
static inline int si_mbed_pbkdf2_sha256(const unsigned char *pw, size_t pw_len,
					const unsigned char *salt, size_t salt_len,
					unsigned int rounds, size_t out_len, unsigned char *out)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
	return mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, pw, pw_len, salt, salt_len,
					     rounds, (uint32_t)out_len, out);
#else
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	int r = -1;

	mbedtls_md_init(&ctx);
	if (md && !mbedtls_md_setup(&ctx, md, 1))
		r = mbedtls_pkcs5_pbkdf2_hmac(&ctx, pw, pw_len, salt, salt_len, rounds,
					      (uint32_t)out_len, out);
	mbedtls_md_free(&ctx);
	return r;
#endif
}

#endif
