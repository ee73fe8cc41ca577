/* SPDX-License-Identifier: MIT */
/* The rollback counter's high-water mark (core/hwm.c): each refusal beside
 * the genuine case that passes. */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/hwm.h"

#define IDX 0x01805e00u

static char root[64];
static char file[128];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_hwm.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(file, sizeof(file), "%s/.sealinit/counter-0x01805e00", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *text, size_t len)
{
	char dir[96];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/.sealinit", root);
	mkdir(dir, 0700);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_parse(void **state)
{
	static const struct { const char *text; int r; uint64_t v; } t[] = {
		{ "0\n", 0, 0 },
		{ "7\n", 0, 7 },
		{ "9223372036854775807\n", 0, UINT64_C(9223372036854775807) },
		{ "9223372036854775808\n", -EBADMSG, 0 },   /* above INT64_MAX */
		{ "18446744073709551616\n", -EBADMSG, 0 },  /* too long */
		{ "7", -EBADMSG, 0 },                       /* cut: no newline */
		{ "", -EBADMSG, 0 },                        /* empty */
		{ "\n", -EBADMSG, 0 },
		{ "07\n", -EBADMSG, 0 },
		{ "-7\n", -EBADMSG, 0 },
		{ "+7\n", -EBADMSG, 0 },
		{ " 7\n", -EBADMSG, 0 },
		{ "7 \n", -EBADMSG, 0 },
		{ "7\n\n", -EBADMSG, 0 },
		{ "0x7\n", -EBADMSG, 0 },
		{ "7\r\n", -EBADMSG, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 12345;

		assert_int_equal(si_hwm_parse(t[i].text, strlen(t[i].text), &v), t[i].r);
		if (t[i].r == 0)
			assert_true(v == t[i].v);
		else
			assert_true(v == 12345);
	}
	/* A NUL inside is not a digit. */
	assert_int_equal(si_hwm_parse("7\0\n", 3, &(uint64_t){ 0 }), -EBADMSG);
}

static void test_verdict(void **state)
{
	(void)state;
	assert_int_equal(si_hwm_verdict(false, 0, 0), SI_HWM_RAISE);
	assert_int_equal(si_hwm_verdict(false, 9, 3), SI_HWM_RAISE);  /* mark unused */
	assert_int_equal(si_hwm_verdict(true, 5, 5), SI_HWM_KEEP);
	assert_int_equal(si_hwm_verdict(true, 5, 6), SI_HWM_RAISE);
	assert_int_equal(si_hwm_verdict(true, 5, 4), SI_HWM_ROLLBACK);
	assert_int_equal(si_hwm_verdict(true, UINT64_C(1) << 62, 0), SI_HWM_ROLLBACK);
}

static void test_path(void **state)
{
	char p[64];

	(void)state;
	si_hwm_path(IDX, p, sizeof(p));
	assert_string_equal(p, ".sealinit/counter-0x01805e00");
}

/* The first check writes the mark (mode 0600 in a 0700 directory), equal
 * keeps it, higher raises it; lower is the rollback, refused by name,
 * and the mark stays. */
static void test_check_sequence(void **state)
{
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	char dir[96];
	struct stat st;
	uint64_t v;

	(void)state;
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), -ENOENT);
	assert_int_equal(si_hwm_check(root, IDX, 3, &res, &d), 0);
	assert_false(res.had);
	assert_true(res.written);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 3);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/.sealinit", root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Equal: kept, not written. */
	assert_int_equal(si_hwm_check(root, IDX, 3, &res, &d), 0);
	assert_true(res.had && res.mark == 3 && !res.written);
	/* Higher: raised. */
	assert_int_equal(si_hwm_check(root, IDX, 4, &res, &d), 0);
	assert_true(res.had && res.mark == 3 && res.written);
	/* Lower: the rollback. */
	assert_int_equal(si_hwm_check(root, IDX, 3, &res, &d), -ESTALE);
	assert_true(res.had && res.mark == 4 && !res.written);
	assert_non_null(strstr(d.msg, "rollback counter 0x01805e00 is 3, below the 4"));
	assert_non_null(strstr(d.msg, "/.sealinit/counter-0x01805e00"));
	assert_non_null(strstr(d.msg, root));
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 4);
	/* Another counter has a mark of its own. */
	assert_int_equal(si_hwm_check(root, 0x01805e01u, 1, &res, &d), 0);
	assert_true(!res.had && res.written);
}

