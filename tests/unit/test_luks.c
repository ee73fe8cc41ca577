/* SPDX-License-Identifier: MIT */
/* core/luks.c: a message quotes the error libcryptsetup logged for the
 * operation that failed, never an older one (from this handle or another). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libcryptsetup.h>

#include "core/errors.h"
#include "core/luks.h"

static char img[4096], junk[4096], cbc[4096], xts256[4096], ecb[4096];

/* A 20 MiB LUKS2 image with one PBKDF2 keyslot for "pw", made in process. */
static int mkluks(char *path, size_t size, const char *tmp, const char *cipher, const char *mode,
		  size_t key_bytes)
{
	const struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_device *cd = NULL;
	int fd, r;

	snprintf(path, size, "%s/sealinit-luks.XXXXXX", tmp);
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 20 << 20) < 0)
		return -1;
	close(fd);
	r = crypt_init(&cd, path) < 0 || crypt_set_pbkdf_type(cd, &pbkdf) < 0 ||
	    crypt_format(cd, CRYPT_LUKS2, cipher, mode, NULL, NULL, key_bytes, NULL) < 0 ||
	    crypt_keyslot_add_by_volume_key(cd, 0, NULL, 0, "pw", 2) < 0 ? -1 : 0;
	crypt_free(cd);
	return r;
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char block[4096];
	int fd, i;

	(void)state;
	snprintf(junk, sizeof(junk), "%s/sealinit-junk.XXXXXX", tmp);
	fd = mkstemp(junk);
	memset(block, 0x5a, sizeof(block));
	for (i = 0; fd >= 0 && i < 1024; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			return -1;
	close(fd);
	if (mkluks(img, sizeof(img), tmp, "aes", "xts-plain64", 64) < 0 ||
	    mkluks(cbc, sizeof(cbc), tmp, "aes", "cbc-essiv:sha256", 32) < 0 ||
	    mkluks(xts256, sizeof(xts256), tmp, "aes", "xts-plain64", 32) < 0 ||
	    mkluks(ecb, sizeof(ecb), tmp, "aes", "ecb", 32) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(img);
	unlink(junk);
	unlink(cbc);
	unlink(xts256);
	unlink(ecb);
	return 0;
}

static int check(const char *path, const char *cipher, int bits, struct si_diag *d)
{
	const struct si_luks_expect e = { cipher, bits };
	struct si_luks *l = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	assert_int_equal(si_luks_open(path, &l, d), 0);
	/* cipher NULL and bits 0 is what the CLI passes: no expectation. */
	r = si_luks_check(l, cipher || bits ? &e : NULL, d);
	si_luks_close(l);
	return r;
}

/* The volume's shape, before any key goes near it. */
static void test_check_shape(void **state)
{
	struct si_diag d;

	(void)state;
	/* Positive controls: each volume passes with what it really is. */
	assert_int_equal(check(img, "aes-xts-plain64", 512, &d), 0);
	assert_int_equal(check(cbc, "aes-cbc-essiv:sha256", 256, &d), 0);
	assert_int_equal(check(xts256, "aes-xts-plain64", 256, &d), 0);
	/* Another cipher than configured. */
	assert_int_equal(check(cbc, "aes-xts-plain64", 512, &d), -SI_EBADHEADER);
	assert_non_null(strstr(d.msg, "segment 0 is encrypted with `aes-cbc-essiv:sha256', "
				      "expected aes-xts-plain64"));
	/* The configured cipher with a shorter key. */
	assert_int_equal(check(xts256, "aes-xts-plain64", 512, &d), -SI_EBADHEADER);
	assert_non_null(strstr(d.msg, "256-bit volume key, expected 512"));
}

/* No expectation (the CLI): the known-good list; an unknown cipher is
 * refused by name. */
static void test_check_known(void **state)
{
	struct si_diag d;

	(void)state;
	assert_int_equal(check(img, NULL, 0, &d), 0);
	assert_int_equal(check(cbc, NULL, 0, &d), 0);
	assert_int_equal(check(xts256, NULL, 0, &d), 0);
	assert_int_equal(check(ecb, NULL, 0, &d), -SI_EBADHEADER);
	assert_non_null(strstr(d.msg, "segment 0 is encrypted with `aes-ecb', not a known-good cipher"));
	/* A cipher named with any key size: the name decides. */
	assert_int_equal(check(ecb, "aes-ecb", 0, &d), 0);
	assert_int_equal(check(img, "aes-ecb", 0, &d), -SI_EBADHEADER);
}

/* Activation needs a handle that passed the check, whoever calls: the
 * guard refuses before device-mapper is touched. A test (no name) and a
 * checked handle go on. */
static void test_activate_needs_check(void **state)
{
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	int r;

	(void)state;
	assert_int_equal(si_luks_open(ecb, &l, &d), 0);
	assert_int_equal(si_luks_activate(l, "sealinit-unit-ecb", -1, "pw", 2, &d), -SI_EBADHEADER);
	assert_non_null(strstr(d.msg, "refusing to activate a volume whose header was not checked"));
	assert_int_equal(si_luks_activate(l, NULL, -1, "pw", 2, &d), 0);
	assert_int_equal(si_luks_check(l, NULL, &d), -SI_EBADHEADER);
	assert_int_equal(si_luks_activate(l, "sealinit-unit-ecb", -1, "pw", 2, &d), -SI_EBADHEADER);
	si_luks_close(l);
	assert_int_equal(si_luks_open(img, &l, &d), 0);
	assert_int_equal(si_luks_check(l, NULL, &d), 0);
	/* Past the guard: the wrong key, or no device-mapper here. */
	r = si_luks_activate(l, "sealinit-unit-xts", -1, "wrong", 5, &d);
	assert_true(r == -SI_EKEYSLOT || r == -SI_EACTIVATE);
	si_luks_close(l);
}

/* Positive control first: the error of this operation is quoted. */
static void test_quotes_own_error(void **state)
{
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_luks_open(img, &l, &d), 0);
	assert_true(si_luks_add_keyslot(l, 99, "pw", 2, "new", 3, &d) < 0);
	assert_non_null(strstr(d.msg, "99"));
	si_luks_close(l);
}

