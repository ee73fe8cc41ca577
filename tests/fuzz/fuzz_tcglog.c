/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the firmware's binary event log (core/tcglog.c), which
 * predict reads from a device (whose booted system can write any bytes to
 * the file it hands over), and the PE image of --kernel (core/pe.c). An
 * accepted log names only PCRs 0-23, each record's data lies inside the
 * input, and its replay agrees with the parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/pcrs.h"
#include "core/pe.h"
#include "core/tcglog.h"

struct span {
	const uint8_t *p;
	size_t n;
	uint32_t extended;
};

static int check(void *ctx, const struct si_tcg_event *e, struct si_diag *d)
{
	struct span *s = ctx;

	(void)d;
	if (e->pcr >= SI_PCR_COUNT || e->data < s->p || e->size > s->n ||
	    e->data + e->size > s->p + s->n)
		abort();
	if (e->type != SI_EV_NO_ACTION)
		s->extended |= UINT32_C(1) << e->pcr;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_pcr_expect out;
	struct span s = { data, size, 0 };
	uint8_t x[32] = { 0x5a }, digest[32];
	struct si_tcglog_update u = { x, x, x };
	struct si_diag d;
	int n = si_tcglog_parse(data, size, check, &s, &d);

	if (n >= 0) {
		if (si_tcglog_replay(data, size, NULL, &out, &d) != 0 || out.mask != s.extended)
			abort();
		(void)si_tcglog_replay(data, size, &u, &out, &d);
	} else if (si_tcglog_replay(data, size, NULL, &out, &d) == 0) {
		abort();
	}
	(void)si_pe_authenticode(data, size, digest, &d);
	return 0;
}