/* A damaged mark is refused by the check, quoted; the control (a good
 * file of the same value) passes. */
static void test_check_damaged(void **state)
{
	static const struct { const char *text; size_t len; const char *quoted; } t[] = {
		{ "", 0, "holds `' (0 bytes)" },
		{ "4", 1, "holds `4' (1 bytes)" },            /* a cut write */
		{ "4\0\0\0", 4, "holds `4\\x00\\x00\\x00'" },  /* NULs after a crash */
		{ "\xff\x13garbage\n", 10, "holds `\\xff\\x13garbage\\x0a'" },
		{ "123456789012345678901234567890\n", 31, "holds `12345678901234567890'..." },
	};
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		put(t[i].text, t[i].len);
		d.msg[0] = '\0';
		assert_int_equal(si_hwm_check(root, IDX, 4, &res, &d), -EBADMSG);
		assert_false(res.written);
		if (!strstr(d.msg, t[i].quoted))
			fail_msg("case %zu: '%s' does not quote %s", i, d.msg, t[i].quoted);
		assert_non_null(strstr(d.msg, "expected a counter value"));
	}
	put("4\n", 2);
	assert_int_equal(si_hwm_check(root, IDX, 4, &res, &d), 0);
	assert_true(res.had && res.mark == 4);
}

/* Not a regular file, or a link to one: refused, even when what the link
 * points at is a good mark. Control: the same content in place passes. */
static void test_check_not_a_file(void **state)
{
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	char target[128], dir[96];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/.sealinit", root);
	mkdir(dir, 0700);
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("9\n", f);
	fclose(f);
	assert_int_equal(symlink(target, file), 0);
	assert_int_equal(si_hwm_check(root, IDX, 9, &res, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "is a symbolic link"));
	unlink(file);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(si_hwm_check(root, IDX, 9, &res, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "is not a regular file"));
	rmdir(file);
	/* .sealinit itself a link: refused, not followed. */
	rmdir(dir);
	assert_int_equal(symlink(root, dir), 0);
	assert_int_equal(si_hwm_check(root, IDX, 9, &res, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "is not a directory"));
	unlink(dir);
	/* Control. */
	put("9\n", 2);
	assert_int_equal(si_hwm_check(root, IDX, 9, &res, &d), 0);
	assert_true(res.had && res.mark == 9 && !res.written);
}

/* A temporary file left by a power cut before the rename: the mark is the
 * old one, whole, and the next write replaces the leftover. */
static void test_power_cut_leftover(void **state)
{
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	char tmp[160];
	struct stat st;
	uint64_t v;
	FILE *f;

	(void)state;
	assert_int_equal(si_hwm_write(root, IDX, 5, &d), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("6", f);   /* cut mid-write */
	fclose(f);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 5);
	assert_int_equal(si_hwm_check(root, IDX, 6, &res, &d), 0);
	assert_true(res.written);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 6);
	assert_int_equal(stat(tmp, &st), -1);
}

/* revoke's raise: never lowers; replaces a damaged mark with the TPM's
 * value. */
