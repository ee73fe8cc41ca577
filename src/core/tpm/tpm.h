/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TPM_H
#define SEALINIT_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pcrs.h"

struct si_authkey;
struct si_diag;
struct si_token;
struct si_tpm;

/* The shared storage root key, where TCG and systemd put it. */
#define SI_SRK_HANDLE 0x81000001u

/*
 * Connect through a TCTI spec as tpm2-tools writes it
 * ("device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321").
 * Every TPM response is awaited at most timeout_ms; a TPM that is absent,
 * refuses the connection or does not answer gives -SI_ENOTPM.
 */
int si_tpm_open(const char *tcti, int timeout_ms, struct si_tpm **ret,
		struct si_diag *diag);
void si_tpm_close(struct si_tpm *t);

/* The owner hierarchy's authorization value, for what this connection
 * does under it (the storage key, the counter's and the record's NV
 * definitions): sealinit sets none, but a provisioning step may have
 * (NVIDIA's fTPM provisioning takes ownership). At most 64 bytes; the
 * TSS keeps its own copy, wiped on close. */
int si_tpm_set_owner_auth(struct si_tpm *t, const void *auth, size_t len, struct si_diag *diag);

/* Number of TPM commands sent on this connection so far. */
unsigned int si_tpm_commands(const struct si_tpm *t);

/* Read the selected PCRs of a bank into values (ascending, concatenated). */
int si_tpm_pcr_read(struct si_tpm *t, uint16_t bank, uint32_t mask,
		    uint8_t *values, size_t cap, size_t *len, struct si_diag *diag);

/* TPM2_PCR_Event: extend H(data) into the PCR in every active bank. */
int si_tpm_pcr_event(struct si_tpm *t, unsigned int pcr, const void *data,
		     size_t len, struct si_diag *diag);

/*
 * TPM2_PCR_Event into every PCR of the mask, then read the sha256 bank back
 * and check each PCR moved to exactly H(old || H(data)). A TPM, driver or
 * bus interposer that answers PCR_Event with success and drops it would
 * otherwise leave a PCR that still unseals: that is -SI_ETPM, naming the
 * PCR. Two PCR_Reads more than the events alone.
 */
int si_tpm_pcr_extend_verified(struct si_tpm *t, uint32_t mask, const void *data, size_t len,
			       struct si_diag *diag);

/* The banks (TPM2_ALG_*) the TPM has allocated for this PCR, at most cap
 * of them, in the TPM's order. */
int si_tpm_pcr_banks(struct si_tpm *t, unsigned int pcr, uint16_t *banks, size_t cap,
		     size_t *n, struct si_diag *diag);

/* TPM2_PCR_Extend with a digest computed by the caller for each bank
 * listed (digests[i] of lens[i] bytes for banks[i]): what systemd extends
 * for a volume key, an HMAC rather than H(event). */
int si_tpm_pcr_extend(struct si_tpm *t, unsigned int pcr, size_t n, const uint16_t *banks,
		      const uint8_t (*digests)[64], const size_t *lens, struct si_diag *diag);

/*
 * Which hierarchies have an authorization value (a password), from the
 * TPM's TPM_PT_PERMANENT property (Part 2, 8.6): sealinit itself never
 * sets one, so one that is set was set by someone else (a provisioning
 * step, or root taking the owner hierarchy). One command, GetCapability.
 */
struct si_tpm_auth_state {
	bool owner;        /* ownerAuthSet */
	bool endorsement;  /* endorsementAuthSet */
	bool lockout;      /* lockoutAuthSet */
	bool in_lockout;   /* inLockout: dictionary-attack lockout now */
};
int si_tpm_auth_state(struct si_tpm *t, struct si_tpm_auth_state *s, struct si_diag *diag);

struct si_seal_params {
	uint32_t pcr_mask;
	uint16_t pcr_bank;
	const char *pin;            /* NULL: no PIN */
	const uint8_t *secret;
	size_t secret_len;
	const struct si_pcr_expect *expect;  /* NULL: the current values */
	/* A signed policy: PolicyAuthorize by this key first, for the PCRs of
	 * pubkey_pcr_mask (whose values the signatures name); the PEM goes
	 * into the token as systemd stores it. NULL: none. pcr_mask may then
	 * be 0 (no literal PolicyPCR, as systemd omits it). */
	const struct si_authkey *authkey;
	uint32_t pubkey_pcr_mask;
	const void *pubkey_pem;
	size_t pubkey_pem_len;
	/* With authkey: signatures must also name this rollback counter
	 * (policy.h), and the token records it. 0: none. */
	uint32_t counter_nv;
};

/*
 * Seal the secret under the SRK (created and persisted at SI_SRK_HANDLE if
 * absent) with [PolicyAuthorize by the signing key +] PolicyPCR over the
 * bank's current values (+ PolicyAuthValue with a PIN), in a session
 * salted to the SRK with AES-128-CFB parameter encryption. Fills the token's TPM fields (not keyslot).
 * *srk_created tells whether this call created the SRK.
 */
int si_tpm_seal(struct si_tpm *t, const struct si_seal_params *p,
		struct si_token *tok, int *srk_created, struct si_diag *diag);

/*
 * Unseal a token's secret into out (locked memory of cap bytes).
 * The PIN is needed when tok->pin; the signature file's text (sigfile.h)
 * when the token has a signed policy (tpm2_pubkey): NULL is -SI_ENOSIG.
 * Retries a bounded number of times when the PCRs change in between the
 * policy and the unseal.
 */
int si_tpm_unseal(struct si_tpm *t, const struct si_token *tok, const char *pin,
		  const char *signature, uint8_t *out, size_t cap, size_t *len,
		  struct si_diag *diag);

/*
 * The same unseal in two halves, for a caller that may start before the
 * PCRs it unseals under are extended. si_tpm_unseal_prepare reads no PCR:
 * the parent (checked against `tpm2_srk'), the sealed object loaded, the
 * policy session started and salted. si_tpm_unseal_prepared runs the
 * policy on the PCRs as they are at that moment, then Unseal.
 * si_tpm_unseal_release flushes whatever is left; a failed prepare leaves
 * nothing to release.
 */
struct si_tpm_unseal_prep {
	uint32_t parent, obj, session;  /* ESYS_TR */
	int transient;
};

int si_tpm_unseal_prepare(struct si_tpm *t, const struct si_token *tok,
			  struct si_tpm_unseal_prep *p, struct si_diag *diag);
int si_tpm_unseal_prepared(struct si_tpm *t, const struct si_token *tok, const char *pin,
			   const char *signature, struct si_tpm_unseal_prep *p, uint8_t *out,
			   size_t cap, size_t *len, struct si_diag *diag);
void si_tpm_unseal_release(struct si_tpm *t, struct si_tpm_unseal_prep *p);

#endif
