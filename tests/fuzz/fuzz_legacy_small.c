/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the legacy small-part response parser. Its output sizes
 * a buffer and names the CDN URL fetched next, so on success every field
 * must be within its cap; on failure nothing may be left behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/legacy/client.h"
#include "../lib/testutil.h"

#define BIG_MAX (1024L * 1024)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_legacy_small out;
	struct si_diag d = { { 0 } };
	const char *nul;
	size_t n, i;
	int r;

	/* Not NUL-terminated: the parser must honour len. */
	memset(&out, 0xa5, sizeof(out));
	r = si_legacy_parse_small((const char *)data, size, BIG_MAX, &out, &d);
	if (r != 0) {
		/* The parser wipes the struct: no partial small part survives. */
		if ((r != -SI_EBADRESPONSE && r != -SI_EOVERSIZE) || !all_zero(&out, sizeof(out)) ||
		    !d.msg[0])
			__builtin_trap();
		return 0;
	}
	if (out.small_len < 1 || out.small_len > SI_LEGACY_SMALL_MAX)
		__builtin_trap();
	nul = memchr(out.big_url, '\0', sizeof(out.big_url));
	if (!nul || strncmp(out.big_url, "https://", 8) != 0)
		__builtin_trap();
	n = (size_t)(nul - out.big_url);
	for (i = 0; i < n; i++)
		if (out.big_url[i] < 0x21 || out.big_url[i] > 0x7e)
			__builtin_trap();
	if (out.big_size < 1 || out.big_size > BIG_MAX)
		__builtin_trap();
	return 0;
}
