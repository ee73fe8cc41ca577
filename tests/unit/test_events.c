/* SPDX-License-Identifier: MIT */
/* The boot's measurements (core/events.c): the event strings, the words a
 * volatile list leaves out (and those it may not), the replay against a
 * digest chain computed by hand, and the CEL-JSON record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"

static void test_cmdline_words(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(si_cmdline_measured("  console=ttyAMA0\t root=/dev/vda  ro\n", "", out,
					     sizeof(out)), 0);
	assert_string_equal(out, "console=ttyAMA0 root=/dev/vda ro");
	/* L4T's per-boot profiling pointers are left out; the rest stays,
	 * in order, including a key that only starts like a volatile one. */
	assert_int_equal(si_cmdline_measured("a=1 bl_prof_dataptr=2031616@0x271E10000 b "
					     "bl_prof_dataptr_x=1 bl_prof_ro_ptr=65536@0x1 c=3",
					     "bl_prof_dataptr, bl_prof_ro_ptr", out, sizeof(out)), 0);
	assert_string_equal(out, "a=1 b bl_prof_dataptr_x=1 c=3");
	/* Control: with no list, every word is measured. */
	assert_int_equal(si_cmdline_measured("a=1 bl_prof_ro_ptr=2", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "a=1 bl_prof_ro_ptr=2");
	assert_int_equal(si_cmdline_measured("abcdef", "", out, 6), -E2BIG);
	assert_int_equal(si_cmdline_measured("abcde", "", out, 6), 0);
}

static void test_volatile_refused(void **state)
{
	(void)state;
	assert_non_null(si_cmdline_volatile_refused("init"));
	assert_non_null(si_cmdline_volatile_refused("rdinit"));
	assert_non_null(si_cmdline_volatile_refused("roothash"));
	assert_non_null(si_cmdline_volatile_refused("sealinit.pcrs"));
	assert_null(si_cmdline_volatile_refused("bl_prof_dataptr"));
	assert_null(si_cmdline_volatile_refused("quiet"));
}

static void test_cmdline_check(void **state)
{
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_cmdline_check("console=ttyS0 root=/dev/vda", "console=ttyS0  root=/dev/vda\n",
					  "", &d), 0);
	assert_int_equal(si_cmdline_check("a b", "a bl_prof_dataptr=1 b", "bl_prof_dataptr", &d), 0);
	assert_int_equal(si_cmdline_check("a b", "a init=/bin/sh b", "", &d), -EPERM);
	assert_non_null(strstr(d.msg, "`init=/bin/sh' where `b' was expected"));
	assert_int_equal(si_cmdline_check("a b", "a b systemd.run=/bin/sh", "", &d), -EPERM);
	assert_non_null(strstr(d.msg, "`systemd.run=/bin/sh' was not expected"));
	assert_int_equal(si_cmdline_check("a b", "a", "", &d), -EPERM);
	assert_non_null(strstr(d.msg, "lacks `b'"));
}

static void test_cmdline_too_long(void **state)
{
	static char big[2100];
	struct si_event e;
	struct si_diag d = { { 0 } };

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(si_event_cmdline(&e, 15, big, "", &d), -E2BIG);
	assert_non_null(strstr(d.msg, "longer than"));
	/* Control: the largest that fits. */
	big[SI_EVENT_MAX - strlen("sealinit:cmdline:")] = '\0';
	assert_int_equal(si_event_cmdline(&e, 15, big, "", &d), 0);
	assert_int_equal(strlen(e.text), SI_EVENT_MAX);
}

static void test_event_strings(void **state)
{
	uint8_t dig[SI_SHA256_SIZE];
	struct si_event e;

	(void)state;
	si_event_verity(&e, 15, "ABCdef01");
	assert_string_equal(e.text, "sealinit:verity:abcdef01");
	assert_int_equal(e.pcr, 15);
	memset(dig, 0xab, sizeof(dig));
	si_event_init(&e, 15, "/sbin/init", dig);
	assert_string_equal(e.text, "sealinit:init:/sbin/init:"
			    "abababababababababababababababababababababababababababababababab");
	si_event_image(&e, 14, dig);
	assert_int_equal(e.pcr, 14);
	assert_non_null(strstr(e.text, "sealinit:image:abab"));
}

