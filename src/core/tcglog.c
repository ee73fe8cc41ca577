/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tcglog.h"

#define TPM_ALG_SHA1    0x0004
#define TPM_ALG_SHA256  0x000B
#define TPM_ALG_SHA384  0x000C
#define TPM_ALG_SHA512  0x000D
#define TPM_ALG_SM3_256 0x0012
#define MAX_ALGS        8   /* the TPM 2.0 algorithm registry has 5 digests PC clients use */

/* The log's table of algorithms, from the spec-ID header. */
struct algs {
	uint32_t n;
	uint16_t id[MAX_ALGS];
	uint16_t size[MAX_ALGS];
};

/* A cursor over what is left of the log: every read checks the length. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static int take(struct cur *c, size_t n, const uint8_t **out)
{
	if (n > c->left)
		return -1;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int u8(struct cur *c, uint8_t *v)
{
	const uint8_t *p;

	if (take(c, 1, &p))
		return -1;
	*v = p[0];
	return 0;
}

static int u16(struct cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (take(c, 2, &p))
		return -1;
	*v = (uint16_t)(p[0] | p[1] << 8);
	return 0;
}

static int u32(struct cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (take(c, 4, &p))
		return -1;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return 0;
}

static int bad(struct si_diag *d, unsigned int rec, const char *field, const char *why)
{
	si_diag_set(d, "event log record %u: %s: %s", rec, field, why);
	return -EINVAL;
}

/* The digest size of the algorithms PC-client logs use (TCG Algorithm
 * Registry); 0 for any other. */
static uint16_t alg_size(uint16_t id)
{
	switch (id) {
	case TPM_ALG_SHA1:    return 20;
	case TPM_ALG_SHA256:  return 32;
	case TPM_ALG_SHA384:  return 48;
	case TPM_ALG_SHA512:  return 64;
	case TPM_ALG_SM3_256: return 32;
	default:              return 0;
	}
}

/* TCG PC Client PFP 10.4.5.1: TCG_EfiSpecIDEvent, in a TCG_PCR_EVENT. */
static int parse_header(struct cur *c, struct algs *a, struct si_diag *d)
{
	static const char sig[16] = "Spec ID Event03";
	const uint8_t *digest, *s, *vendor;
	uint32_t pcr, type, size, platform, i, j;
	uint8_t minor, major, errata, uintn, vsize;
	struct cur ev;
	char why[96];

	if (u32(c, &pcr) || u32(c, &type) || take(c, 20, &digest) || u32(c, &size))
		return bad(d, 0, "TCG_PCR_EVENT", "the log ends inside the header record");
	if (pcr != 0 || type != SI_EV_NO_ACTION)
		return bad(d, 0, "PCRIndex, EventType", "not the spec-ID header (PCR 0, EV_NO_ACTION): "
			   "not a crypto-agile log");
	for (i = 0; i < 20; i++)
		if (digest[i])
			return bad(d, 0, "Digest", "not zero");
	if (size > c->left)
		return bad(d, 0, "EventSize", "past the end of the log");
	ev = (struct cur){ c->p, size };
	c->p += size;
	c->left -= size;
	if (take(&ev, 16, &s) || memcmp(s, sig, sizeof(sig)))
		return bad(d, 0, "Signature", "not `Spec ID Event03': not a crypto-agile log");
	if (u32(&ev, &platform) || u8(&ev, &minor) || u8(&ev, &major) || u8(&ev, &errata) ||
	    u8(&ev, &uintn) || u32(&ev, &a->n))
		return bad(d, 0, "TCG_EfiSpecIDEvent", "shorter than its fixed fields");
	if (major != 2)
		return bad(d, 0, "specVersionMajor", "not 2 (TPM 2.0)");
	if (uintn != 1 && uintn != 2)
		return bad(d, 0, "uintnSize", "neither 1 (UINT32) nor 2 (UINT64)");
	if (a->n < 1 || a->n > MAX_ALGS) {
		si_diag_set(d, "event log record 0: numberOfAlgorithms: %u, expected 1-%d", a->n,
			    MAX_ALGS);
		return -EINVAL;
	}
	for (i = 0; i < a->n; i++) {
		if (u16(&ev, &a->id[i]) || u16(&ev, &a->size[i]))
			return bad(d, 0, "digestSizes", "past the end of the header's data");
		snprintf(why, sizeof(why), "digestSizes[%u]", i);
		if (!alg_size(a->id[i])) {
			si_diag_set(d, "event log record 0: %s: algorithm 0x%04x is not sha1, sha256, "
				    "sha384, sha512 or sm3_256", why, a->id[i]);
			return -EINVAL;
		}
		if (a->size[i] != alg_size(a->id[i]))
			return bad(d, 0, why, "the digest size is not the algorithm's");
		for (j = 0; j < i; j++)
			if (a->id[j] == a->id[i])
				return bad(d, 0, why, "the algorithm is listed twice");
	}
	if (u8(&ev, &vsize) || take(&ev, vsize, &vendor))
		return bad(d, 0, "vendorInfo", "past the end of the header's data");
	if (ev.left)
		return bad(d, 0, "EventSize", "bytes after vendorInfo");
	for (i = 0; i < a->n; i++)
		if (a->id[i] == TPM_ALG_SHA256)
			return 0;
	return bad(d, 0, "digestSizes", "no sha256 bank in the log");
}

