/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the legacy credentials file parser. Its output goes
 * into the login request, so on success both fields must be 1-512 bytes
 * with no control character; on failure the caller gets a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/legacy/client.h"

#define MAX 4096

static void check_field(const char *f)
{
	const char *nul = memchr(f, '\0', SI_LEGACY_TOKEN_MAX + 1);
	size_t n;

	if (!nul)
		__builtin_trap();
	n = (size_t)(nul - f);
	if (n < 1 || n > SI_LEGACY_TOKEN_MAX)
		__builtin_trap();
	for (; *f; f++)
		if ((unsigned char)*f < 0x20 || *f == 0x7f)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[MAX + 1];
	static struct si_legacy_creds_buf c;
	struct si_diag d = { { 0 } };
	int r;

	if (size > MAX)
		return 0;
	memcpy(text, data, size);
	memset(&c, 0, sizeof(c));
	r = si_legacy_parse_creds(text, size, "fuzz", &c, &d);
	if (r != 0) {
		if (r != -SI_ECREDS || !d.msg[0])
			__builtin_trap();
		return 0;
	}
	/* A NUL in the input is refused, never a silent end of the file. */
	if (memchr(data, '\0', size))
		__builtin_trap();
	check_field(c.email);
	check_field(c.password);
	return 0;
}
