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

#include "config.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"

static void test_cmdline_words(void **state)
{
	struct si_diag d = { { 0 } };
	char out[256];

	(void)state;
	assert_int_equal(si_cmdline_measured("  console=ttyAMA0\t root=/dev/vda  ro\n", "", out,
					     sizeof(out), &d), 0);
	assert_string_equal(out, "console=ttyAMA0 root=/dev/vda ro");
	/* L4T's per-boot profiling pointers are left out; the rest stays,
	 * in order, including a key that only starts like a volatile one. */
	assert_int_equal(si_cmdline_measured("a=1 bl_prof_dataptr=2031616@0x271E10000 b "
					     "bl_prof_dataptr_x=1 bl_prof_ro_ptr=65536@0x1 c=3",
					     "bl_prof_dataptr, bl_prof_ro_ptr", out, sizeof(out), &d), 0);
	assert_string_equal(out, "a=1 b bl_prof_dataptr_x=1 c=3");
	/* Control: with no list, every word is measured. */
	assert_int_equal(si_cmdline_measured("a=1 bl_prof_ro_ptr=2", NULL, out, sizeof(out), &d), 0);
	assert_string_equal(out, "a=1 bl_prof_ro_ptr=2");
	assert_int_equal(si_cmdline_measured("abcdef", "", out, 6, &d), -E2BIG);
	assert_int_equal(si_cmdline_measured("abcde", "", out, 6, &d), 0);
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

/*
 * The command line as the kernel splits it (lib/cmdline.c next_arg(), its
 * isspace() with 0xA0): a volatile word joined to a payload by a byte the
 * kernel or systemd splits on must not take the payload out of the
 * measurement with it. Each attack is refused, naming the byte and its
 * offset, or measured as the kernel sees it; the controls are ordinary
 * command lines, measured as before.
 */
static void test_cmdline_smuggling(void **state)
{
	static const struct { const char *cmdline, *expect; } refused[] = {
		/* The kernel splits, systemd does not: refused, by byte. */
		{ "a bl_prof_dataptr=1\vinit=/bin/sh", "byte 0x0b at offset 19" },
		{ "a bl_prof_dataptr=1\finit=/bin/sh", "byte 0x0c at offset 19" },
		{ "a bl_prof_dataptr=1\xa0init=/bin/sh", "byte 0xa0 at offset 19" },
		/* systemd unquotes '...' and reads escapes; the kernel does not. */
		{ "a bl_prof_dataptr='1 systemd.unit=rescue.target'", "byte 0x27 at offset 18" },
		{ "a bl_prof_dataptr=\\\"x systemd.unit=rescue.target", "byte 0x5c at offset 18" },
		{ "a bl_prof_dataptr=x\\ systemd.unit=rescue.target", "byte 0x5c at offset 19" },
		{ "a bl_prof_dataptr=x\\\\", "byte 0x5c at offset 19" },
		/* Kernel quotes: one word for the kernel and for systemd, but
		 * a word left out must not carry the payload with it. */
		{ "a bl_prof_dataptr=\"1 init=/bin/sh\"", "`bl_prof_dataptr=\"1 init=/bin/sh\"' at offset 2" },
		{ "a \"bl_prof_dataptr=1 init=/bin/sh\"", "a word left out of the measurement holds a quote" },
		{ "a bl_prof_dataptr=1\" init=/bin/sh", "a word left out of the measurement holds a quote" },
		{ "a sealinit.loglevel=\"7 init=/bin/sh\"", "a word left out of the measurement holds a quote" },
	};
	static const struct { const char *cmdline, *measured; } split[] = {
		/* CR, HT, LF: the kernel and systemd both split there. */
		{ "a bl_prof_dataptr=1\rinit=/bin/sh", "a init=/bin/sh" },
		{ "a bl_prof_dataptr=1\tinit=/bin/sh\n", "a init=/bin/sh" },
		{ "a bl_prof_dataptr=1\ninit=/bin/sh", "a init=/bin/sh" },
		/* Controls: what boot loaders pass, measured as before. */
		{ "console=ttyTCU0,115200 bl_prof_dataptr=2031616@0x271E10000 root=/dev/vda rw",
		  "console=ttyTCU0,115200 root=/dev/vda rw" },
		{ "initrd=\\EFI\\Linux\\initrd.img quiet", "initrd=\\EFI\\Linux\\initrd.img quiet" },
		/* Kernel quotes group a measured word, its spaces kept. */
		{ "dyndbg=\"file foo.c +p\"  quiet", "dyndbg=\"file foo.c +p\" quiet" },
		{ "a\"b c\" d", "a\"b c\" d" },
		{ "\"quiet\" bl_prof_ro_ptr=1", "\"quiet\"" },
	};
	struct si_diag d = { { 0 } };
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		d.msg[0] = '\0';
		if (si_cmdline_measured(refused[i].cmdline, "bl_prof_dataptr,bl_prof_ro_ptr", out,
					sizeof(out), &d) != -EINVAL)
			fail_msg("measured `%s' as `%s'", refused[i].cmdline, out);
		if (!strstr(d.msg, refused[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", refused[i].cmdline, d.msg,
				 refused[i].expect);
		/* The cmdline= check refuses it too, whatever was expected. */
		assert_int_equal(si_cmdline_check("a", refused[i].cmdline, "bl_prof_dataptr", &d), -EPERM);
	}
	for (i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		if (si_cmdline_measured(split[i].cmdline, "bl_prof_dataptr,bl_prof_ro_ptr", out,
					sizeof(out), &d) != 0)
			fail_msg("`%s': %s", split[i].cmdline, d.msg);
		assert_string_equal(out, split[i].measured);
	}
	/* The smuggled payload is compared too: cmdline= does not say it. */
	assert_int_equal(si_cmdline_check("a", "a bl_prof_dataptr=1\rinit=/bin/sh", "bl_prof_dataptr", &d),
			 -EPERM);
	assert_non_null(strstr(d.msg, "`init=/bin/sh' was not expected"));
	assert_int_equal(si_cmdline_check("a", "a bl_prof_dataptr=1", "bl_prof_dataptr", &d), 0);
}

struct word_list {
	char text[512];
};

static int collect_word(void *ctx, const struct si_cmdline_word *w)
{
	struct word_list *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "[%.*s|%.*s|%s%.*s]", (int)w->len, w->word,
		 (int)w->key_len, w->key, w->val ? "=" : "", w->val ? (int)w->val_len : 0,
		 w->val ? w->val : "");
	return 0;
}

/* The words, keys and values the kernel hands on (next_arg()). */
static void test_cmdline_kernel_words(void **state)
{
	static const struct { const char *cmdline, *words; } cases[] = {
		{ "  ro\t root=/dev/vda  ", "[ro|ro|][root=/dev/vda|root|=/dev/vda]" },
		{ "a=\"b c\" \"d=e\" \"f\"", "[a=\"b c\"|a|=b c][\"d=e\"|d|=e][\"f\"|f|]" },
		{ "=x y==z", "[=x|=x|][y==z|y|==z]" },
		{ "k=\"", "[k=\"|k|=]" },
		{ "x=\"a b", "[x=\"a b|x|=a b]" },
	};
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct word_list l = { "" };

		assert_int_equal(si_cmdline_words(cases[i].cmdline, collect_word, &l, &d), 0);
		assert_string_equal(l.text, cases[i].words);
	}
}

