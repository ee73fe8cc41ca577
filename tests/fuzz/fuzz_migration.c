/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the migration journal (the sealinit-migration token's
 * JSON, which anyone with the disk can write). On success every keyslot is
 * in range, the salt is base64, and what is parsed formats and parses back
 * the same;
 * on failure the state is the empty one and the reason is named. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct si_migration_state st;
	struct si_diag d = { { 0 } };
	char *json = malloc(size + 1);
	const char *nul, *p;
	int r;

	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	memset(&st, 0xa5, sizeof(st));
	r = si_migration_parse(json, &st, &d);
	free(json);
	if (st.token != -1)
		__builtin_trap();
	if (r != 0) {
		if (r != -SI_EBADTOKEN || !d.msg[0] || st.legacy_keyslot != -1 || st.legacy_salt[0])
			__builtin_trap();
		return 0;
	}
	if (st.legacy_keyslot < 0 || st.legacy_keyslot > 31 || st.pending_keyslot < -1 ||
	    st.pending_keyslot > 31 || st.tpm_keyslot < -1 || st.tpm_keyslot > 31)
		__builtin_trap();
	nul = memchr(st.legacy_salt, '\0', sizeof(st.legacy_salt));
	if (!nul || nul == st.legacy_salt)
		__builtin_trap();
	for (p = st.legacy_salt; p < nul; p++)
		if (!isalnum((unsigned char)*p) && !strchr("+/=", *p))
			__builtin_trap();
	/* What it parsed, it writes back, and that reads the same. */
	{
		struct si_migration_state again;
		char buf[320];

		if (si_migration_format(&st, buf, sizeof(buf)) != 0 ||
		    si_migration_parse(buf, &again, &d) != 0 ||
		    memcmp(&st, &again, sizeof(st)))
			__builtin_trap();
	}
	return 0;
}
