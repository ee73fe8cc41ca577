/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TOKEN_H
#define SEALINIT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

#define SI_TOKEN_TYPE      "systemd-tpm2"
#define SI_TOKEN_BLOB_MAX  4096
#define SI_TOKEN_SRK_MAX   2048
#define SI_TOKEN_SALT_MAX  64
#define SI_TOKEN_PUBKEY_MAX 2048

/*
 * A "systemd-tpm2" LUKS2 token, field for field as systemd writes it
 * (docs/token-format.md). Parsing is strict: every field has a type, a
 * range and a length cap, and a bad one is reported by name.
 */
struct si_token {
	int keyslot;                       /* keyslots[0] */
	uint32_t pcr_mask;                 /* tpm2-pcrs */
	uint16_t pcr_bank;                 /* tpm2-pcr-bank, TPM2 alg id */
	uint16_t primary_alg;              /* tpm2-primary-alg, TPM2 alg id */
	uint8_t policy_hash[64];           /* tpm2-policy-hash */
	size_t policy_hash_len;
	bool pin;                          /* tpm2-pin */
	uint8_t blob[SI_TOKEN_BLOB_MAX];   /* tpm2-blob: TPM2B_PRIVATE || TPM2B_PUBLIC */
	size_t blob_len;
	size_t blob_private_len;           /* where TPM2B_PUBLIC starts */
	uint8_t srk[SI_TOKEN_SRK_MAX];     /* tpm2_srk: serialized ESYS_TR */
	size_t srk_len;
	uint8_t salt[SI_TOKEN_SALT_MAX];   /* tpm2_salt */
	size_t salt_len;
	uint8_t pubkey[SI_TOKEN_PUBKEY_MAX]; /* tpm2_pubkey (signed policy) */
	size_t pubkey_len;
	uint32_t pubkey_pcr_mask;          /* tpm2_pubkey_pcrs */
	bool pcrlock;                      /* tpm2_pcrlock */
	/* sealinit_counter_nv ("0x01805e00"): the signed policy also checks
	 * this NV counter (policy.h), and is authorized with policyRef
	 * SI_COUNTER_REF. 0: none. Needs tpm2_pubkey_pcrs. */
	uint32_t counter_nv;
};

/* Returns 0, or -SI_EBADTOKEN with the field and the reason in diag. */
int si_token_parse(const char *json, struct si_token *t, struct si_diag *diag);

/* Writes a malloc'd JSON string to *json. Returns 0 or -errno. */
int si_token_format(const struct si_token *t, char **json);

#endif
