/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/escape.h"

#define S(x) x, sizeof(x) - 1

/* Known answers: what a header string becomes on a status line. */
static void test_table(void **state)
{
	static const struct { const char *in; size_t len; const char *out; } t[] = {
		/* Unchanged: the controls of the attack are absent. */
		{ S("systemd-tpm2"), "systemd-tpm2" },
		{ S("aes-xts-plain64"), "aes-xts-plain64" },
		{ S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		/* A forged status line and a terminal escape. */
		{ S("x\n  token 1: systemd-tpm2, ok"), "x\\x0a  token 1: systemd-tpm2, ok" },
		{ S("\x1b[2K\x1b[1Aok\r"), "\\x1b[2K\\x1b[1Aok\\x0d" },
		{ S("a\\x0a"), "a\\\\x0a" },
		{ S("\x7f\t"), "\\x7f\\x09" },
		/* C1 CSI (U+009B) as UTF-8, and as a bare byte. */
		{ S("\xc2\x9b" "2J"), "\\xc2\\x9b2J" },
		{ S("\x9b" "2J"), "\\x9b2J" },
		/* Not UTF-8: overlong, surrogate, past U+10FFFF, cut short. */
		{ S("\xc0\xaf"), "\\xc0\\xaf" },
		{ S("\xed\xa0\x80"), "\\xed\\xa0\\x80" },
		{ S("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80" },
		{ S("ab\xe2\x82"), "ab\\xe2\\x82" },
		{ S("a\0b"), "a\\x00b" },
	};
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(si_escape_mem(out, sizeof(out), t[i].in, t[i].len));
		assert_string_equal(out, t[i].out);
		/* Clean exactly when nothing but backslashes would change. */
		assert_int_equal(si_escape_clean(t[i].in, t[i].len),
				 !strcmp(t[i].in, t[i].out) || !strcmp(t[i].in, "a\\x0a"));
	}
}

/* A short buffer: never an escape or a UTF-8 sequence cut in two. */
static void test_truncation(void **state)
{
	char out[8];

	(void)state;
	assert_false(si_escape(out, sizeof(out), "ab\x1b\x1b"));
	assert_string_equal(out, "ab\\x1b");
	assert_false(si_escape(out, 6, "abc\xe2\x82\xac"));
	assert_string_equal(out, "abc");
	assert_true(si_escape(out, sizeof(out), "1234567"));
	assert_false(si_escape(out, sizeof(out), "12345678"));
	assert_string_equal(out, "1234567");
	assert_true(si_escape(out, 1, ""));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
