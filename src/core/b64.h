/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_B64_H
#define SEALINIT_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length of n bytes, padding included, without the NUL. */
#define SI_B64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Standard base64 with padding, as systemd writes token fields and the
 * keyslot passphrase. Constant time in the data: safe for secrets.
 * out must hold SI_B64_LEN(n) + 1 bytes.
 */
void si_b64_encode(char *out, const uint8_t *in, size_t n);

/*
 * Strict decode: the alphabet, padding to a multiple of 4, nothing else.
 * Returns the decoded length, or -EINVAL on bad input, -ENOSPC if more than
 * cap bytes would be written.
 */
long si_b64_decode(uint8_t *out, size_t cap, const char *in);

/* Lower-case hex, out holds 2n + 1 bytes. */
void si_hex_encode(char *out, const uint8_t *in, size_t n);
/* Returns decoded length, -EINVAL or -ENOSPC as above. */
long si_hex_decode(uint8_t *out, size_t cap, const char *in);

#endif
