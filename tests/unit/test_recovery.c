/* SPDX-License-Identifier: MIT */
/* The recovery key's form (core/recovery.c): 32 bytes as systemd's modhex
 * recovery key (the expected strings were computed by hand from the
 * alphabet), a fresh key's shape, and what a person may type. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/recovery.h"

static const char KEY_0_31[] =
	"cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv";

static void test_format(void **state)
{
	uint8_t k[32];
	char out[SI_RECOVERY_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	si_recovery_format(k, out);
	assert_string_equal(out, KEY_0_31);
	memset(k, 0xff, sizeof(k));
	si_recovery_format(k, out);
	assert_string_equal(out, "vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv");
}

static void test_make(void **state)
{
	char a[SI_RECOVERY_LEN + 1], b[SI_RECOVERY_LEN + 1], n[SI_RECOVERY_LEN + 1];
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_recovery_make(a), 0);
	assert_int_equal(si_recovery_make(b), 0);
	assert_int_equal(strlen(a), SI_RECOVERY_LEN);
	assert_string_not_equal(a, b);
	/* A fresh key is already in its canonical form. */
	assert_int_equal(si_recovery_normalize(a, n, &d), 0);
	assert_string_equal(a, n);
}

static void test_typed(void **state)
{
	static const struct { const char *typed, *msg; } bad[] = {
		{ "cccbcdce", "64 characters, or 71 with its dashes; got 8" },
		{ "cccbcdce+cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv",
		  "character 9 of the recovery key should be `-'" },
		{ "cccbcdca-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv",
		  "character 8 of the recovery key (`a') is not one of cbdefghijklnrtuv" },
		{ "", "got 0" },
	};
	char n[SI_RECOVERY_LEN + 1];
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	/* As systemd reads it: with or without dashes, either case, and the
	 * newline of a typed line. */
	assert_int_equal(si_recovery_normalize(KEY_0_31, n, &d), 0);
	assert_string_equal(n, KEY_0_31);
	assert_int_equal(si_recovery_normalize("CCCBCDCECFCGCHCICJCKCLCNCRCTCUCVBCBBBDBEBFBGBHBIBJBKBLBNBRBTBUBV\r\n",
					       n, &d), 0);
	assert_string_equal(n, KEY_0_31);
	assert_int_equal(si_recovery_normalize("  cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv ",
					       n, &d), 0);
	assert_string_equal(n, KEY_0_31);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.msg[0] = '\0';
		if (si_recovery_normalize(bad[i].typed, n, &d) != -EINVAL)
			fail_msg("accepted `%s'", bad[i].typed);
		if (!strstr(d.msg, bad[i].msg))
			fail_msg("`%s': `%s' lacks `%s'", bad[i].typed, d.msg, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
