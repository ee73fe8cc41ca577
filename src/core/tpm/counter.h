/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_COUNTER_H
#define SEALINIT_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

struct si_diag;
struct si_tpm;

/*
 * sealinit's rollback counter, an NV index with the attributes and
 * authPolicy of policy.h (SI_COUNTER_ATTRS). Defining it takes the owner
 * hierarchy's authorization, which must then be empty (as the SRK's
 * creation already requires); incrementing it takes only its own policy
 * (PolicyCommandCode(NV_Increment)), and reading it its empty authValue:
 * neither depends on a hierarchy's password.
 */

/* The counter's value. -ENOENT: no index there; -SI_ETPM with diag when
 * an index is there but is not a counter with sealinit's attributes (its
 * Name differs: any signed digest naming it would not match). */
int si_tpm_counter_read(struct si_tpm *t, uint32_t index, uint64_t *value, struct si_diag *d);

/* Define the counter if absent and increment it once if never written,
 * so that its Name is the one signatures name. *created tells whether
 * this call defined it. The value after, in *value. */
int si_tpm_counter_ensure(struct si_tpm *t, uint32_t index, uint64_t *value, bool *created,
			  struct si_diag *d);

/* Increment the counter once; the new value in *value. */
int si_tpm_counter_increment(struct si_tpm *t, uint32_t index, uint64_t *value,
			     struct si_diag *d);

#endif
