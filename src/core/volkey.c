/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "core/b64.h"
#include "core/secret.h"
#include "core/volkey.h"

int si_volkey_prefix(const char *name, const char *uuid, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	const char *p;
	int k;

	if (!name || !*name || !uuid || !*uuid)
		return -EINVAL;
	for (p = uuid; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -EINVAL;
	k = snprintf(out, size, "cryptsetup:");
	if (k < 0 || (size_t)k >= size)
		return -ENOSPC;
	n = (size_t)k;
	/* The name is escaped so that a ':' in it cannot move the boundary
	 * between name and UUID (systemd's xescape(name, ":")). */
	for (p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool esc = c < ' ' || c >= 0x7f || c == '\\' || c == ':';

		if (n + (esc ? 4 : 1) >= size)
			return -ENOSPC;
		if (esc) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	k = snprintf(out + n, size - n, ":%s", uuid);
	return k < 0 || (size_t)k >= size - n ? -ENOSPC : 0;
}

static const mbedtls_md_info_t *bank_md(uint16_t bank)
{
	switch (bank) {
	case 0x0004: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	case 0x000B: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	case 0x000C: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	case 0x000D: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
	default: return NULL;
	}
}

int si_volkey_digest(uint16_t bank, const uint8_t *vk, size_t vk_len, const char *prefix,
		     uint8_t out[SI_VOLKEY_DIGEST_MAX])
{
	const mbedtls_md_info_t *md = bank_md(bank);

	if (!md || !vk_len)
		return -EINVAL;
	if (mbedtls_md_hmac(md, vk, vk_len, (const unsigned char *)prefix, strlen(prefix), out))
		return -EIO;
	return mbedtls_md_get_size(md);
}

int si_volkey_id(const uint8_t *vk, size_t vk_len, const char *prefix,
		 char out[SI_VOLKEY_HEX_LEN + 1])
{
	uint8_t mac[SI_VOLKEY_DIGEST_MAX];
	int r = si_volkey_digest(0x000B, vk, vk_len, prefix, mac);

	if (r < 0)
		return r;
	si_hex_encode(out, mac, (size_t)r);
	si_wipe(mac, sizeof(mac));
	return 0;
}

bool si_volkey_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < SI_VOLKEY_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

bool si_volkey_id_equal(const char *a, const char *b)
{
	return si_volkey_id_valid(a) && si_volkey_id_valid(b) &&
	       si_memeq(a, b, SI_VOLKEY_HEX_LEN);
}
