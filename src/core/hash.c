/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include "core/hash.h"
#include "core/mbedcompat.h"

int si_sha256(const void *data, size_t len, uint8_t out[SI_SHA256_SIZE])
{
	return si_mbed_sha256(data, len, out) ? -EIO : 0;
}

int si_sha256_fd(int fd, uint8_t out[SI_SHA256_SIZE], uint64_t *done,
		 void (*progress)(void *ctx, uint64_t done), void *ctx)
{
	/* 1 MiB reads: measured at the speed of `openssl dgst` (bench/). */
	static uint8_t buf[1 << 20];
	mbedtls_sha256_context sha;
	uint64_t total = 0;
	int r = 0;

	mbedtls_sha256_init(&sha);
	si_mbed_sha256_starts(&sha);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		si_mbed_sha256_update(&sha, buf, (size_t)n);
		total += (uint64_t)n;
		if (progress)
			progress(ctx, total);
	}
	if (r == 0)
		si_mbed_sha256_finish(&sha, out);
	mbedtls_sha256_free(&sha);
	if (done)
		*done = total;
	return r;
}

int si_mbedtls_rng(void *ctx, unsigned char *buf, size_t len)
{
	size_t done = 0;

	(void)ctx;
	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return MBEDTLS_ERR_RSA_RNG_FAILED;
		done += (size_t)n;
	}
	return 0;
}