/* TCG PC Client PFP 10.2.2: TCG_PCR_EVENT2. */
static int parse_record(struct cur *c, const struct algs *a, struct si_tcg_event *e,
			struct si_diag *d)
{
	unsigned int rec = e->index;
	uint32_t count, i, j, seen = 0;
	const uint8_t *digest;
	char field[32];

	if (u32(c, &e->pcr) || u32(c, &e->type) || u32(c, &count))
		return bad(d, rec, "PCRIndex, EventType, digests.count", "the log ends inside them");
	if (e->pcr >= SI_PCR_COUNT) {
		si_diag_set(d, "event log record %u: PCRIndex: %u, expected 0-23", rec, e->pcr);
		return -EINVAL;
	}
	if (count != a->n) {
		si_diag_set(d, "event log record %u: digests.count: %u, the header lists %u "
			    "algorithms", rec, count, a->n);
		return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		uint16_t alg;

		snprintf(field, sizeof(field), "digests[%u]", i);
		if (u16(c, &alg))
			return bad(d, rec, field, "the log ends before its hashAlg");
		for (j = 0; j < a->n && a->id[j] != alg; j++)
			;
		if (j == a->n) {
			si_diag_set(d, "event log record %u: %s: algorithm 0x%04x, which the header "
				    "does not list", rec, field, alg);
			return -EINVAL;
		}
		if (seen & (1u << j))
			return bad(d, rec, field, "a second digest of the same algorithm");
		seen |= 1u << j;
		if (take(c, a->size[j], &digest))
			return bad(d, rec, field, "the log ends inside the digest");
		if (alg == TPM_ALG_SHA256)
			memcpy(e->sha256, digest, SI_SHA256_SIZE);
	}
	if (u32(c, &e->size))
		return bad(d, rec, "EventSize", "the log ends before it");
	if (take(c, e->size, &e->data))
		return bad(d, rec, "EventSize", "past the end of the log");
	return 0;
}

int si_tcglog_parse(const uint8_t *log, size_t len,
		    int (*fn)(void *ctx, const struct si_tcg_event *e, struct si_diag *diag),
		    void *ctx, struct si_diag *d)
{
	struct cur c = { log, len };
	struct si_tcg_event e;
	struct algs a;
	unsigned int n = 0;
	int r;

	if (len > SI_TCGLOG_MAX) {
		si_diag_set(d, "event log: %zu bytes, more than the %d this parser takes", len,
			    SI_TCGLOG_MAX);
		return -EINVAL;
	}
	r = parse_header(&c, &a, d);
	if (r < 0)
		return r;
	while (c.left) {
		if (n == SI_TCGLOG_RECORDS) {
			si_diag_set(d, "event log: more than %d records", SI_TCGLOG_RECORDS);
			return -EINVAL;
		}
		memset(&e, 0, sizeof(e));
		e.index = ++n;
		r = parse_record(&c, &a, &e, d);
		if (r < 0)
			return r;
		if (fn && (r = fn(ctx, &e, d)) != 0)
			return r;
	}
	return (int)n;
}

int si_tcg_tagged(const struct si_tcg_event *e, const char *description)
{
	size_t n = strlen(description) + 1;
	uint32_t size;

	if (e->type != SI_EV_EVENT_TAG || e->size < 8)
		return 0;
	/* TCG PC Client PFP 10.4.2: taggedEventID, taggedEventDataSize, data. */
	size = (uint32_t)e->data[4] | (uint32_t)e->data[5] << 8 | (uint32_t)e->data[6] << 16 |
	       (uint32_t)e->data[7] << 24;
	return size == e->size - 8 && size == n && !memcmp(e->data + 8, description, n);
}

/* The events an update replaces, by what identifies each in the log. */
enum { UP_LOAD_OPTIONS, UP_INITRD, UP_KERNEL, UP_N };

static const struct {
	const char *what;
	uint32_t pcr;
} updates[UP_N] = {
	[UP_LOAD_OPTIONS] = { "PCR 9 EV_EVENT_TAG `LOADED_IMAGE::LoadOptions' (the command line)", 9 },
	[UP_INITRD]       = { "PCR 9 EV_EVENT_TAG `Linux initrd'", 9 },
	[UP_KERNEL]       = { "PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION (the kernel)", 4 },
};

