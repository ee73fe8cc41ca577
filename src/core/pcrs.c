/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
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

int si_pcrs_check_capped(uint32_t mask, uint32_t cap_mask, struct si_diag *d)
{
	char have[96], capped[96];

	if (mask & cap_mask)
		return 0;
	si_pcrs_format(mask, have, sizeof(have));
	si_pcrs_format(cap_mask, capped, sizeof(capped));
	si_diag_set(d, "PCRs %s: none of them is capped by the boot (pcrs=%s), so the booted "
		    "system could unseal this key again", mask ? have : "(none)", capped);
	return -EINVAL;
}

/* One value: PCR number num (nlen digits) and hex (len bytes) of line
 * lineno, into e. */
static int expect_value(struct si_pcr_expect *e, const char *num, size_t nlen, const char *hex,
			size_t len, int lineno, struct si_diag *d)
{
	unsigned long pcr = SI_PCR_COUNT;
	size_t i;

	if (nlen && nlen <= 2 && strspn(num, "0123456789") >= nlen)
		pcr = strtoul(num, NULL, 10);
	if (pcr >= SI_PCR_COUNT) {
		si_diag_set(d, "line %d: `%.*s': a PCR number 0-23 was expected", lineno,
			    (int)(nlen > 20 ? 20 : nlen), num);
		return -EINVAL;
	}
	if (e->mask & (UINT32_C(1) << pcr)) {
		si_diag_set(d, "line %d: PCR %lu given twice", lineno, pcr);
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", hex[i]))
			len = 0;
	if (len != 64) {
		si_diag_set(d, "line %d: pcr%lu: 64 hex digits (a sha256 value) were expected",
			    lineno, pcr);
		return -EINVAL;
	}
	for (i = 0; i < 32; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		e->sha256[pcr][i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	e->mask |= UINT32_C(1) << pcr;
	return 0;
}

/* pcrN=HEX lines; with readout, also pcrread's `sha256:N HEX'. */
static int parse_values(const char *text, bool readout, struct si_pcr_expect *e,
			struct si_diag *d)
{
	const char *p = text;
	int lineno = 0;

	memset(e, 0, sizeof(*e));
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *l = p, *eq, *colon;
		int r;

		lineno++;
		p += len + (p[len] == '\n');
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
			len--;
		if (!len || l[0] == '#' || (l[0] >= '0' && l[0] <= '9'))
			continue;
		/* pcrread's `sha256:N HEX' (N padded with spaces). */
		colon = memchr(l, ':', len);
		if (readout && colon && !memchr(l, '=', len)) {
			const char *num = colon + 1, *hex;
			size_t nlen = strspn(num, "0123456789");

			if ((size_t)(colon - l) != 6 || strncmp(l, "sha256", 6)) {
				si_diag_set(d, "line %d: `%.*s': only sha256 values are read", lineno,
					    (int)(colon - l > 20 ? 20 : colon - l), l);
				return -EINVAL;
			}
			hex = num + nlen + strspn(num + nlen, " \t");
			if (hex == num + nlen && nlen)
				hex = l + len;  /* no space between them */
			r = expect_value(e, num, nlen, hex, (size_t)(l + len - hex), lineno, d);
			if (r < 0)
				return r;
			continue;
		}
		eq = memchr(l, '=', len);
		if (eq && (size_t)(eq - l) == 6 && !strncmp(l, "policy", 6))
			continue;  /* predict's policy digest */
		if (!eq || len < 4 || strncmp(l, "pcr", 3) || eq - l < 4 || eq - l > 5) {
			if (eq && (size_t)(eq - l) > 10 && !strncmp(eq - 7, "-capped", 7))
				continue;
			si_diag_set(d, "line %d: expected pcrN=HEX (as `sealinit predict' prints), "
				    "got `%.40s'", lineno, l);
			return -EINVAL;
		}
		r = expect_value(e, l + 3, (size_t)(eq - l) - 3, eq + 1, (size_t)(l + len - eq - 1),
				 lineno, d);
		if (r < 0)
			return r;
	}
	return 0;
}

int si_pcr_expect_parse(const char *text, struct si_pcr_expect *e, struct si_diag *d)
{
	return parse_values(text, false, e, d);
}

int si_pcr_readout_parse(const char *text, struct si_pcr_expect *e, struct si_diag *d)
{
	return parse_values(text, true, e, d);
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
