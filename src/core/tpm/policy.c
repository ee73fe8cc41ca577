/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>

#include "core/b64.h"
#include "core/hash.h"
#include "core/mbedcompat.h"
#include "core/secret.h"
#include "core/tpm/policy.h"

#define CC_POLICY_PCR        0x0000017Fu
#define CC_POLICY_AUTH_VALUE 0x0000016Bu
#define CC_POLICY_AUTHORIZE  0x0000016Au
#define CC_POLICY_NV         0x00000149u
#define CC_POLICY_COMMAND_CODE 0x0000016Cu
#define EO_UNSIGNED_LE       0x0009u
#define ALG_SHA256           0x000Bu
#define PIN_PBKDF2_ROUNDS    10000

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void si_policy_marshal_selection(uint8_t out[10], uint16_t bank, uint32_t mask)
{
	put_be32(out, 1);          /* count */
	out[4] = (uint8_t)(bank >> 8);
	out[5] = (uint8_t)bank;
	out[6] = 3;                /* sizeofSelect: PCRs 0-23 */
	out[7] = (uint8_t)mask;
	out[8] = (uint8_t)(mask >> 8);
	out[9] = (uint8_t)(mask >> 16);
}

/* policyDigest' = H(policyDigest || cc || args) */
static int policy_update(uint8_t digest[SI_POLICY_SIZE], uint32_t cc,
			 const uint8_t *args, size_t args_len)
{
	mbedtls_sha256_context ctx;
	uint8_t ccb[4];
	int r = -EIO;

	put_be32(ccb, cc);
	mbedtls_sha256_init(&ctx);
	if (si_mbed_sha256_starts(&ctx) ||
	    si_mbed_sha256_update(&ctx, digest, SI_POLICY_SIZE) ||
	    si_mbed_sha256_update(&ctx, ccb, sizeof(ccb)) ||
	    (args_len && si_mbed_sha256_update(&ctx, args, args_len)) ||
	    si_mbed_sha256_finish(&ctx, digest))
		goto out;
	r = 0;
out:
	mbedtls_sha256_free(&ctx);
	return r;
}

int si_policy_pcr(uint8_t digest[SI_POLICY_SIZE], uint16_t bank, uint32_t mask,
		  const uint8_t *values, size_t values_len)
{
	uint8_t args[10 + 32];
	int r;

	si_policy_marshal_selection(args, bank, mask);
	/* pcrDigest is over the values, in the session's hash (SHA-256). */
	r = si_sha256(values, values_len, args + 10);
	if (r < 0)
		return r;
	return policy_update(digest, CC_POLICY_PCR, args, sizeof(args));
}

int si_policy_auth_value(uint8_t digest[SI_POLICY_SIZE])
{
	return policy_update(digest, CC_POLICY_AUTH_VALUE, NULL, 0);
}

int si_policy_authorize_ref(uint8_t digest[SI_POLICY_SIZE], const uint8_t *name, size_t name_len,
			    const uint8_t *ref, size_t ref_len)
{
	uint8_t buf[2 * SI_POLICY_SIZE];
	int r;

	if (ref_len > SI_POLICY_SIZE)
		return -EINVAL;
	memset(digest, 0, SI_POLICY_SIZE);
	r = policy_update(digest, CC_POLICY_AUTHORIZE, name, name_len);
	if (r < 0)
		return r;
	/* policyDigest = H(policyDigest || policyRef) */
	memcpy(buf, digest, SI_POLICY_SIZE);
	if (ref_len)
		memcpy(buf + SI_POLICY_SIZE, ref, ref_len);
	return si_sha256(buf, SI_POLICY_SIZE + ref_len, digest);
}

int si_policy_authorize(uint8_t digest[SI_POLICY_SIZE], const uint8_t *name, size_t name_len)
{
	return si_policy_authorize_ref(digest, name, name_len, NULL, 0);
}

