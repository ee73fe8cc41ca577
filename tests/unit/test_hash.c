/* SPDX-License-Identifier: MIT */
/* SHA-256 (core/hash.c): FIPS 180-2 vectors, and the streamed digest of a
 * file against the one-shot digest of the same bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/hash.h"

static void check(const char *msg, size_t len, const char *hex)
{
	uint8_t d[SI_SHA256_SIZE];
	char out[2 * SI_SHA256_SIZE + 1];

	assert_int_equal(si_sha256(msg, len, d), 0);
	si_hex_encode(out, d, sizeof(d));
	assert_string_equal(out, hex);
}

static void test_vectors(void **state)
{
	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static int progress_calls;

static void progress(void *ctx, uint64_t done)
{
	(void)ctx;
	(void)done;
	progress_calls++;
}

/* 3 MiB + 7 bytes: more than one read of the streaming buffer. */
static void test_fd_matches_one_shot(void **state)
{
	size_t len = (3u << 20) + 7, i;
	uint8_t *buf = malloc(len), a[SI_SHA256_SIZE], b[SI_SHA256_SIZE];
	char path[] = "/tmp/sealinit-hash.XXXXXX";
	uint64_t done = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_non_null(buf);
	assert_true(fd >= 0);
	unlink(path);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	progress_calls = 0;
	assert_int_equal(si_sha256_fd(fd, a, &done, progress, NULL), 0);
	assert_int_equal(si_sha256(buf, len, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(done, len);
	assert_true(progress_calls >= 2);
	/* A changed byte changes the digest. */
	buf[len / 2] ^= 1;
	assert_int_equal(si_sha256(buf, len, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	close(fd);
	free(buf);
}

static void test_fd_error(void **state)
{
	uint8_t d[SI_SHA256_SIZE];
	uint64_t done = 1;

	(void)state;
	assert_int_equal(si_sha256_fd(-1, d, &done, NULL, NULL), -EBADF);
	assert_int_equal(done, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_fd_matches_one_shot),
		cmocka_unit_test(test_fd_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
