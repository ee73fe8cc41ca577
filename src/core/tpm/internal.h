/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TPM_INTERNAL_H
#define SEALINIT_TPM_INTERNAL_H

/* Shared by the files of core/tpm/ only: device.c (the connection, errors,
 * PCRs), seal.c (SRK, sessions, seal, unseal) and authorize.c (the
 * signing key). */

#include <tss2/tss2_esys.h>

struct si_authkey;
struct si_diag;

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

#endif
