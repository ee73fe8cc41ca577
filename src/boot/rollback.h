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
 * counter's value against the mark the volume keeps. The counter is read
 * by the unlock itself, on its TPM connection, right after the token's
 * unseal (si_unlock_opts.read_counter: the token it parsed, not a second
 * read of the header); the mark is checked once the volume is mounted,
 * after the fTPM's supplicant has stopped.
 */
struct rollback_counter {
	bool bound;         /* the token has a counter: check it */
	uint32_t index;
	uint64_t value;     /* the TPM's, read by the unlock */
};

/* With the volume mounted on mnt: the mark checked and raised, within
 * device_timeout. On a rollback or a damaged mark, the volume is
 * unmounted and its mapping closed before the code returns, the diag
 * naming the cause. */
int rollback_check(const struct si_bootcfg *c, const struct rollback_counter *rc,
		   const char *mnt, struct si_diag *d);

#endif
