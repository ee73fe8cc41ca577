/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the legacy login response parser. The body comes from
 * the network; whatever it accepts goes into an Authorization header and
 * the key derivation, so it must be a clean, bounded token and salt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/legacy/client.h"
#include "core/legacy/crypto.h"
#include "../lib/testutil.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_legacy_login out;
	struct si_diag d = { { 0 } };
	const char *nul;
	size_t n, i;
	int r;

	/* Not NUL-terminated: the parser must honour len. */
	memset(&out, 0xa5, sizeof(out));
	r = si_legacy_parse_login((const char *)data, size, &out, &d);
	if (r != 0) {
		/* No partial result, and a reason for the message. */
		if (r != -SI_EBADRESPONSE || !all_zero(&out, sizeof(out)) || !d.msg[0])
			__builtin_trap();
		return 0;
	}
	nul = memchr(out.token, '\0', sizeof(out.token));
	if (!nul)
		__builtin_trap();
	n = (size_t)(nul - out.token);
	if (n < 1 || n > SI_LEGACY_TOKEN_MAX)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (out.token[i] < 0x21 || out.token[i] > 0x7e)
			__builtin_trap();
	nul = memchr(out.salt, '\0', sizeof(out.salt));
	if (!nul)
		__builtin_trap();
	n = (size_t)(nul - out.salt);
	if (n < 1 || n > SI_LEGACY_FIELD_MAX)
		__builtin_trap();
	return 0;
}
