/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int si_pcr_expect_parse(const char *text, struct si_pcr_expect *e, struct si_diag *d)
{
	const char *p = text;
	int lineno = 0;

	memset(e, 0, sizeof(*e));
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *l = p, *eq;
		char num[4];
		unsigned long pcr;
		size_t i, nlen;

		lineno++;
		p += len + (p[len] == '\n');
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
			len--;
		if (!len || l[0] == '#' || (l[0] >= '0' && l[0] <= '9'))
			continue;
		eq = memchr(l, '=', len);
		nlen = eq ? (size_t)(eq - l) - 3 : 0;
		if (!eq || len < 4 || strncmp(l, "pcr", 3) || !nlen || nlen > 2) {
			if (eq && (size_t)(eq - l) > 10 && !strncmp(eq - 7, "-capped", 7))
				continue;
			si_diag_set(d, "line %d: expected pcrN=HEX (as `sealinit predict' prints), "
				    "got `%.40s'", lineno, l);
			return -EINVAL;
		}
		memcpy(num, l + 3, nlen);
		num[nlen] = '\0';
		for (i = 0; i < nlen; i++)
			if (num[i] < '0' || num[i] > '9')
				nlen = 0;
		pcr = nlen ? strtoul(num, NULL, 10) : SI_PCR_COUNT;
		if (pcr >= SI_PCR_COUNT) {
			si_diag_set(d, "line %d: `%.*s': a PCR number 0-23 was expected", lineno,
				    (int)(eq - l), l);
			return -EINVAL;
		}
		if (e->mask & (UINT32_C(1) << pcr)) {
			si_diag_set(d, "line %d: PCR %lu given twice", lineno, pcr);
			return -EINVAL;
		}
		len -= (size_t)(eq + 1 - l);
		for (i = 0; i < len; i++) {
			char c = eq[1 + i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
				len = 0;
		}
		if (len != 64) {
			si_diag_set(d, "line %d: pcr%lu: 64 hex digits (a sha256 value) were expected",
				    lineno, pcr);
			return -EINVAL;
		}
		for (i = 0; i < 32; i++) {
			char byte[3] = { eq[1 + 2 * i], eq[2 + 2 * i], 0 };

			e->sha256[pcr][i] = (uint8_t)strtoul(byte, NULL, 16);
		}
		e->mask |= UINT32_C(1) << pcr;
	}
	return 0;
}

int si_pcrs_parse_values(const char *text, uint32_t need, struct si_pcr_expect *e,
			 struct si_diag *d)
{
	char missing[96];
	int r = si_pcr_expect_parse(text, e, d);

	if (r < 0)
		return r;
	if (need & ~e->mask) {
		si_pcrs_format(need & ~e->mask, missing, sizeof(missing));
		si_diag_set(d, "no value for PCR %s", missing);
		return -EINVAL;
	}
	return r;
}
