/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the boot config file and kernel command line parsers.
 * Whatever parses must print and parse back to the same configuration. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bootcfg.h"
#include "core/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_bootcfg a, b;
	static char out[8192];
	struct si_diag d;
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	si_bootcfg_defaults(&a);
	if (si_bootcfg_parse_file(&a, text, &d) == 0 && si_bootcfg_parse_cmdline(&a, text, &d) == 0) {
		if (si_bootcfg_format(&a, out, sizeof(out)) != 0)
			abort();
		si_bootcfg_defaults(&b);
		if (si_bootcfg_parse_file(&b, out, &d) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
			abort();
	}
	si_bootcfg_defaults(&a);
	(void)si_bootcfg_parse_cmdline(&a, text, &d);
	free(text);
	return 0;
}
