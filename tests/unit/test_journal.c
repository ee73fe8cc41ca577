/* SPDX-License-Identifier: MIT */
/* core/journal.c: the migration journal token, which anyone with the disk
 * can write: strict on every field, and what it writes it reads back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/journal.h"

#define GOOD "{\"type\":\"sealinit-migration\",\"keyslots\":[],\"legacy_keyslot\":0," \
	     "\"legacy_salt\":\"c2FsdA==\",\"pending_keyslot\":-1,\"tpm2_keyslot\":1}"

static void test_roundtrip(void **state)
{
	struct si_migration_state a, b;
	struct si_diag d = { { 0 } };
	char buf[320];

	(void)state;
	assert_int_equal(si_migration_parse(GOOD, &a, &d), 0);
	assert_int_equal(a.token, -1);
	assert_int_equal(a.legacy_keyslot, 0);
	assert_int_equal(a.pending_keyslot, -1);
	assert_int_equal(a.tpm_keyslot, 1);
	assert_string_equal(a.legacy_salt, "c2FsdA==");
	assert_int_equal(si_migration_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, GOOD);
	assert_int_equal(si_migration_parse(buf, &b, &d), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(si_migration_format(&a, buf, 40), -ENOSPC);
}

static void test_refused(void **state)
{
	static const struct { const char *json, *field; } bad[] = {
		{ "[]", "JSON object" },
		{ "{\"legacy_keyslot\":-1,\"legacy_salt\":\"c2FsdA==\",\"pending_keyslot\":-1,"
		  "\"tpm2_keyslot\":-1}", "legacy_keyslot" },
		{ "{\"legacy_keyslot\":32,\"legacy_salt\":\"c2FsdA==\",\"pending_keyslot\":-1,"
		  "\"tpm2_keyslot\":-1}", "legacy_keyslot" },
		{ "{\"legacy_keyslot\":0,\"legacy_salt\":\"c2FsdA==\",\"pending_keyslot\":\"1\","
		  "\"tpm2_keyslot\":-1}", "pending_keyslot" },
		{ "{\"legacy_keyslot\":0,\"legacy_salt\":\"c2FsdA==\",\"pending_keyslot\":-1}",
		  "tpm2_keyslot" },
		/* A salt that would break out of the JSON it is written back into. */
		{ "{\"legacy_keyslot\":0,\"legacy_salt\":\"x\\\",\\\"tpm2_keyslot\\\":5\","
		  "\"pending_keyslot\":-1,\"tpm2_keyslot\":-1}", "legacy_salt" },
		{ "{\"legacy_keyslot\":0,\"legacy_salt\":\"\",\"pending_keyslot\":-1,"
		  "\"tpm2_keyslot\":-1}", "legacy_salt" },
		{ "{\"legacy_keyslot\":0,\"legacy_salt\":7,\"pending_keyslot\":-1,"
		  "\"tpm2_keyslot\":-1}", "legacy_salt" },
	};
	struct si_migration_state st;
	struct si_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(si_migration_parse(bad[i].json, &st, &d), -SI_EBADTOKEN);
		if (!strstr(d.msg, bad[i].field))
			fail_msg("case %zu: `%s' does not name %s", i, d.msg, bad[i].field);
		assert_int_equal(st.legacy_keyslot, -1);
		assert_int_equal(st.legacy_salt[0], 0);
	}
	/* Nor is such a salt ever written. */
	memset(&st, 0, sizeof(st));
	strcpy(st.legacy_salt, "a\"b");
	assert_int_equal(si_migration_format(&st, (char[320]){ 0 }, 320), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
