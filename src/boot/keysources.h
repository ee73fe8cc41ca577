/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_KEYSOURCES_H
#define SEALINIT_BOOT_KEYSOURCES_H

#include <stdbool.h>

#include "boot/measure.h"
#include "boot/rollback.h"

struct si_bootcfg;
struct si_diag;

/*
 * The key sources, tried in the configured order (keysources=): the TPM
 * and the legacy network fetch. Each attempt is reported; the first that
 * opens the data volume as /dev/mapper/<name> wins.
 */

/* A legacy source is configured and built in. */
bool keysources_legacy_enabled(const struct si_bootcfg *c);
/* The TPM is used at all: as a key source, or to migrate to. */
bool keysources_tpm_used(const struct si_bootcfg *c);

/* What the boot knows when the network is next. */
struct keysources_facts {
	bool legacy;            /* a legacy source is configured and built in */
	enum measure_tpm tpm;   /* where the TPM is (measure.h) */
	int tpm_wait_ms;        /* how long the boot waited for it */
	int tpm_result;         /* what the tpm2 source returned; 0: not run */
	int tokens;             /* systemd-tpm2 tokens in the header; -1: unreadable */
	const char *token_ids;  /* their ids ("0, 2"), for the message */
};

/* Fall back to the network? 0: yes; 1: no legacy source to try; a
 * negative code: refused, with the reason in the diag (the boot fails
 * closed unless a recovery key opens the volume). */
int keysources_fallback_verdict(const struct keysources_facts *f, struct si_diag *d);

/* 0 once the volume is open, and /run/sealinit/unlock written
 * (docs/boot.md, "The unlock record"), with *counter the rollback counter
 * of the token that opened it when the TPM did (not bound otherwise:
 * another source, or a token without one); otherwise a code, and every
 * attempt named in the diag. */
int keysources_unlock(const struct si_bootcfg *c, const char *datadev,
		      struct rollback_counter *counter, struct si_diag *d);

/*
 * The TPM source started early, while the boot measures (si_unlock_start):
 * when it is the first source, the TCTI is the kernel's resource manager
 * (the boot extends on its own connection meanwhile) and the volume needs
 * no provisioning. Its worker reads the header, opens the TPM and starts
 * the first token's session, then waits for keysources_unlock to open its
 * gate; before that nothing is unsealed, activated or extended. Not
 * started (said at debug level), the source runs as it always does.
 * keysources_abandon_early kills a worker whose gate will not open (the
 * boot failed first).
 */
void keysources_start_early(const struct si_bootcfg *c, const char *datadev);
void keysources_abandon_early(void);

#endif
