/* SPDX-License-Identifier: MIT */
/*
 * One escaping rule for every string that comes from outside and is
 * printed (escape.h). A LUKS2 header is the attacker's to write: a label
 * or token field holding "\n  token 1: ..." or an ESC sequence must not
 * forge a line of `sealinit status', nor move the cursor over one.
 */
#include <stdint.h>
#include <string.h>

#include "core/escape.h"

/* The length of the valid, shortest-form UTF-8 sequence at s (at most
 * left bytes), or 0 when s does not start one (RFC 3629 section 4).
 * Surrogates and code points above U+10FFFF are not valid. */
static size_t utf8_len(const uint8_t *s, size_t left)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls: U+0080-U+009F, two bytes each. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

bool si_escape_mem(char *out, size_t size, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = (const uint8_t *)in;
	size_t o = 0, i = 0;

	if (!size)
		return len == 0;
	while (i < len) {
		size_t n = utf8_len(s + i, len - i);
		char esc[4];
		const char *src = (const char *)s + i;
		size_t w = n;

		if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')) {
			n = 0;
		}
		if (n == 0) {
			if (s[i] == '\\') {
				esc[0] = esc[1] = '\\';
				w = 2;
			} else {
				esc[0] = '\\', esc[1] = 'x', esc[2] = hex[s[i] >> 4], esc[3] = hex[s[i] & 15];
				w = 4;
			}
			src = esc;
			n = 1;
		}
		if (o + w >= size)
			break;
		memcpy(out + o, src, w);
		o += w;
		i += n;
	}
	out[o] = '\0';
	return i == len;
}

bool si_escape(char *out, size_t size, const char *in)
{
	return si_escape_mem(out, size, in, in ? strlen(in) : 0);
}

bool si_escape_clean(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_len(u + i, len - i);
		if (!n || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)))
			return false;
		i += n;
	}
	return true;
}
