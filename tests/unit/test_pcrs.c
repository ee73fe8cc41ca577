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

/* A table of texts a values parser must refuse, each with a message naming
 * why. */
struct refusal {
	const char *text, *msg;
};

static void refused_by(int (*parse)(const char *, struct si_pcr_expect *, struct si_diag *),
		       const struct refusal *bad, size_t n)
{
	struct si_pcr_expect e;
	struct si_diag d;
	size_t i;

	for (i = 0; i < n; i++) {
		d.msg[0] = '\0';
		if (parse(bad[i].text, &e, &d) != -EINVAL)
			fail_msg("accepted `%s'", bad[i].text);
		if (!strstr(d.msg, bad[i].msg))
			fail_msg("`%s': message `%s' lacks `%s'", bad[i].text, d.msg, bad[i].msg);
	}
}

/* predict's output is an --expect file as it stands; anything else is
 * refused by line. */
static void test_expect_parse(void **state)
{
	static const char predicted[] =
		"15 sealinit:cmdline:console=ttyS0\n"
		"15 sealinit:config:00\n"
		"pcr15=00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n"
		"pcr15-capped=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
		"policy=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n"
		"# a comment\n\n"
		"pcr7=0000000000000000000000000000000000000000000000000000000000000001\r\n";
	static const struct refusal bad[] = {
		{ "pcr15=00\n", "line 1: pcr15: 64 hex digits" },
		{ "pcr24=0000000000000000000000000000000000000000000000000000000000000000\n",
		  "a PCR number 0-23" },
		{ "pcrx=0000000000000000000000000000000000000000000000000000000000000000\n",
		  "a PCR number 0-23" },
		{ "pcr7=0000000000000000000000000000000000000000000000000000000000000000\n"
		  "pcr7=0000000000000000000000000000000000000000000000000000000000000000\n",
		  "line 2: PCR 7 given twice" },
		{ "sha256:15 0000\n", "line 1: expected pcrN=HEX" },
		{ "pcr15=000000000000000000000000000000000000000000000000000000000000000g\n",
		  "64 hex digits" },
	};
	struct si_pcr_expect e;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_pcr_expect_parse(predicted, &e, &d), 0);
	assert_int_equal(e.mask, (1u << 15) | (1u << 7));
	assert_int_equal(e.sha256[15][0], 0x00);
	assert_int_equal(e.sha256[15][1], 0x11);
	assert_int_equal(e.sha256[15][31], 0xff);
	assert_int_equal(e.sha256[7][31], 0x01);
	assert_int_equal(si_pcr_expect_parse("# only a comment\n", &e, &d), 0);
	assert_int_equal(e.mask, 0);
	refused_by(si_pcr_expect_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

/* A device's read-out: predict's lines and pcrread's, which --expect
 * refuses (above). */
/* A token must bind at least one capped PCR: the table holds the refused
 * (PCR 7 alone under a cap of 15, systemd-cryptenroll's default) beside the
 * accepted (any overlap). */
static void test_check_capped(void **state)
{
	static const struct { uint32_t mask, cap; int r; } cases[] = {
		{ 1u << 7, 1u << 15, -EINVAL },
		{ 0, 1u << 15, -EINVAL },
		{ 1u << 4 | 1u << 7 | 1u << 9, 1u << 15, -EINVAL },
		{ 1u << 15, 1u << 15, 0 },
		{ 1u << 7 | 1u << 15, 1u << 15, 0 },
		{ 1u << 7, 1u << 4 | 1u << 7 | 1u << 9 | 1u << 15, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct si_diag d = { { 0 } };

		assert_int_equal(si_pcrs_check_capped(cases[i].mask, cases[i].cap, &d), cases[i].r);
		if (cases[i].r)
			assert_non_null(strstr(d.msg, "none of them is capped"));
	}
}

static void test_readout_parse(void **state)
{
	static const char readout[] =
		"sha256:4  00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		"sha256:15 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
		"pcr9=0000000000000000000000000000000000000000000000000000000000000009\n";
	static const struct refusal bad[] = {
		{ "sha1:4  0011223344556677889900112233445566778899\n", "line 1: `sha1': only sha256" },
		{ "sha256:24 0000000000000000000000000000000000000000000000000000000000000000\n",
		  "a PCR number 0-23" },
		{ "sha256: 0000000000000000000000000000000000000000000000000000000000000000\n",
		  "a PCR number 0-23" },
		{ "sha256:4 00\n", "line 1: pcr4: 64 hex digits" },
		{ "sha256:4 0000000000000000000000000000000000000000000000000000000000000000\n"
		  "pcr4=0000000000000000000000000000000000000000000000000000000000000000\n",
		  "line 2: PCR 4 given twice" },
	};
	struct si_pcr_expect e;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_pcr_readout_parse(readout, &e, &d), 0);
	assert_int_equal(e.mask, (1u << 4) | (1u << 9) | (1u << 15));
	assert_int_equal(e.sha256[4][1], 0x11);
	assert_int_equal(e.sha256[9][31], 0x09);
	assert_int_equal(e.sha256[15][0], 0xff);
	refused_by(si_pcr_readout_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_all_pcrs_format),
		cmocka_unit_test(test_banks),
		cmocka_unit_test(test_expect_parse),
		cmocka_unit_test(test_readout_parse),
		cmocka_unit_test(test_check_capped),
	};
	return cmocka_run_group_tests_name("pcrs", tests, NULL, NULL);
}
