/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_ROLLBACK_H
#define SEALINIT_BOOT_ROLLBACK_H

#include <stdbool.h>
#include <stdint.h>

struct si_bootcfg;
struct si_diag;

/*
 * The check of a restored TPM store (core/hwm.h, docs/updates.md): when
 * the token that opened the volume is bound to a rollback counter, the
 * counter's value against the mark the volume keeps. In two halves, since
 * an fTPM needs its supplicant, which stops before the data volume is
 * mounted: the counter is read right after the unlock and the cap, the
 * mark checked once the volume is mounted.
 */
struct rollback_counter {
	bool bound;         /* the token has a counter: check it */
	uint32_t index;
	uint64_t value;     /* the TPM's, after the unlock */
};

/* Token tok of datadev (-1: the TPM did not open it: nothing to check):
 * its counter, read from the TPM within tpm_timeout. 0, or a code with
 * the diag (the boot fails: a counter that cannot be read vouches for
 * nothing). */
int rollback_read_counter(const struct si_bootcfg *c, const char *datadev, int tok,
			  struct rollback_counter *rc, struct si_diag *d);

/* With the volume mounted on mnt: the mark checked and raised, within
 * device_timeout. On a rollback or a damaged mark, the volume is
 * unmounted and its mapping closed before the code returns, the diag
 * naming the cause. */
int rollback_check(const struct si_bootcfg *c, const struct rollback_counter *rc,
		   const char *mnt, struct si_diag *d);

#endif
