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
