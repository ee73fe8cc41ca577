/* SPDX-License-Identifier: MIT */
/* What provisioning may format (core/provision.c, si_provision_verdict):
 * a blank partition, or its own copy cut before the secondary header was
 * whole; never anything with a signature or data. One row per state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/provision.h"

#define BLANK  0
#define RESUME SI_PROVISION_RESUME
#define NO     (-SI_ENOTBLANK)

static const struct row {
	const char *what;
	struct si_blank_facts f;
	int verdict;
} rows[] = {
	/* The controls. */
	{ "all zero, no signature", { .zero = true, .whole_area = true }, BLANK },
	{ "a small device, all zero", { .zero = true }, BLANK },
	{ "a cut copy: marker, keyslots, no header",
	  { .whole_area = true, .marker = true, .primary_zero = true }, RESUME },
	{ "a cut copy with a torn secondary header (LUKS magic, does not load)",
	  { .signatures = 1, .only_luks = true, .whole_area = true, .marker = true,
	    .primary_zero = true }, RESUME },
	/* The refusals. */
	{ "a signature beyond the header area (RAID metadata at the end)",
	  { .signatures = 1, .zero = true, .whole_area = true }, NO },
	{ "a LUKS magic on zeros", { .signatures = 1, .only_luks = true, .zero = true,
				     .whole_area = true }, NO },
	{ "data, no marker", { .whole_area = true, .primary_zero = true }, NO },
	{ "data, marker, something in the primary's place",
	  { .whole_area = true, .marker = true }, NO },
	{ "a secondary header that loads (a whole volume), marker",
	  { .signatures = 1, .only_luks = true, .whole_area = true, .marker = true,
	    .primary_zero = true, .luks_loads = true }, NO },
	{ "no signature, but a header loads",
	  { .whole_area = true, .marker = true, .primary_zero = true, .luks_loads = true }, NO },
	{ "marker beside a file system's signature",
	  { .signatures = 1, .whole_area = true, .marker = true, .primary_zero = true }, NO },
	{ "marker beside LUKS and another signature",
	  { .signatures = 2, .whole_area = true, .marker = true, .primary_zero = true }, NO },
	{ "a small device with data and a marker (no room for one)",
	  { .marker = true, .primary_zero = true }, NO },
};

static void test_verdicts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int v = si_provision_verdict(&rows[i].f);

		if (v != rows[i].verdict)
			fail_msg("%s: verdict %d, expected %d", rows[i].what, v, rows[i].verdict);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
