/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/failrec.h"

static const char good[] =
	"sealinit-failure 1\n"
	"consecutive=3\n"
	"failures=17\n"
	"time=1733500000\n"
	"uptime_ms=4321\n"
	"policy=reboot\n"
	"version=0.1\n"
	"failed=data device /dev/vdb did not appear within 3000 ms\n";

static void test_parse_good(void **state)
{
	struct si_failrec r;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_failrec_parse(good, strlen(good), &r, &d), 0);
	assert_int_equal(r.consecutive, 3);
	assert_int_equal(r.failures, 17);
	assert_int_equal(r.time, 1733500000);
	assert_int_equal(r.uptime_ms, 4321);
	assert_string_equal(r.policy, "reboot");
	assert_string_equal(r.version, "0.1");
	assert_string_equal(r.failed, "data device /dev/vdb did not appear within 3000 ms");
	/* No final newline is the same record. */
	assert_int_equal(si_failrec_parse(good, strlen(good) - 1, &r, &d), 0);
}

/* The record round-trips, and a hostile FAILED line is stored escaped, on
 * one line: the next boot and `last-failure' print it as it is. */
static void test_roundtrip(void **state)
{
	struct si_failrec r = { .consecutive = 1, .failures = 1, .time = 0, .uptime_ms = 99,
				.policy = "poweroff", .version = "0.1" }, back;
	struct si_diag d = { { 0 } };
	char text[SI_FAILREC_MAX + 1];
	int n;

	(void)state;
	snprintf(r.failed, sizeof(r.failed), "config: `x\nFAILED: forged\x1b[1A'");
	n = si_failrec_format(&r, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "failed=config: `x\\x0aFAILED: forged\\x1b[1A'\n"));
	assert_int_equal(si_failrec_parse(text, (size_t)n, &back, &d), 0);
	assert_string_equal(back.failed, "config: `x\\x0aFAILED: forged\\x1b[1A'");
	assert_int_equal(back.uptime_ms, 99);
	assert_string_equal(back.policy, "poweroff");
	/* The longest message is cut to fit, marked, and still parses. */
	memset(r.failed, '\x1b', sizeof(r.failed) - 1);
	r.failed[sizeof(r.failed) - 1] = '\0';
	n = si_failrec_format(&r, text, sizeof(text));
	assert_true(n > 0 && n <= SI_FAILREC_MAX);
	assert_int_equal(si_failrec_parse(text, (size_t)n, &back, &d), 0);
	assert_non_null(strstr(back.failed, "\\x1b..."));
}

/* Each malformed record is refused, naming the line or the key. */
static void test_parse_bad(void **state)
{
	static const struct { const char *from, *to, *diag; } t[] = {
		{ "sealinit-failure 1", "sealinit-failure 2", "does not start with" },
		{ "consecutive=3", "consecutive=-3", "bad consecutive value" },
		{ "consecutive=3", "consecutive=03", "bad consecutive value" },
		{ "consecutive=3", "consecutive=4294967296", "bad consecutive value" },
		{ "time=1733500000", "time=17335x", "bad time value" },
		{ "policy=reboot", "policy=explode", "bad policy value" },
		{ "version=0.1", "version=0 1", "bad version value" },
		{ "failed=data", "failed=\x1b[2Jdata", "bad failed value" },
		{ "failed=data", "failed=\xff" "data", "bad failed value" },
		{ "uptime_ms=4321\n", "", "no `uptime_ms' line" },
		{ "policy=reboot", "policy=reboot\npolicy=halt", "`policy' given twice" },
		{ "version=0.1", "colour=red", "expected KEY=VALUE" },
		{ "version=0.1", "version", "expected KEY=VALUE" },
	};
	char text[2048];
	struct si_failrec r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct si_diag d = { { 0 } };
		const char *at = strstr(good, t[i].from);

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, t[i].to,
			 at + strlen(t[i].from));
		assert_int_equal(si_failrec_parse(text, strlen(text), &r, &d), -EINVAL);
		if (!strstr(d.msg, t[i].diag))
			fail_msg("case %zu: diag `%s' lacks `%s'", i, d.msg, t[i].diag);
	}
	/* Too long, and a NUL inside. */
	{
		struct si_diag d = { { 0 } };
		char big[SI_FAILREC_MAX + 2];

		memset(big, 'a', sizeof(big));
		memcpy(big, good, strlen(good));
		assert_int_equal(si_failrec_parse(big, sizeof(big), &r, &d), -EINVAL);
		memcpy(text, good, sizeof(good));
		text[strlen(good) - 5] = '\0';
		assert_int_equal(si_failrec_parse(text, strlen(good), &r, &d), -EINVAL);
	}
}

