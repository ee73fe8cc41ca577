/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"

/* RFC 4648 section 10 */
static void test_rfc4648(void **state)
{
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		char enc[16];
		uint8_t dec[16];

		si_b64_encode(enc, (const uint8_t *)in[i], strlen(in[i]));
		assert_string_equal(enc, out[i]);
		assert_int_equal(si_b64_decode(dec, sizeof(dec), out[i]), (long)strlen(in[i]));
		assert_memory_equal(dec, in[i], strlen(in[i]));
	}
}

/* The branch-free encoder against a plain table, on every 6-bit value. */
static void test_every_symbol(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t bytes[3 * 64], back[3 * 64];
	char enc[SI_B64_LEN(sizeof(bytes)) + 1];
	size_t i;

	(void)state;
	/* Four symbols per 3 bytes; make symbol k of group k equal k. */
	for (i = 0; i < 64; i++) {
		unsigned int w = (unsigned int)i << 18 | (unsigned int)i << 12 | (unsigned int)i << 6 | (unsigned int)i;

		bytes[3 * i] = (uint8_t)(w >> 16);
		bytes[3 * i + 1] = (uint8_t)(w >> 8);
		bytes[3 * i + 2] = (uint8_t)w;
	}
	si_b64_encode(enc, bytes, sizeof(bytes));
	for (i = 0; i < 64; i++) {
		assert_int_equal(enc[4 * i], alphabet[i]);
		assert_int_equal(enc[4 * i + 3], alphabet[i]);
	}
	assert_int_equal(si_b64_decode(back, sizeof(back), enc), (long)sizeof(bytes));
	assert_memory_equal(back, bytes, sizeof(bytes));
}

static void test_decode_rejects(void **state)
{
	static const char *bad[] = { "Zg=", "Zg", "Z===", "Zm9v!", "Zm 9v", "Zg==Zg==", "Zh==",
				     "=Zg=", "Zm9\n" };
	uint8_t out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (si_b64_decode(out, sizeof(out), bad[i]) >= 0)
			fail_msg("accepted `%s'", bad[i]);
	assert_int_equal(si_b64_decode(out, 2, "Zm9v"), -ENOSPC);
}

static void test_hex(void **state)
{
	uint8_t out[4];
	char hex[9];

	(void)state;
	assert_int_equal(si_hex_decode(out, sizeof(out), "00ff7Fa0"), 4);
	si_hex_encode(hex, out, 4);
	assert_string_equal(hex, "00ff7fa0");
	assert_int_equal(si_hex_decode(out, sizeof(out), "0g"), -EINVAL);
	assert_int_equal(si_hex_decode(out, sizeof(out), "abc"), -EINVAL);
	assert_int_equal(si_hex_decode(out, sizeof(out), "0011223344"), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648),
		cmocka_unit_test(test_every_symbol),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
