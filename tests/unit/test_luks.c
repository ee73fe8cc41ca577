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

static char img[4096], junk[4096];

/* A 20 MiB LUKS2 image with one PBKDF2 keyslot for "pw", made in process. */
static int setup(void **state)
{
	const struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct crypt_device *cd = NULL;
	char block[4096];
	int fd, i;

	(void)state;
	snprintf(img, sizeof(img), "%s/sealinit-luks.XXXXXX", tmp);
	snprintf(junk, sizeof(junk), "%s/sealinit-junk.XXXXXX", tmp);
	fd = mkstemp(img);
	if (fd < 0 || ftruncate(fd, 20 << 20) < 0)
		return -1;
	close(fd);
	fd = mkstemp(junk);
	memset(block, 0x5a, sizeof(block));
	for (i = 0; fd >= 0 && i < 1024; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			return -1;
	close(fd);
	if (crypt_init(&cd, img) < 0 || crypt_set_pbkdf_type(cd, &pbkdf) < 0 ||
	    crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, NULL) < 0 ||
	    crypt_keyslot_add_by_volume_key(cd, 0, NULL, 0, "pw", 2) < 0)
		return -1;
	crypt_free(cd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(img);
	unlink(junk);
	return 0;
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