/* The config event follows every key, and only the configuration. */
static void test_config_event(void **state)
{
	struct si_bootcfg a, b;
	struct si_event ea, eb;
	struct si_diag d = { { 0 } };

	(void)state;
	si_bootcfg_defaults(&a);
	si_bootcfg_defaults(&b);
	assert_int_equal(si_event_config(&ea, 15, &a, &d), 0);
	assert_int_equal(si_event_config(&eb, 15, &b, &d), 0);
	assert_string_equal(ea.text, eb.text);
	assert_int_equal(strncmp(ea.text, "sealinit:config:", 16), 0);
	assert_int_equal(strlen(ea.text), 16 + 64);
	snprintf(b.tcti, sizeof(b.tcti), "swtpm:port=2321");
	assert_int_equal(si_event_config(&eb, 15, &b, &d), 0);
	assert_string_not_equal(ea.text, eb.text);
}

static void hexval(const uint8_t *v, char *out)
{
	si_hex_encode(out, v, SI_SHA256_SIZE);
}

static void test_replay(void **state)
{
	struct si_event ev[3];
	uint8_t v[SI_SHA256_SIZE], h[2 * SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1], want[2 * SI_SHA256_SIZE + 1];

	(void)state;
	si_event_string(&ev[0], 15, "a");
	si_event_string(&ev[1], 7, "other PCR");
	si_event_string(&ev[2], 15, "b");
	/* By hand: v = H(0^32 || H("a")); v = H(v || H("b")). */
	memset(h, 0, sizeof(h));
	si_sha256("a", 1, h + SI_SHA256_SIZE);
	si_sha256(h, sizeof(h), h);
	si_sha256("b", 1, h + SI_SHA256_SIZE);
	si_sha256(h, sizeof(h), v);
	hexval(v, want);
	si_events_replay(ev, 3, 15, NULL, v);
	hexval(v, hex);
	assert_string_equal(hex, want);
	/* The well-known value of PCR 15 after `sealinit:cap' alone. */
	si_event_string(&ev[0], 15, "sealinit:cap");
	si_events_replay(ev, 1, 15, NULL, v);
	memset(h, 0, sizeof(h));
	si_sha256("sealinit:cap", 12, h + SI_SHA256_SIZE);
	si_sha256(h, sizeof(h), h);
	assert_memory_equal(v, h, SI_SHA256_SIZE);
	/* A PCR no event targets stays at its initial value. */
	si_events_replay(ev, 1, 9, h, v);
	assert_memory_equal(v, h, SI_SHA256_SIZE);
}

