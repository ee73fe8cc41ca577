/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_AUTHORIZE_H
#define SEALINIT_AUTHORIZE_H

#include <stddef.h>
#include <stdint.h>

struct si_diag;

/*
 * The key of a signed PCR policy (TPM2_PolicyAuthorize), offline: what
 * enroll seals to, what unlock loads into the TPM and what `sealinit
 * sign' signs with, each as systemd computes it (docs/token-format.md):
 *
 * - the key is RSA with exponent 65537, given as a PEM "PUBLIC KEY"
 *   (SubjectPublicKeyInfo), as systemd-cryptenroll --tpm2-public-key
 *   takes it;
 * - its TPM2B_PUBLIC: RSA, nameAlg SHA-256, attributes decrypt | sign |
 *   userWithAuth, NULL scheme and symmetric, keyBits from the modulus,
 *   the exponent written out (not 0), the modulus as unique;
 * - its Name: 0x000B || SHA-256(marshalled TPMT_PUBLIC);
 * - its fingerprint (`pkfp'): SHA-256 over the PKCS#1 RSAPublicKey DER
 *   (OpenSSL's i2d_PublicKey), not over the SubjectPublicKeyInfo.
 */
#define SI_AUTHKEY_NAME_SIZE 34
#define SI_PKFP_SIZE         32
#define SI_AUTHKEY_MOD_MAX   512   /* 4096 bits */
#define SI_AUTHKEY_PEM_MAX   2048  /* the token's tpm2_pubkey cap */

struct si_authkey {
	uint8_t modulus[SI_AUTHKEY_MOD_MAX];
	size_t modulus_len;
	uint32_t exponent;
	uint8_t name[SI_AUTHKEY_NAME_SIZE];
	uint8_t pkfp[SI_PKFP_SIZE];
};

/* A PEM public key (len bytes, no NUL needed). 0, or -EINVAL with the
 * reason in diag (not PEM, not RSA, another exponent, an odd size). */
int si_authkey_from_pem(struct si_authkey *k, const void *pem, size_t len, struct si_diag *diag);

/* Sign a policy digest with a PEM private key (locked memory, len bytes)
 * as systemd-measure does (below), and fill pub with the key's public
 * part, for the entry's fingerprint. The signature is checked before it is
 * returned. 0, or -EINVAL (not an RSA private key) with diag. */
int si_authkey_sign(const void *priv_pem, size_t len, const uint8_t digest[32],
		    const uint8_t *ref, size_t ref_len, uint8_t *sig, size_t cap, size_t *sig_len,
		    struct si_authkey *pub, struct si_diag *diag);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the 32-byte policy digest and the
 * policyRef (ref_len at most 32; systemd's is empty): what systemd-measure
 * signs and TPM2_VerifySignature checks. 0, or -EBADMSG. */
int si_authkey_verify(const struct si_authkey *k, const uint8_t digest[32], const uint8_t *ref,
		      size_t ref_len, const uint8_t *sig, size_t sig_len);

/* The digest PolicyAuthorize's ticket is for, H(digest || ref): what the
 * key signs (with SHA-256 once more, inside RSASSA) and the TPM verifies. */
int si_authkey_ahash(const uint8_t digest[32], const uint8_t *ref, size_t ref_len, uint8_t h[32]);

#endif
