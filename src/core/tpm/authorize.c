/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <tss2/tss2_mu.h>

#include "core/errors.h"
#include "core/hash.h"
#include "core/mbedcompat.h"
#include "core/secret.h"
#include "core/tpm/authorize.h"
#include "core/tpm/internal.h"

#define PEM_PUBLIC "-----BEGIN PUBLIC KEY-----"
#define EXPONENT   65537u

void si_authkey_tpm_public(const struct si_authkey *k, TPM2B_PUBLIC *p)
{
	TPMT_PUBLIC *a = &p->publicArea;

	memset(p, 0, sizeof(*p));
	a->type = TPM2_ALG_RSA;
	a->nameAlg = TPM2_ALG_SHA256;
	a->objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT |
		TPMA_OBJECT_USERWITHAUTH;
	a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	a->parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(k->modulus_len * 8);
	a->parameters.rsaDetail.exponent = k->exponent;
	a->unique.rsa.size = (uint16_t)k->modulus_len;
	memcpy(a->unique.rsa.buffer, k->modulus, k->modulus_len);
}

static int compute_name(struct si_authkey *k)
{
	TPM2B_PUBLIC *p = calloc(1, sizeof(*p));
	uint8_t *buf = malloc(sizeof(TPMT_PUBLIC));
	size_t off = 0;
	int r = -ENOMEM;

	if (!p || !buf)
		goto out;
	si_authkey_tpm_public(k, p);
	r = -EINVAL;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&p->publicArea, buf, sizeof(TPMT_PUBLIC), &off))
		goto out;
	k->name[0] = 0x00;
	k->name[1] = 0x0B;  /* TPM2_ALG_SHA256 */
	r = si_sha256(buf, off, k->name + 2);
out:
	free(p);
	free(buf);
	return r;
}

/* Fill k from a parsed RSA key: modulus, exponent, Name, fingerprint. */
static int from_pk(struct si_authkey *k, mbedtls_pk_context *pk, const char *what,
		   struct si_diag *d)
{
	uint8_t e[4], der[SI_AUTHKEY_MOD_MAX + 64], *p = der + sizeof(der);
	const mbedtls_rsa_context *rsa;
	int n;

	memset(k, 0, sizeof(*k));
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA) {
		si_diag_set(d, "%s: not an RSA key (systemd signs PCR policies with RSA only)", what);
		return -EINVAL;
	}
	rsa = mbedtls_pk_rsa(*pk);
	k->modulus_len = mbedtls_rsa_get_len(rsa);
	if (k->modulus_len != 256 && k->modulus_len != 384 && k->modulus_len != 512) {
		si_diag_set(d, "%s: an RSA key of %zu bits (expected 2048, 3072 or 4096)", what,
			    k->modulus_len * 8);
		return -EINVAL;
	}
	if (mbedtls_rsa_export_raw(rsa, k->modulus, k->modulus_len, NULL, 0, NULL, 0, NULL, 0,
				   e, sizeof(e))) {
		si_diag_set(d, "%s: the RSA exponent is larger than 32 bits", what);
		return -EINVAL;
	}
	k->exponent = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
	/* systemd copies the exponent's big-endian bytes into the TPM's
	 * 32-bit field as they are: right for 65537 (and palindromes) only,
	 * so any other exponent would give another Name there. */
	if (k->exponent != EXPONENT) {
		si_diag_set(d, "%s: RSA exponent %u (expected 65537)", what, k->exponent);
		return -EINVAL;
	}
	/* The PKCS#1 RSAPublicKey, written backwards from the end. */
	n = mbedtls_pk_write_pubkey(&p, der, pk);
	if (n <= 0)
		return -EINVAL;
	if (si_sha256(p, (size_t)n, k->pkfp) < 0)
		return -EIO;
	return compute_name(k);
}

