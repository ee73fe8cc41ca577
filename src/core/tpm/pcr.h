/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TPM_PCR_H
#define SEALINIT_TPM_PCR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

/* The separator extended into the policy PCRs after the unlock, and on
 * failure, so that the policy cannot be satisfied again until the next
 * boot (boot/measure.c, `sealinit cap'). */
#define SI_CAP_EVENT "sealinit:cap"

/* PCR operations for measure, cap and pcrread, each in a worker under the
 * timeout (worker.h), so a silent TPM ends in -SI_ENOTPM. */
struct si_pcr_opts {
	const char *tcti;
	int timeout_ms;
	uint32_t pcr_mask;
	uint16_t bank;            /* for reading */
	/* Read the sha256 bank back and check the event took
	 * (si_tpm_pcr_extend_verified): for caps, whose loss would leave a
	 * PCR unsealable. A dropped measurement fails the unseal anyway, so
	 * measurements skip the two PCR_Reads. */
	bool verify;
};

struct si_pcr_values {
	size_t len;
	uint8_t values[24 * 64];  /* selected PCRs, ascending */
};

/* Several events on one TPM connection, in order: the boot's
 * measurements cost one connection, not one each. */
struct si_pcr_ev {
	unsigned int pcr;
	const void *data;
	size_t len;
};

int si_pcr_events(const struct si_pcr_opts *o, const struct si_pcr_ev *ev, size_t n,
		  struct si_diag *diag);

/* TPM2_PCR_Event of data into every PCR of the mask, in every bank. */
int si_pcr_event(const struct si_pcr_opts *o, const void *data, size_t len,
		 struct si_diag *diag);
int si_pcr_read(const struct si_pcr_opts *o, struct si_pcr_values *v, struct si_diag *diag);

#endif