/*
 * Debugging a boot must not fail it: each key a locked-down command line
 * may ever set (verbosity, waits) leaves the measured command line and
 * the measured configuration as they were, from the table, key by key.
 * Beside it the control: any other key still changes both.
 */
static void test_unmeasured_keys(void **state)
{
	static const char *const values[] = { "7", "3", "600000" };
	static const char *const measured[] = { "sealinit.pcrs=7", "sealinit.tcti=swtpm:port=1",
						"sealinit.failure=reboot", "sealinit.pcr=14",
						"sealinit.legacy_timeout=9000" };
	struct si_bootcfg base, c;
	struct si_event eb, ec, cb, cc;
	struct si_diag d = { { 0 } };
	char word[96], cmdline[160], full_b[8192], full_c[8192];
	const char *key;
	size_t i, k;

	(void)state;
	si_bootcfg_defaults(&base);
	base.lockdown = false;
	assert_int_equal(si_event_config(&eb, 15, &base, &d), 0);
	assert_int_equal(si_event_cmdline(&cb, 15, "console=ttyS0 root=/dev/vda", "", &d), 0);
	assert_int_equal(si_bootcfg_format(&base, full_b, sizeof(full_b)), 0);
	for (i = 0; (key = si_bootcfg_unmeasured_key(i)); i++) {
		/* A value the key takes and that changes the configuration,
		 * so that an unchanged measurement means something. */
		for (k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
			c = base;
			snprintf(word, sizeof(word), "sealinit.%s=%s", key, values[k]);
			if (si_bootcfg_parse_cmdline(&c, word, &d) == 0 &&
			    si_bootcfg_format(&c, full_c, sizeof(full_c)) == 0 && strcmp(full_b, full_c))
				break;
		}
		if (k == sizeof(values) / sizeof(values[0]))
			fail_msg("sealinit.%s: no test value changes the configuration", key);
		assert_int_equal(si_event_config(&ec, 15, &c, &d), 0);
		if (strcmp(eb.text, ec.text))
			fail_msg("`%s' changed the measured configuration", word);
		snprintf(cmdline, sizeof(cmdline), "console=ttyS0 %s root=/dev/vda", word);
		assert_int_equal(si_event_cmdline(&cc, 15, cmdline, "", &d), 0);
		if (strcmp(cb.text, cc.text))
			fail_msg("`%s' changed the measured command line: `%s'", word, cc.text);
		/* It stays in what boot-config prints: left out of the
		 * measurement, not hidden. */
		assert_non_null(strstr(full_c, key));
	}
	assert_true(i >= 2);
	/* Controls: the keys outside the table are measured, both ways. */
	for (i = 0; i < sizeof(measured) / sizeof(measured[0]); i++) {
		c = base;
		if (si_bootcfg_parse_cmdline(&c, measured[i], &d) < 0)
			fail_msg("`%s': %s", measured[i], d.msg);
		assert_int_equal(si_event_config(&ec, 15, &c, &d), 0);
		if (!strcmp(eb.text, ec.text))
			fail_msg("`%s' left the measured configuration as it was", measured[i]);
		snprintf(cmdline, sizeof(cmdline), "console=ttyS0 %s root=/dev/vda", measured[i]);
		assert_int_equal(si_event_cmdline(&cc, 15, cmdline, "", &d), 0);
		if (!strcmp(cb.text, cc.text))
			fail_msg("`%s' left the measured command line as it was", measured[i]);
	}
	/* A key that only starts like one of them is measured. */
	assert_int_equal(si_event_cmdline(&cc, 15, "console=ttyS0 sealinit.loglevelx=7 root=/dev/vda",
					  "", &d), 0);
	assert_string_not_equal(cb.text, cc.text);
	assert_int_equal(si_event_cmdline(&cc, 15, "console=ttyS0 loglevel=7 root=/dev/vda", "", &d), 0);
	assert_string_not_equal(cb.text, cc.text);
}

/* The build's list of lockdown keys names only keys of the table. */
static void test_lockdown_keys_list(void **state)
{
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_bootcfg_lockdown_keys_check(CONFIG_LOCKDOWN_CMDLINE_KEYS, &d), 0);
	assert_int_equal(si_bootcfg_lockdown_keys_check("", &d), 0);
	assert_int_equal(si_bootcfg_lockdown_keys_check("loglevel  tpm_timeout net_timeout", &d), 0);
	assert_int_equal(si_bootcfg_lockdown_keys_check("loglevel pcrs", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "CONFIG_LOCKDOWN_CMDLINE_KEYS names `pcrs'"));
	assert_int_equal(si_bootcfg_lockdown_keys_check("recovery_timeout", &d), -EINVAL);
	assert_int_equal(si_bootcfg_lockdown_keys_check("loglevelx", &d), -EINVAL);
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
		cmocka_unit_test(test_cmdline_smuggling),
		cmocka_unit_test(test_cmdline_kernel_words),
		cmocka_unit_test(test_unmeasured_keys),
		cmocka_unit_test(test_lockdown_keys_list),
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
