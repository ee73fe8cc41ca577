/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/pcrs.h"

static void test_valid(void **state)
{
	static const struct { const char *in; uint32_t mask; const char *out; } ok[] = {
		{ "", 0, "" },
		{ "7", 1u << 7, "7" },
		{ "7+16", 1u << 7 | 1u << 16, "7+16" },
		{ "7,16", 1u << 7 | 1u << 16, "7+16" },
		{ "16+7", 1u << 7 | 1u << 16, "7+16" },
		{ "0,1+2", 7, "0+1+2" },
		{ "23", 1u << 23, "23" },
		{ "07", 1u << 7, "7" },
		{ "15+15", 1u << 15, "15" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct si_diag d = { { 0 } };
		uint32_t mask = 0xdead;
		char buf[96];

		if (si_pcrs_parse(ok[i].in, &mask, &d) != 0)
			fail_msg("`%s' rejected: %s", ok[i].in, d.msg);
		assert_int_equal(mask, ok[i].mask);
		si_pcrs_format(mask, buf, sizeof(buf));
		assert_string_equal(buf, ok[i].out);
	}
}

static void test_invalid(void **state)
{
	static const char *bad[] = {
		"24", "100", "-1", "7+", "+7", "7++16", "7,,16", "a", "7 16", " 7",
		"7;16", "0x7", "1234", "7+16 ", "sha256:7", "0007",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct si_diag d = { { 0 } };
		uint32_t mask = 0;

		if (si_pcrs_parse(bad[i], &mask, &d) != -EINVAL)
			fail_msg("`%s' accepted as %#x", bad[i], mask);
		/* The message quotes the input, as the user typed it. */
		assert_non_null(strstr(d.msg, bad[i]));
	}
}

static void test_all_pcrs_format(void **state)
{
	char buf[96];

	(void)state;
	si_pcrs_format(SI_PCR_MASK_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "0+1+2+3+4+5+6+7+8+9+10+11+12+13+14+15+16+17+18+19+20+21+22+23");
}

static void test_banks(void **state)
{
	(void)state;
	assert_int_equal(si_bank_from_name("sha256"), 0x000B);
	assert_int_equal(si_bank_from_name("sha1"), 0x0004);
	assert_int_equal(si_bank_from_name("SHA256"), 0);
	assert_int_equal(si_bank_from_name("md5"), 0);
	assert_int_equal(si_bank_from_name(NULL), 0);
	assert_string_equal(si_bank_name(0x000C), "sha384");
	assert_null(si_bank_name(0x0012));
	assert_int_equal(si_bank_digest_size(0x000D), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_all_pcrs_format),
		cmocka_unit_test(test_banks),
	};
	return cmocka_run_group_tests_name("pcrs", tests, NULL, NULL);
}