/* The backoff of a reboot loop: doubling, capped at an hour, never
 * shorter than failure_delay, nothing for failure_delay=0. */
static void test_delay(void **state)
{
	static const struct { int base; uint32_t n; int want; } t[] = {
		{ 30, 1, 30 }, { 30, 2, 60 }, { 30, 3, 120 }, { 30, 7, 1920 }, { 30, 8, 3600 },
		{ 30, 9, 3600 }, { 30, UINT32_MAX, 3600 }, { 0, 5, 0 }, { 10, 0, 10 },
		{ 5000, 3, 5000 }, { 1, 13, 3600 }, { 1, 12, 2048 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (si_failrec_delay(t[i].base, t[i].n) != t[i].want)
			fail_msg("delay(%d, %u) = %d, want %d", t[i].base, t[i].n,
				 si_failrec_delay(t[i].base, t[i].n), t[i].want);
}

static void test_next(void **state)
{
	struct si_failrec prev = { .consecutive = 0, .failures = 4 }, next;

	(void)state;
	si_failrec_next(NULL, &next);
	assert_int_equal(next.consecutive, 1);
	assert_int_equal(next.failures, 1);
	si_failrec_next(&prev, &next);
	assert_int_equal(next.consecutive, 1);
	assert_int_equal(next.failures, 5);
	prev.consecutive = prev.failures = UINT32_MAX;
	si_failrec_next(&prev, &next);
	assert_int_equal(next.consecutive, UINT32_MAX);
	assert_int_equal(next.failures, UINT32_MAX);
}

/* The efivarfs layout on a plain file: 4 bytes of attributes, then the
 * text; read back, replaced, cleared. */
static void test_file(void **state)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[4096], path[4352];
	struct si_failrec r = { .consecutive = 2, .failures = 2, .policy = "reboot",
				.version = "0.1", .failed = "no TPM" }, back;
	struct si_diag d = { { 0 } };
	uint8_t head[4];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sealinit-failrec.XXXXXX", tmp);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/" SI_FAILREC_VAR, dir);
	assert_int_equal(si_failrec_read(path, &back, &d), -ENOENT);
	assert_int_equal(si_failrec_clear(path, &d), -ENOENT);
	assert_int_equal(si_failrec_write(path, &r, &d), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, head, 4), 4);
	close(fd);
	assert_memory_equal(head, "\x07\0\0\0", 4);
	assert_int_equal(si_failrec_read(path, &back, &d), 0);
	assert_int_equal(back.consecutive, 2);
	assert_string_equal(back.failed, "no TPM");
	r.consecutive = 0;
	assert_int_equal(si_failrec_write(path, &r, &d), 0);
	assert_int_equal(si_failrec_read(path, &back, &d), 0);
	assert_int_equal(back.consecutive, 0);
	assert_int_equal(si_failrec_clear(path, &d), 0);
	assert_int_equal(si_failrec_read(path, &back, &d), -ENOENT);
	/* Attributes alone, no record: refused by name. */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, head, 4), 4);
	close(fd);
	assert_int_equal(si_failrec_read(path, &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "does not start with"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