static void test_raise(void **state)
{
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	uint64_t v;

	(void)state;
	assert_int_equal(si_hwm_raise(root, IDX, 5, &res, &d), 0);
	assert_true(!res.had && res.written);
	assert_int_equal(si_hwm_raise(root, IDX, 3, &res, &d), 0);
	assert_true(res.had && res.mark == 5 && !res.written);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 5);
	assert_int_equal(si_hwm_raise(root, IDX, 8, &res, &d), 0);
	assert_true(res.had && res.written);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 8);
	put("garbage\n", 8);
	assert_int_equal(si_hwm_raise(root, IDX, 9, &res, &d), 0);
	assert_true(!res.had && res.written);
	assert_int_equal(si_hwm_read(root, IDX, &v, &d), 0);
	assert_true(v == 9);
}

/* A volume where .sealinit cannot be made (read-only here by mode, for a
 * process without CAP_DAC_OVERRIDE): the write fails by name, never
 * silently. Control: the same with the directory writable. */
static void test_write_fails(void **state)
{
	struct si_diag d = { { 0 } };
	char sub[96];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/ro", root);
	assert_int_equal(mkdir(sub, 0500), 0);
	if (geteuid() != 0) {
		assert_true(si_hwm_write(sub, IDX, 1, &d) < 0);
		assert_non_null(strstr(d.msg, "creating .sealinit"));
	}
	/* A file where .sealinit should be: refused, not replaced. */
	snprintf(sub, sizeof(sub), "%s/.sealinit", root);
	fclose(fopen(sub, "w"));
	assert_int_equal(si_hwm_write(root, IDX, 1, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "is not a directory"));
	unlink(sub);
	assert_int_equal(si_hwm_write(root, IDX, 1, &d), 0);
}

/* No such volume root: named, not -ENOENT (which means "no mark"). */
static void test_bad_root(void **state)
{
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	char file_root[96];
	FILE *f;

	(void)state;
	snprintf(file_root, sizeof(file_root), "%s/plain", root);
	f = fopen(file_root, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(si_hwm_check(file_root, IDX, 1, &res, &d), -ENOTDIR);
	assert_non_null(strstr(d.msg, file_root));
	/* Control: the directory itself. */
	assert_int_equal(si_hwm_check(root, IDX, 1, &res, &d), 0);
}

/* The booted system finds the volume by its mount, as the boot made it. */
static void test_mounted(void **state)
{
	static const char info[] =
		"22 1 253:1 / / ro,relatime shared:1 - ext4 /dev/mapper/sealroot ro\n"
		"30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,mode=755\n"
		"41 22 253:2 / /var/lib/sealdata rw,nosuid,nodev shared:20 - ext4 /dev/mapper/sealdata rw\n"
		"45 22 0:40 / /mnt/with\\040space rw - tmpfs /dev/mapper/sealdata rw\n";
	static const char over[] =
		"41 22 253:2 / /var/lib/sealdata rw - ext4 /dev/mapper/sealdata rw\n"
		"50 41 0:41 / /var/lib/sealdata rw - tmpfs tmpfs rw";

	(void)state;
	assert_true(si_hwm_mounted(info, "/var/lib/sealdata", "/dev/mapper/sealdata"));
	assert_true(si_hwm_mounted(info, "/mnt/with space", "/dev/mapper/sealdata"));
	/* Another mapping there, no mount there, a prefix of a mount point. */
	assert_false(si_hwm_mounted(info, "/var/lib/sealdata", "/dev/mapper/other"));
	assert_false(si_hwm_mounted(info, "/var/lib/docker", "/dev/mapper/sealdata"));
	assert_false(si_hwm_mounted(info, "/var/lib", "/dev/mapper/sealdata"));
	/* Mounted over: the volume is hidden, its mark out of reach. */
	assert_false(si_hwm_mounted(over, "/var/lib/sealdata", "/dev/mapper/sealdata"));
	assert_true(si_hwm_mounted(over, "/var/lib/sealdata", "tmpfs"));
	assert_false(si_hwm_mounted("", "/var/lib/sealdata", "/dev/mapper/sealdata"));
	assert_false(si_hwm_mounted("garbage without fields\n", "/", "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_mounted),
		cmocka_unit_test_setup_teardown(test_check_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_cut_leftover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
