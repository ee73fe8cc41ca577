/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"

int si_pcrs_parse(const char *s, uint32_t *mask, struct si_diag *diag)
{
	uint32_t m = 0;
	const char *p = s;

	if (!s || strlen(s) > 128) {
		si_diag_set(diag, "Invalid PCR list: too long");
		return -EINVAL;
	}
	if (*p == '\0') {
		*mask = 0;
		return 0;
	}
	for (;;) {
		unsigned int v = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 3) {
			v = v * 10 + (unsigned int)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || v >= SI_PCR_COUNT || (*p >= '0' && *p <= '9'))
			goto bad;
		m |= UINT32_C(1) << v;
		if (*p == '\0')
			break;
		if (*p != '+' && *p != ',')
			goto bad;
		p++;
	}
	*mask = m;
	return 0;
bad:
	si_diag_set(diag, "Invalid PCR list: `%s' (expected numbers 0-23 joined by '+' or ',', e.g. 7+15)", s);
	return -EINVAL;
}

size_t si_pcrs_format(uint32_t mask, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < SI_PCR_COUNT; i++) {
		int n;

		if (!(mask & (UINT32_C(1) << i)))
			continue;
		n = snprintf(buf + len, size > len ? size - len : 0, "%s%u", len ? "+" : "", i);
		if (n < 0 || (size_t)n >= (size > len ? size - len : 0))
			return len;
		len += (size_t)n;
	}
	return len;
}

/* TPM2 algorithm ids (TCG Algorithm Registry). */
static const struct {
	uint16_t alg;
	const char *name;
	size_t size;
} banks[] = {
	{ 0x0004, "sha1", 20 },
	{ 0x000B, "sha256", 32 },
	{ 0x000C, "sha384", 48 },
	{ 0x000D, "sha512", 64 },
};

uint16_t si_bank_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (name && strcmp(name, banks[i].name) == 0)
			return banks[i].alg;
	return 0;
}

const char *si_bank_name(uint16_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (banks[i].alg == alg)
			return banks[i].name;
	return NULL;
}

size_t si_bank_digest_size(uint16_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (banks[i].alg == alg)
			return banks[i].size;
	return 0;
}

int si_pcrs_check_sealable(uint32_t mask, struct si_diag *d)
{
	if (!mask) {
		si_diag_set(d, "no PCR: a key sealed to nothing unseals in any state");
		return -EINVAL;
	}
	if (mask & SI_PCRS_RESETTABLE) {
		si_diag_set(d, "PCR %d can be reset by any process with the TPM, and its "
			    "measurements replayed: never seal to 16 or 23",
			    mask & (UINT32_C(1) << 16) ? 16 : 23);
		return -EINVAL;
	}
	return 0;
}

int si_pcrs_parse_values(const char *text, uint32_t need, struct si_pcr_expect *e,
			 struct si_diag *d)
{
	const char *start = text;
	unsigned int lineno = 0;
	char hex[65], missing[96];

	memset(e, 0, sizeof(*e));
	while (start && *start) {
		const char *end = strchr(start, '\n'), *p = start;
		size_t len = end ? (size_t)(end - start) : strlen(start);
		unsigned int pcr = 0, digits = 0;
		uint8_t v[32];

		lineno++;
		if (len == 0 || *p == '#' || (*p >= '0' && *p <= '9'))
			goto next;
		if (len < 4 || strncmp(p, "pcr", 3))
			goto bad;
		for (p += 3; digits < 2 && *p >= '0' && *p <= '9'; p++, digits++)
			pcr = pcr * 10 + (unsigned int)(*p - '0');
		if (!digits || pcr >= SI_PCR_COUNT || (digits == 2 && p[-2] == '0'))
			goto bad;
		if (!strncmp(p, "-capped=", 8))
			goto next;
		if (*p != '=' || (size_t)(p + 1 - start) + 64 != len)
			goto bad;
		memcpy(hex, p + 1, 64);
		hex[64] = '\0';
		if (si_hex_decode(v, sizeof(v), hex) != 32)
			goto bad;
		if (e->mask & (UINT32_C(1) << pcr)) {
			si_diag_set(d, "line %u: PCR %u given twice", lineno, pcr);
			return -EINVAL;
		}
		e->mask |= UINT32_C(1) << pcr;
		memcpy(e->sha256[pcr], v, 32);
next:
		start = end ? end + 1 : NULL;
		continue;
bad:
		si_diag_set(d, "line %u: `%.*s' (expected pcrN=HEX, 64 hex digits of sha256)",
			    lineno, (int)(len > 80 ? 80 : len), start);
		return -EINVAL;
	}
	if (need & ~e->mask) {
		si_pcrs_format(need & ~e->mask, missing, sizeof(missing));
		si_diag_set(d, "no value for PCR %s", missing);
		return -EINVAL;
	}
	return 0;
}
