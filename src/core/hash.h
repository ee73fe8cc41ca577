/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_HASH_H
#define SEALINIT_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-256 for everyone who hashes: measurements, the legacy scheme's
 * integrity check, policy digests. mbedcrypto is linked statically, so only
 * the code used here comes along.
 */
#define SI_SHA256_SIZE 32

int si_sha256(const void *data, size_t len, uint8_t out[SI_SHA256_SIZE]);

/* mbedTLS's f_rng from getrandom(): for RSA signing blinding and OAEP
 * (authorize.c, escrow.c). ctx is unused. */
int si_mbedtls_rng(void *ctx, unsigned char *buf, size_t len);

/* SHA-256 of everything readable from fd. *done (optional) counts the bytes
 * read, also on error; progress (optional) is called after each chunk.
 * Returns 0 or -errno of the failed read. */
int si_sha256_fd(int fd, uint8_t out[SI_SHA256_SIZE], uint64_t *done,
		 void (*progress)(void *ctx, uint64_t done), void *ctx);

#endif