int si_policy_command_code(uint8_t digest[SI_POLICY_SIZE], uint32_t cc)
{
	uint8_t arg[4];

	put_be32(arg, cc);
	return policy_update(digest, CC_POLICY_COMMAND_CODE, arg, sizeof(arg));
}

int si_counter_auth_policy(uint8_t digest[SI_POLICY_SIZE])
{
	memset(digest, 0, SI_POLICY_SIZE);
	return si_policy_command_code(digest, SI_CC_NV_INCREMENT);
}

int si_nv_name(uint32_t index, uint32_t attrs, const uint8_t policy[SI_POLICY_SIZE],
	       uint16_t size, uint8_t name[SI_NV_NAME_SIZE])
{
	uint8_t pub[4 + 2 + 4 + 2 + SI_POLICY_SIZE + 2];

	/* TPMS_NV_PUBLIC (Part 2, 13.5): nvIndex, nameAlg, attributes,
	 * authPolicy (a TPM2B), dataSize. */
	put_be32(pub, index);
	pub[4] = 0;
	pub[5] = ALG_SHA256;
	put_be32(pub + 6, attrs);
	pub[10] = 0;
	pub[11] = SI_POLICY_SIZE;
	memcpy(pub + 12, policy, SI_POLICY_SIZE);
	pub[12 + SI_POLICY_SIZE] = (uint8_t)(size >> 8);
	pub[13 + SI_POLICY_SIZE] = (uint8_t)size;
	name[0] = 0;
	name[1] = ALG_SHA256;
	return si_sha256(pub, sizeof(pub), name + 2);
}

int si_counter_name(uint32_t index, uint8_t name[SI_NV_NAME_SIZE])
{
	uint8_t policy[SI_POLICY_SIZE];
	int r = si_counter_auth_policy(policy);

	if (r < 0)
		return r;
	return si_nv_name(index, SI_COUNTER_ATTRS | SI_COUNTER_WRITTEN, policy, 8, name);
}

int si_policy_counter(uint8_t digest[SI_POLICY_SIZE], const uint8_t name[SI_NV_NAME_SIZE],
		      uint64_t max)
{
	/* args = H(operandB || offset || operation) || nvIndex Name */
	uint8_t ops[8 + 2 + 2], args[SI_POLICY_SIZE + SI_NV_NAME_SIZE];
	int i, r;

	for (i = 0; i < 8; i++)
		ops[i] = (uint8_t)(max >> (56 - 8 * i));
	ops[8] = ops[9] = 0;
	ops[10] = (uint8_t)(EO_UNSIGNED_LE >> 8);
	ops[11] = (uint8_t)EO_UNSIGNED_LE;
	r = si_sha256(ops, sizeof(ops), args);
	if (r < 0)
		return r;
	memcpy(args + SI_POLICY_SIZE, name, SI_NV_NAME_SIZE);
	return policy_update(digest, CC_POLICY_NV, args, sizeof(args));
}

int si_pin_to_auth(const char *pin, const uint8_t *salt, size_t salt_len,
		   uint8_t auth[32])
{
	uint8_t derived[32];
	char b64[SI_B64_LEN(32) + 1];
	int r;

	if (!salt_len)
		return si_sha256(pin, strlen(pin), auth);

	r = -EIO;
	if (si_mbed_pbkdf2_sha256((const unsigned char *)pin, strlen(pin), salt, salt_len,
				  PIN_PBKDF2_ROUNDS, sizeof(derived), derived))
		goto out;
	si_b64_encode(b64, derived, sizeof(derived));
	r = si_sha256(b64, strlen(b64), auth);
out:
	si_wipe(derived, sizeof(derived));
	si_wipe(b64, sizeof(b64));
	return r;
}

int si_counter_pol(uint64_t max, uint8_t pol[SI_POLICY_SIZE], void *ctx)
{
	const struct si_counter_pol *c = ctx;

	memcpy(pol, c->base, SI_POLICY_SIZE);
	return si_policy_counter(pol, c->name, max);
}
