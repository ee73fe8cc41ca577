/* SPDX-License-Identifier: MIT */
/*
 * sealinit revoke: raise the TPM's rollback counter, so that signatures
 * made for a lower value (`sign --counter-value') no longer unlock tokens
 * bound to it (`enroll --counter'). The counter only counts up; there is
 * no way back, by design (docs/updates.md, "Revocation").
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/errors.h"
#include "core/tpm/counter.h"
#include "core/tpm/tpm.h"

/* At most this many increments in one call: the NV of some TPMs wears,
 * and a typo of a few digits should not start a long loop. */
#define REVOKE_MAX_STEPS 1024

int revoke_main(const struct cli_args *a)
{
	struct si_diag d = { { 0 } };
	struct si_tpm *t = NULL;
	uint64_t before, v;
	unsigned int steps = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("revoke", "TPM2 support");
	r = si_tpm_open(a->tcti, a->timeout_ms, &t, &d);
	if (r < 0)
		return fail("revoke", r, &d);
	r = si_tpm_counter_read(t, a->nv_index, &before, &d);
	if (r == -ENOENT)
		si_diag_set(&d, "NV index 0x%08x: no rollback counter there (enroll --counter "
			    "defines it)", a->nv_index);
	if (r < 0)
		goto out;
	v = before;
	if (a->has_counter_value && a->counter_value <= before) {
		printf("Rollback counter 0x%08x is %llu already (asked: %llu): nothing to do\n",
		       a->nv_index, (unsigned long long)before,
		       (unsigned long long)a->counter_value);
		goto out;
	}
	if (a->has_counter_value && a->counter_value - before > REVOKE_MAX_STEPS) {
		si_tpm_close(t);
		return usage_error("revoke", "--counter-value %llu is %llu above the counter's %llu "
				   "(at most %d in one call)", (unsigned long long)a->counter_value,
				   (unsigned long long)(a->counter_value - before),
				   (unsigned long long)before, REVOKE_MAX_STEPS);
	}
	do {
		r = si_tpm_counter_increment(t, a->nv_index, &v, &d);
		steps++;
	} while (!r && a->has_counter_value && v < a->counter_value && steps < REVOKE_MAX_STEPS);
	if (r < 0)
		goto out;
	printf("Rollback counter 0x%08x: %llu -> %llu. Signatures made with --counter-value "
	       "below %llu no longer unlock.\n", a->nv_index, (unsigned long long)before,
	       (unsigned long long)v, (unsigned long long)v);
out:
	si_tpm_close(t);
	return r < 0 ? fail("revoke", r, &d) : 0;
}
