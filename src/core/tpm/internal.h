/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TPM_INTERNAL_H
#define SEALINIT_TPM_INTERNAL_H

/* Shared by the files of core/tpm/ only: device.c (the connection, errors,
 * PCRs), seal.c (SRK, sessions, seal, unseal) and authorize.c (the
 * signing key). */

#include <tss2/tss2_esys.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_authkey;
struct si_diag;
struct si_sig;

/*
 * A TCTI that wraps the real one. ESYS's synchronous calls wait for a
 * response forever; this bounds every wait so that a TPM that stops
 * answering ends in -SI_ENOTPM instead of a hung boot. It also counts
 * commands, which the benchmarks and the debug log report.
 */
struct bounded_tcti {
	TSS2_TCTI_CONTEXT_COMMON_V2 common;
	TSS2_TCTI_CONTEXT *inner;
	int32_t timeout_ms;
	unsigned int commands;
	int timed_out;
};

struct si_tpm {
	struct bounded_tcti tcti;
	ESYS_CONTEXT *esys;
	bool owner_auth_set;    /* si_tpm_set_owner_auth: for the messages */
};

/* Fold a TSS2_RC to the TPM's error number (Part 2, 6.6), keeping other
 * layers' codes whole. */
uint32_t si_tpm_rc_base(TSS2_RC rc);
/* Turn a TPM/TSS error into our code and a message naming the step. */
int si_tpm_error(struct si_tpm *t, TSS2_RC rc, const char *step, struct si_diag *d);
/* Flush a transient handle, if any, and forget it. */
void si_tpm_flush(struct si_tpm *t, ESYS_TR *h);
/* A one-bank TPML_PCR_SELECTION of PCRs 0-23. */
void si_tpm_selection(TPML_PCR_SELECTION *sel, uint16_t bank, uint32_t mask);
/* The TPM2B_PUBLIC of a policy-signing key, byte for byte as systemd
 * builds it (authorize.c): what LoadExternal takes and the Name covers. */
void si_authkey_tpm_public(const struct si_authkey *k, TPM2B_PUBLIC *pub);

/* The persistent SRK at SI_SRK_HANDLE, a storage key (not created when
 * absent: -SI_ESRK). *srk to close with Esys_TR_Close. */
int si_tpm_srk(struct si_tpm *t, ESYS_TR *srk, struct si_diag *d);

/* A session salted to salt_key with AES-128-CFB parameter encryption
 * (seal.c): the salt crosses the bus encrypted to the key, so an
 * interposer knows neither the session key nor can it forge the TPM's
 * response HMACs. */
int si_tpm_start_session(struct si_tpm *t, ESYS_TR salt_key, TPM2_SE type, ESYS_TR *out,
			 struct si_diag *d);

/* A policy session that is neither salted nor encrypting (seal.c), for
 * policies that guard no secret; step names it in an error. */
int si_tpm_policy_session(struct si_tpm *t, ESYS_TR *out, const char *step, struct si_diag *d);

/*
 * The signed part of a policy session (seal.c), shared by the unseal of a
 * token with tpm2_pubkey and the device record's write (record.c): the
 * session's digest so far (PolicyGetDigest) is the policy to look up in
 * the signature file; the key is loaded as an external public key in the
 * owner hierarchy (a NULL-hierarchy ticket would not satisfy
 * PolicyAuthorize) and its Name checked; each matching entry is tried
 * with VerifySignature of H(pol || ref) until the TPM accepts one (a
 * corrupt entry must not hide a good one); verified runs with it; then
 * PolicyAuthorize(its pol, ref, the key's Name, the ticket). The same
 * commands as one lookup when the first entry works.
 */
typedef int (*si_sig_lookup_fn)(void *ctx, const uint8_t pol[32], struct si_sig **sigs,
				size_t *n, struct si_diag *skipped);
struct si_signed_policy {
	const struct si_authkey *key;
	uint32_t pcr_mask;            /* the PCRs the entries name */
	const char *signature;        /* the signature file's text */
	const uint8_t *ref;           /* the policyRef (at most 32 bytes); NULL: empty */
	size_t ref_len;
	const char *whose;            /* in messages: "the token's key" */
	/* NULL: si_sigfile_match(signature, pcr_mask, key's pkfp, the
	 * session's digest) */
	si_sig_lookup_fn lookup;
	/* After the ticket, before PolicyAuthorize (a counter's PolicyNV);
	 * NULL: nothing. */
	int (*verified)(void *ctx, const struct si_sig *sig, struct si_diag *d);
	void *ctx;
};
int si_tpm_policy_signed(struct si_tpm *t, ESYS_TR session, const struct si_signed_policy *p,
			 struct si_diag *d);

#endif
