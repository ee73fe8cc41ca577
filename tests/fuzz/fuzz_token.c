/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the token JSON parser, which reads LUKS2 headers that
 * an attacker with the disk can write. Anything it accepts must re-emit and
 * re-parse to the same token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_token a, b;
	struct si_diag d;
	char *json, *out = NULL;

	json = malloc(size + 1);
	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	if (si_token_parse(json, &a, &d) == 0) {
		if (si_token_format(&a, &out) != 0 || si_token_parse(out, &b, &d) != 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0)
			abort();
		free(out);
	}
	free(json);
	return 0;
}