int si_authkey_from_pem(struct si_authkey *k, const void *pem, size_t len, struct si_diag *d)
{
	mbedtls_pk_context pk;
	char *buf;
	int r;

	if (len == 0 || len > SI_AUTHKEY_PEM_MAX) {
		si_diag_set(d, "public key: %zu bytes (expected a PEM key of at most %d)", len,
			    SI_AUTHKEY_PEM_MAX);
		return -EINVAL;
	}
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, pem, len);
	buf[len] = '\0';
	mbedtls_pk_init(&pk);
	/* systemd reads it with PEM_read_PUBKEY: SubjectPublicKeyInfo only,
	 * not "RSA PUBLIC KEY", not DER. */
	if (strlen(buf) != len || !strstr(buf, PEM_PUBLIC) ||
	    mbedtls_pk_parse_public_key(&pk, (const unsigned char *)buf, len + 1)) {
		si_diag_set(d, "public key: not a PEM \"PUBLIC KEY\" (openssl pkey -pubout writes one)");
		r = -EINVAL;
		goto out;
	}
	r = from_pk(k, &pk, "public key", d);
out:
	mbedtls_pk_free(&pk);
	free(buf);
	return r;
}

/* aHash, what the signature is over: H(approvedPolicy || policyRef). */
int si_authkey_ahash(const uint8_t digest[32], const uint8_t *ref, size_t ref_len, uint8_t h[32])
{
	uint8_t buf[64];

	if (ref_len > 32)
		return -EINVAL;
	memcpy(buf, digest, 32);
	if (ref_len)
		memcpy(buf + 32, ref, ref_len);
	return si_sha256(buf, 32 + ref_len, h);
}

int si_authkey_verify(const struct si_authkey *k, const uint8_t digest[32], const uint8_t *ref,
		      size_t ref_len, const uint8_t *sig, size_t sig_len)
{
	mbedtls_rsa_context rsa;
	uint8_t h[32], e[3] = { 0x01, 0x00, 0x01 };
	int r = -EBADMSG;

	si_mbed_rsa_init_v15(&rsa);
	if (sig_len != k->modulus_len || si_authkey_ahash(digest, ref, ref_len, h) < 0 ||
	    mbedtls_rsa_import_raw(&rsa, k->modulus, k->modulus_len, NULL, 0, NULL, 0, NULL, 0,
				   e, sizeof(e)) ||
	    mbedtls_rsa_complete(&rsa))
		goto out;
	if (si_mbed_rsa_verify(&rsa, MBEDTLS_MD_SHA256, 32, h, sig) == 0)
		r = 0;
out:
	mbedtls_rsa_free(&rsa);
	return r;
}

int si_authkey_sign(const void *priv_pem, size_t len, const uint8_t digest[32],
		    const uint8_t *ref, size_t ref_len, uint8_t *sig, size_t cap, size_t *sig_len,
		    struct si_authkey *pub, struct si_diag *d)
{
	mbedtls_pk_context pk;
	uint8_t h[32];
	char *buf;
	size_t n = 0;
	int r;

	buf = si_secret_alloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, priv_pem, len);
	buf[len] = '\0';
	mbedtls_pk_init(&pk);
	/* No passphrase: a CI signer holds the key in a secret store. */
	if (strlen(buf) != len ||
	    si_mbed_pk_parse_key(&pk, (const unsigned char *)buf, len + 1, si_mbedtls_rng)) {
		si_diag_set(d, "private key: not an unencrypted PEM private key");
		r = -EINVAL;
		goto out;
	}
	r = from_pk(pub, &pk, "private key", d);
	if (r < 0)
		goto out;
	r = -ENOSPC;
	if (cap < pub->modulus_len)
		goto out;
	/* The PKCS#1 v1.5 padding, with SHA-256 of the digest: systemd-measure
	 * signs the policy digest through EVP_DigestSign with SHA-256. */
	mbedtls_rsa_set_padding(mbedtls_pk_rsa(pk), MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
	r = -EIO;
	if (si_authkey_ahash(digest, ref, ref_len, h) < 0 ||
	    si_mbed_pk_sign(&pk, MBEDTLS_MD_SHA256, h, sizeof(h), sig, cap, &n, si_mbedtls_rng) ||
	    n != pub->modulus_len)
		goto out;
	if (si_authkey_verify(pub, digest, ref, ref_len, sig, n) < 0) {
		si_diag_set(d, "private key: the signature does not verify with its own public key");
		goto out;
	}
	*sig_len = n;
	r = 0;
out:
	mbedtls_pk_free(&pk);
	si_secret_free(buf);
	return r;
}
