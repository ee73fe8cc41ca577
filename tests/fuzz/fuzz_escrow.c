/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the escrow document's parser (core/escrow.c), which
 * reads what a removable medium or the fleet server hands back. A
 * document it takes has every field in its syntax and a ciphertext of a
 * 2048-4096-bit key's length; one it refuses leaves the result zeroed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/escrow.h"
#include "../lib/testutil.h"

static int hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct si_escrow_doc doc;
	struct si_diag d = { { 0 } };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (si_escrow_parse(text, &doc, &d) == 0) {
		if (strlen(doc.uuid) != SI_ESCROW_UUID_LEN || !hex64(doc.volume_id) ||
		    !hex64(doc.key_fp) || doc.ciphertext_len < 256 || doc.ciphertext_len > 512)
			abort();
	} else if (!all_zero(&doc, sizeof(doc)) || !d.msg[0]) {
		abort();
	}
	free(text);
	return 0;
}