static int update_of(const struct si_tcg_event *e)
{
	if (e->pcr == 9 && si_tcg_tagged(e, "LOADED_IMAGE::LoadOptions"))
		return UP_LOAD_OPTIONS;
	if (e->pcr == 9 && si_tcg_tagged(e, "Linux initrd"))
		return UP_INITRD;
	if (e->pcr == 4 && e->type == SI_EV_EFI_BOOT_SERVICES_APPLICATION)
		return UP_KERNEL;
	return -1;
}

struct replay {
	const uint8_t *digest[UP_N];
	unsigned int found[UP_N];
	struct si_pcr_expect *out;
};

static int replay_one(void *ctx, const struct si_tcg_event *e, struct si_diag *d)
{
	static const char locality[16] = "StartupLocality";
	struct replay *st = ctx;
	uint8_t buf[2 * SI_SHA256_SIZE];
	uint32_t bit = UINT32_C(1) << e->pcr;
	int u = update_of(e);

	if (e->type == SI_EV_NO_ACTION) {
		/* PFP 10.4.5.3: a TPM started from locality 3 or 4 resets PCR 0
		 * to that number in its last byte; it comes before any extend. */
		if (e->pcr == 0 && e->size == 17 && !memcmp(e->data, locality, 16)) {
			if (st->out->mask & 1)
				return bad(d, e->index, "StartupLocality", "after PCR 0 was extended");
			st->out->sha256[0][SI_SHA256_SIZE - 1] = e->data[16];
		}
		return 0;
	}
	memcpy(buf, st->out->sha256[e->pcr], SI_SHA256_SIZE);
	memcpy(buf + SI_SHA256_SIZE, e->sha256, SI_SHA256_SIZE);
	if (u >= 0) {
		st->found[u]++;
		if (st->digest[u])
			memcpy(buf + SI_SHA256_SIZE, st->digest[u], SI_SHA256_SIZE);
	}
	si_sha256(buf, sizeof(buf), st->out->sha256[e->pcr]);
	st->out->mask |= bit;
	return 0;
}

int si_tcglog_replay(const uint8_t *log, size_t len, const struct si_tcglog_update *u,
		     struct si_pcr_expect *out, struct si_diag *d)
{
	struct replay st = { { NULL }, { 0 }, out };
	int r, i;

	memset(out, 0, sizeof(*out));
	if (u) {
		st.digest[UP_LOAD_OPTIONS] = u->load_options;
		st.digest[UP_INITRD] = u->initrd;
		st.digest[UP_KERNEL] = u->kernel;
	}
	r = si_tcglog_parse(log, len, replay_one, &st, d);
	if (r < 0)
		return r;
	for (i = 0; i < UP_N; i++) {
		if (!st.digest[i] || st.found[i] == 1)
			continue;
		si_diag_set(d, "the event log has %u %s events, not one: there is nothing certain "
			    "to replace", st.found[i], updates[i].what);
		return -ENOENT;
	}
	return 0;
}

/* One code point of UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * at most U+10FFFF): its value, or -1. */
static long utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	long cp, min;
	int n, i;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0)
		n = 1, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 2, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 3, cp = p[0] & 0x07, min = 0x10000;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return cp;
}

int si_tcglog_load_options_digest(const char *cmdline, uint8_t out[SI_SHA256_SIZE],
				  struct si_diag *d)
{
	/* UTF-16: at most two units per byte of UTF-8, and the NUL. */
	static uint8_t buf[2 * 2 * SI_LOAD_OPTIONS_MAX + 2];
	const unsigned char *s = (const unsigned char *)cmdline;
	size_t o = 0;

	if (strlen(cmdline) > SI_LOAD_OPTIONS_MAX) {
		si_diag_set(d, "the command line is longer than %d bytes", SI_LOAD_OPTIONS_MAX);
		return -E2BIG;
	}
	while (*s) {
		long cp = utf8_next(&s);
		unsigned int unit[2], k, i;

		if (cp < 0) {
			si_diag_set(d, "the command line is not UTF-8 at byte %zu",
				    (size_t)(s - (const unsigned char *)cmdline));
			return -EINVAL;
		}
		if (cp >= 0x10000) {
			unit[0] = 0xd800 | (unsigned int)((cp - 0x10000) >> 10);
			unit[1] = 0xdc00 | (unsigned int)((cp - 0x10000) & 0x3ff);
			k = 2;
		} else {
			unit[0] = (unsigned int)cp;
			k = 1;
		}
		for (i = 0; i < k; i++) {
			buf[o++] = (uint8_t)unit[i];
			buf[o++] = (uint8_t)(unit[i] >> 8);
		}
	}
	buf[o++] = 0;
	buf[o++] = 0;
	return si_sha256(buf, o, out);
}
