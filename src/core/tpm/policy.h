/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_POLICY_H
#define SEALINIT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define SI_POLICY_SIZE 32 /* policy sessions are SHA-256 */

/*
 * Offline policy digests (TPM 2.0 Part 3, 23.x), so enroll needs no trial
 * session and tests can check them against vectors computed elsewhere.
 * Start from SI_POLICY_SIZE zero bytes and apply the steps in the order
 * unseal runs them, which is systemd's (so digests match its tokens):
 * PolicyAuthorize with a signing key, PolicyPCR over the literal PCRs,
 * then PolicyAuthValue when a PIN is used.
 */

/* values: the selected PCRs of the bank, ascending, each of the bank's
 * digest size, concatenated. */
int si_policy_pcr(uint8_t digest[SI_POLICY_SIZE], uint16_t bank, uint32_t mask,
		  const uint8_t *values, size_t values_len);
int si_policy_auth_value(uint8_t digest[SI_POLICY_SIZE]);

/*
 * PolicyAuthorize by the key of this Name, with an empty policyRef: the
 * TPM resets the digest to zero and extends CC || keyName, then the
 * policyRef (empty: the digest is hashed once more). systemd puts it
 * first, so it is the first step of a signed policy in any case.
 */
int si_policy_authorize(uint8_t digest[SI_POLICY_SIZE], const uint8_t *name, size_t name_len);
/* The same with a policyRef (ref_len at most SI_POLICY_SIZE). */
int si_policy_authorize_ref(uint8_t digest[SI_POLICY_SIZE], const uint8_t *name, size_t name_len,
			    const uint8_t *ref, size_t ref_len);

/*
 * Rollback protection (docs/updates.md, "Revocation"): a signed policy may
 * also hold PolicyNV(counter <= N) on sealinit's NV counter. Such tokens
 * are authorized with the policyRef SI_COUNTER_REF, so a signature
 * without the counter step (systemd's, or an old one of ours) can never
 * satisfy them, and a counter signature never satisfies a plain token.
 *
 * The counter's attributes are fixed, since its Name is in every signed
 * digest: a counter (TPM_NT_COUNTER, which only ever counts up and, when
 * deleted and defined again, starts above the highest value any counter
 * of the TPM had), incremented through its own policy (POLICYWRITE with
 * authPolicy PolicyCommandCode(TPM_CC_NV_Increment): anyone may
 * increment it, whatever the owner hierarchy's password, and nobody may
 * do anything else with its write or admin role, such as change its
 * authValue), read with its own empty authValue (AUTHREAD: the boot's
 * PolicyNV needs no secret), and never subject to dictionary-attack
 * lockout. 8 bytes. No OWNERWRITE: a password set on the owner hierarchy
 * must not stop revocation (docs/updates.md, "Revocation").
 */
#define SI_COUNTER_REF       "sealinit:counter"
#define SI_COUNTER_REF_LEN   16
#define SI_COUNTER_DEFAULT   0x01805e00u  /* TCG's owner range, 0x01800000-0x01bfffff */
#define SI_COUNTER_FIRST     0x01800000u
#define SI_COUNTER_LAST      0x01bfffffu
/* TPMA_NV: TPM_NT_COUNTER << 4 | POLICYWRITE | AUTHREAD | NO_DA; WRITTEN
 * (bit 29) is set by the first increment, and is part of the Name. */
#define SI_COUNTER_ATTRS     (0x00000010u | 0x00000008u | 0x00040000u | 0x02000000u)
#define SI_COUNTER_WRITTEN   0x20000000u
/* Its authPolicy: PolicyCommandCode(TPM_CC_NV_Increment) from zero. */
#define SI_CC_NV_INCREMENT   0x00000134u
#define SI_NV_NAME_SIZE      34           /* nameAlg || SHA-256 */

/* The Name of an NV index of nameAlg SHA-256 with these attributes, an
 * authPolicy of SI_POLICY_SIZE bytes and this data size:
 * nameAlg || H(TPMS_NV_PUBLIC). */
int si_nv_name(uint32_t index, uint32_t attrs, const uint8_t policy[SI_POLICY_SIZE],
	       uint16_t size, uint8_t name[SI_NV_NAME_SIZE]);

/* The Name of the counter at this index, as the TPM computes it once it
 * has been incremented (WRITTEN set): nameAlg || H(TPMS_NV_PUBLIC). */
int si_counter_name(uint32_t index, uint8_t name[SI_NV_NAME_SIZE]);

/* PolicyCommandCode(cc), and the counter's authPolicy (that step for
 * TPM_CC_NV_Increment, from zero). */
int si_policy_command_code(uint8_t digest[SI_POLICY_SIZE], uint32_t cc);
int si_counter_auth_policy(uint8_t digest[SI_POLICY_SIZE]);

/* PolicyNV(nv Name, operandB = max as 8 bytes big-endian, offset 0,
 * TPM_EO_UNSIGNED_LE): the counter's value must be at most max. */
int si_policy_counter(uint8_t digest[SI_POLICY_SIZE], const uint8_t name[SI_NV_NAME_SIZE],
		      uint64_t max);

/* The approved policy of a counter signature for max: base (the PolicyPCR
 * digest of the signed values) followed by PolicyNV on the counter of this
 * Name. si_counter_pol has the shape of sigfile.h's si_sig_pol_fn, with a
 * struct si_counter_pol as its context. */
struct si_counter_pol {
	uint8_t base[SI_POLICY_SIZE];
	uint8_t name[SI_NV_NAME_SIZE];
};
int si_counter_pol(uint64_t max, uint8_t pol[SI_POLICY_SIZE], void *ctx);

/* The TPML_PCR_SELECTION bytes both PolicyPCR and the digest use: one bank,
 * sizeofSelect 3. out holds 10 bytes. */
void si_policy_marshal_selection(uint8_t out[10], uint16_t bank, uint32_t mask);

/*
 * The sealed object's authValue for a PIN, as systemd derives it:
 * SHA-256 of the PIN; with a salt (token field tpm2_salt), SHA-256 of
 * base64(PBKDF2-HMAC-SHA256(PIN, salt, 10000 rounds, 32 bytes)).
 */
int si_pin_to_auth(const char *pin, const uint8_t *salt, size_t salt_len,
		   uint8_t auth[32]);

#endif
