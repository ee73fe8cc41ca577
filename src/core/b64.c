/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "core/b64.h"

/* Branch-free 6-bit value to base64 character: no table indexed by secret
 * data, so the keyslot passphrase leaks nothing through the cache. */
static char b64_char(unsigned int v)
{
	unsigned int c = v + 'A';

	c += ((25u - v) >> 8) & 6;   /* 26..: 'a' */
	c -= ((51u - v) >> 8) & 75;  /* 52..: '0' */
	c -= ((61u - v) >> 8) & 15;  /* 62:   '+' */
	c += ((62u - v) >> 8) & 3;   /* 63:   '/' */
	return (char)c;
}

void si_b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned int w = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = b64_char((w >> 6) & 63);
		out[o++] = b64_char(w & 63);
	}
	if (n - i == 1) {
		unsigned int w = (unsigned int)in[i] << 16;

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned int w = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8;

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = b64_char((w >> 6) & 63);
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long si_b64_decode(uint8_t *out, size_t cap, const char *in)
{
	size_t len = strlen(in), i, o = 0;

	if (len % 4)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		unsigned int w;

		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -EINVAL; /* data after padding */
			v[k] = b64_val(in[i + k]);
			if (v[k] < 0)
				return -EINVAL;
		}
		w = (unsigned int)v[0] << 18 | (unsigned int)v[1] << 12 |
		    (unsigned int)v[2] << 6 | (unsigned int)v[3];
		/* Non-canonical encodings (stray low bits before '=') are rejected. */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -EINVAL;
		if (o + 3 - (size_t)pad > cap)
			return -ENOSPC;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (long)o;
}

void si_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long si_hex_decode(uint8_t *out, size_t cap, const char *in)
{
	size_t len = strlen(in), i;

	if (len % 2)
		return -EINVAL;
	if (len / 2 > cap)
		return -ENOSPC;
	for (i = 0; i < len; i += 2) {
		int hi = hex_val(in[i]), lo = hex_val(in[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}
