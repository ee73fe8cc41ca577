/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what sealinit reads back of its own measurements, from
 * files an attacker on the booted system can write: the CEL-JSON event
 * log (status, reseal) and the pcrN=HEX file of --expect. A record the
 * parser accepts must name a PCR 0-23, and an accepted --expect file only
 * PCRs in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/events.h"
#include "core/pcrs.h"

static void check(void *ctx, const struct si_event_record *r)
{
	(void)ctx;
	if (r->pcr > 23 || strlen(r->digest) > 64 || strlen(r->string) > SI_EVENT_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[65536];
	struct si_pcr_expect e;
	struct si_diag d;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)si_eventlog_parse((const char *)data, size, check, NULL, &d);
	if (si_pcr_expect_parse(text, &e, &d) == 0 && e.mask >> 24)
		abort();
	return 0;
}