/* A later failure that libcryptsetup logs nothing for must not quote the
 * keyslot error above: not on the same handle, and not on another one. */
static void test_no_stale_error(void **state)
{
	struct si_luks *a = NULL, *b = NULL;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_luks_open(img, &a, &d), 0);
	assert_true(si_luks_add_keyslot(a, 99, "pw", 2, "new", 3, &d) < 0);
	assert_non_null(strstr(d.msg, "Key slot 99"));

	memset(&d, 0, sizeof(d));
	assert_true(si_luks_set_token(a, 5, "{not json", &d) < 0);
	assert_null(strstr(d.msg, "Key slot 99"));
	assert_non_null(strstr(d.msg, "token 5"));

	assert_int_equal(si_luks_open(img, &b, &d), 0);
	memset(&d, 0, sizeof(d));
	assert_true(si_luks_set_token(b, 6, "{not json", &d) < 0);
	assert_null(strstr(d.msg, "Key slot 99"));
	si_luks_close(a);
	si_luks_close(b);
}

/* Opening garbage fails as a bad header, and does not leak into the next
 * handle's messages either. */
static void test_bad_header(void **state)
{
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(si_luks_open(junk, &l, &d), -SI_EBADHEADER);
	assert_non_null(strstr(d.msg, "not a LUKS2 volume"));
	assert_int_equal(si_luks_open(img, &l, &d), 0);
	memset(&d, 0, sizeof(d));
	assert_true(si_luks_set_token(l, 7, "{not json", &d) < 0);
	assert_null(strstr(d.msg, "LUKS"));
	si_luks_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_own_error),
		cmocka_unit_test(test_no_stale_error),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_check_shape),
		cmocka_unit_test(test_check_known),
		cmocka_unit_test(test_activate_needs_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