static void test_cel(void **state)
{
	struct si_event e;
	char buf[8192], hex[2 * SI_SHA256_SIZE + 1], want[512];
	uint8_t dig[SI_SHA256_SIZE];
	int n;

	(void)state;
	si_event_string(&e, 15, "sealinit:cmdline:a=\"b\" c\\d\x01");
	n = si_event_cel(&e, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(buf[0], 0x1e);
	assert_int_equal(buf[n - 1], '\n');
	si_sha256(e.text, strlen(e.text), dig);
	si_hex_encode(hex, dig, sizeof(dig));
	snprintf(want, sizeof(want),
		 "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
		 "\"content_type\":\"systemd\",\"content\":{\"string\":"
		 "\"sealinit:cmdline:a=\\\"b\\\" c\\\\d\\u0001\"}}\n", hex);
	assert_string_equal(buf, want);
	assert_int_equal(si_event_cel(&e, buf, 40), -ENOSPC);
}

static struct si_event_record got[4];
static int n_got;

static void collect(void *ctx, const struct si_event_record *r)
{
	(void)ctx;
	if (n_got < 4)
		got[n_got++] = *r;
}

/* What a log record is, by its digest: the cap whatever its label, and a
 * sealinit event whose digest is not its string's marked forged; a record
 * of another writer (a volume's HMAC) is neither. */
static void test_record_flags(void **state)
{
	struct si_event cap, ev;
	char log[8192], rec[2048];
	uint8_t dig[SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1];
	size_t len = 0;

	(void)state;
	si_event_string(&ev, 15, "sealinit:verity:abcd");
	si_event_string(&cap, 15, "sealinit:cap");
	len += (size_t)si_event_cel(&ev, log + len, sizeof(log) - len);
	len += (size_t)si_event_cel(&cap, log + len, sizeof(log) - len);
	/* The cap's digest under another sealinit label, and a foreign
	 * record whose digest is no string's. */
	si_sha256("sealinit:cap", 12, dig);
	si_hex_encode(hex, dig, sizeof(dig));
	assert_true(si_cel_record(15, hex, "sealinit:init:/sbin/init:00", rec, sizeof(rec)) > 0);
	memcpy(log + len, rec, strlen(rec) + 1);
	len += strlen(rec);
	assert_true(si_cel_record(15, hex, "cryptsetup:sealdata:uuid", rec, sizeof(rec)) > 0);
	memcpy(log + len, rec, strlen(rec) + 1);
	len += strlen(rec);
	n_got = 0;
	assert_int_equal(si_eventlog_parse(log, len, collect, NULL, NULL), 4);
	assert_false(got[0].cap);
	assert_false(got[0].forged);
	assert_true(got[1].cap);
	assert_false(got[1].forged);
	assert_true(got[2].cap);
	assert_true(got[2].forged);
	assert_true(got[3].cap);
	assert_false(got[3].forged);
}

/* A log replayed on top of the firmware's values: a PCR with a start value
 * and a cap replays to H(H(start, e), cap), its state before the cap is
 * H(start, e); a PCR without one starts at zero; the cap by its digest. */
static void test_log_replay(void **state)
{
	static struct si_log_replay lr;
	static struct si_pcr_expect fw;
	struct si_event e, cap;
	char log[2048];
	uint8_t want[SI_SHA256_SIZE];
	size_t len = 0;
	int n;

	(void)state;
	memset(&fw, 0, sizeof(fw));
	fw.mask = UINT32_C(1) << 4;
	memset(fw.sha256[4], 0xab, SI_SHA256_SIZE);
	si_event_string(&cap, 4, SI_CAP_EVENT);
	n = si_event_cel(&cap, log + len, sizeof(log) - len);
	assert_true(n > 0);
	len += (size_t)n;
	si_event_string(&e, 15, "sealinit:cmdline:quiet");
	n = si_event_cel(&e, log + len, sizeof(log) - len);
	len += (size_t)n;
	si_event_string(&cap, 15, SI_CAP_EVENT);
	n = si_event_cel(&cap, log + len, sizeof(log) - len);
	len += (size_t)n;
	assert_int_equal(si_eventlog_replay(log, len, &fw, &lr, NULL), 3);
	assert_int_equal(lr.seen, (UINT32_C(1) << 4) | (UINT32_C(1) << 15));
	assert_int_equal(lr.capped, lr.seen);
	assert_int_equal(lr.last_cap, lr.seen);
	assert_int_equal(lr.bad, 0);
	/* PCR 4: from the firmware's value; before its cap, that value. */
	memset(want, 0xab, sizeof(want));
	assert_memory_equal(lr.before_cap[4], want, SI_SHA256_SIZE);
	si_event_string(&cap, 4, SI_CAP_EVENT);
	si_event_extend(want, &cap);
	assert_memory_equal(lr.full[4], want, SI_SHA256_SIZE);
	/* PCR 15: from zero. */
	si_events_replay(&e, 1, 15, NULL, want);
	assert_memory_equal(lr.before_cap[15], want, SI_SHA256_SIZE);
	si_event_string(&cap, 15, SI_CAP_EVENT);
	si_event_extend(want, &cap);
	assert_memory_equal(lr.full[15], want, SI_SHA256_SIZE);
	/* Without the firmware's value, PCR 4 starts at zero: another value. */
	assert_int_equal(si_eventlog_replay(log, len, NULL, &lr, NULL), 3);
	memset(want, 0xab, sizeof(want));
	assert_memory_not_equal(lr.before_cap[4], want, SI_SHA256_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_words),
		cmocka_unit_test(test_volatile_refused),
		cmocka_unit_test(test_cmdline_check),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_event_strings),
		cmocka_unit_test(test_config_event),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_cel),
		cmocka_unit_test(test_record_flags),
		cmocka_unit_test(test_log_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
