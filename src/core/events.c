/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/kv.h"
#include "core/pcrs.h"
#include "core/events.h"
#include "core/tpm/pcr.h"

#include <json-c/json.h>

/* A word's key: "a.b=c" -> "a.b", "quiet" -> "quiet". */
static size_t key_len(const char *w, size_t n)
{
	const char *eq = memchr(w, '=', n);

	return eq ? (size_t)(eq - w) : n;
}


const char *si_cmdline_volatile_refused(const char *key)
{
	static const char *const pinned[] = { "init", "rdinit", "root", "roothash", "rootfstype",
					      "ro", "rw", "ip", "systemd.verity_root_data",
					      "systemd.verity_root_hash" };
	size_t i;

	if (!strncmp(key, "sealinit.", 9) || !strcmp(key, "sealinit"))
		return "sealinit's own keys are always measured";
	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		if (!strcmp(key, pinned[i]))
			return "it decides what runs or what is mounted";
	return NULL;
}

int si_cmdline_measured(const char *cmdline, const char *volatile_keys, char *out, size_t size)
{
	const char *p = cmdline;
	size_t o = 0;

	if (!size)
		return -E2BIG;
	out[0] = '\0';
	for (;;) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (!n)
			break;
		if (!si_kv_listed(volatile_keys, " ,", p, key_len(p, n))) {
			if (o + (o ? 1 : 0) + n >= size)
				return -E2BIG;
			if (o)
				out[o++] = ' ';
			memcpy(out + o, p, n);
			o += n;
			out[o] = '\0';
		}
		p += n;
	}
	return 0;
}

int si_cmdline_check(const char *expected, const char *actual, const char *volatile_keys,
		     struct si_diag *d)
{
	static char want[SI_EVENT_MAX + 1], have[4096];
	const char *p = want, *q = have;

	if (si_cmdline_measured(expected, volatile_keys, want, sizeof(want)) < 0 ||
	    si_cmdline_measured(actual, volatile_keys, have, sizeof(have)) < 0) {
		si_diag_set(d, "the kernel command line is too long to compare");
		return -EPERM;
	}
	if (!strcmp(want, have))
		return 0;
	/* Name the first word that differs, both ways round. */
	for (;;) {
		size_t a = strcspn(p, " "), b = strcspn(q, " ");

		if (a != b || memcmp(p, q, a)) {
			si_diag_set(d, "the kernel command line differs from cmdline= in the "
				    "configuration: `%.*s' where `%.*s' was expected",
				    (int)(b > 200 ? 200 : b), b ? q : "(end)",
				    (int)(a > 200 ? 200 : a), a ? p : "(end)");
			if (!b)
				si_diag_set(d, "the kernel command line differs from cmdline= in the "
					    "configuration: it lacks `%.*s'", (int)(a > 200 ? 200 : a), p);
			else if (!a)
				si_diag_set(d, "the kernel command line differs from cmdline= in the "
					    "configuration: `%.*s' was not expected",
					    (int)(b > 200 ? 200 : b), q);
			return -EPERM;
		}
		p += a + (p[a] == ' ');
		q += b + (q[b] == ' ');
	}
}

static void set(struct si_event *e, unsigned int pcr)
{
	memset(e, 0, sizeof(*e));
	e->pcr = pcr;
}

int si_event_cmdline(struct si_event *e, unsigned int pcr, const char *cmdline,
		     const char *volatile_keys, struct si_diag *d)
{
	static const char prefix[] = "sealinit:cmdline:";

	set(e, pcr);
	memcpy(e->text, prefix, sizeof(prefix));
	if (si_cmdline_measured(cmdline, volatile_keys, e->text + sizeof(prefix) - 1,
				sizeof(e->text) - (sizeof(prefix) - 1)) < 0) {
		si_diag_set(d, "the kernel command line is longer than the %zu bytes a measurement "
			    "holds (TPM2_PCR_Event takes %d)", SI_EVENT_MAX - (sizeof(prefix) - 1),
			    SI_EVENT_MAX);
		return -E2BIG;
	}
	return 0;
}

int si_event_config(struct si_event *e, unsigned int pcr, const struct si_bootcfg *c,
		    struct si_diag *d)
{
	static char text[16384];
	uint8_t digest[SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1];

	set(e, pcr);
	if (si_bootcfg_format(c, text, sizeof(text)) < 0) {
		si_diag_set(d, "the configuration does not fit in %zu bytes", sizeof(text));
		return -ENOSPC;
	}
	si_sha256(text, strlen(text), digest);
	si_hex_encode(hex, digest, sizeof(digest));
	snprintf(e->text, sizeof(e->text), "sealinit:config:%s", hex);
	return 0;
}

void si_event_verity(struct si_event *e, unsigned int pcr, const char *roothash)
{
	char *p;

	set(e, pcr);
	snprintf(e->text, sizeof(e->text), "sealinit:verity:%s", roothash);
	/* The same root hash in either case is the same root. */
	for (p = e->text; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
}

void si_event_image(struct si_event *e, unsigned int pcr, const uint8_t digest[SI_SHA256_SIZE])
{
	char hex[2 * SI_SHA256_SIZE + 1];

	set(e, pcr);
	si_hex_encode(hex, digest, SI_SHA256_SIZE);
	snprintf(e->text, sizeof(e->text), "sealinit:image:%s", hex);
}

void si_event_init(struct si_event *e, unsigned int pcr, const char *path,
		   const uint8_t digest[SI_SHA256_SIZE])
{
	char hex[2 * SI_SHA256_SIZE + 1];

	set(e, pcr);
	si_hex_encode(hex, digest, SI_SHA256_SIZE);
	snprintf(e->text, sizeof(e->text), "sealinit:init:%.900s:%s", path, hex);
}

void si_event_string(struct si_event *e, unsigned int pcr, const char *text)
{
	set(e, pcr);
	snprintf(e->text, sizeof(e->text), "%s", text);
}

void si_event_digest(const struct si_event *e, uint8_t out[SI_SHA256_SIZE])
{
	si_sha256(e->text, strlen(e->text), out);
}

void si_event_extend(uint8_t v[SI_SHA256_SIZE], const struct si_event *e)
{
	uint8_t buf[2 * SI_SHA256_SIZE];

	memcpy(buf, v, SI_SHA256_SIZE);
	si_event_digest(e, buf + SI_SHA256_SIZE);
	si_sha256(buf, sizeof(buf), v);
}

void si_events_replay(const struct si_event *ev, size_t n, unsigned int pcr,
		      const uint8_t *initial, uint8_t out[SI_SHA256_SIZE])
{
	size_t i;

	if (initial)
		memcpy(out, initial, SI_SHA256_SIZE);
	else
		memset(out, 0, SI_SHA256_SIZE);
	for (i = 0; i < n; i++)
		if (ev[i].pcr == pcr)
			si_event_extend(out, &ev[i]);
}

/* JSON string body: quotes, backslashes and control characters escaped. */
static int json_escape(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char tmp[8];
		size_t n;

		if (ch == '"' || ch == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", ch);
		else {
			tmp[0] = (char)ch;
			n = 1;
		}
		if (o + n >= size)
			return -ENOSPC;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int si_cel_record(unsigned int pcr, const char *digest_hex, const char *string, char *buf,
		  size_t size)
{
	static char esc[6 * SI_EVENT_MAX + 1];
	int n;

	if (json_escape(string, esc, sizeof(esc)) < 0)
		return -ENOSPC;
	n = snprintf(buf, size,
		     "\x1e{\"pcr\":%u,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
		     "\"content_type\":\"systemd\",\"content\":{\"string\":\"%s\"}}\n",
		     pcr, digest_hex, esc);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int si_event_cel(const struct si_event *e, char *buf, size_t size)
{
	char hex[2 * SI_SHA256_SIZE + 1];
	uint8_t digest[SI_SHA256_SIZE];

	si_event_digest(e, digest);
	si_hex_encode(hex, digest, sizeof(digest));
	return si_cel_record(e->pcr, hex, e->text, buf, size);
}

int si_event_extend_hex(uint8_t v[SI_SHA256_SIZE], const char *hex)
{
	uint8_t buf[2 * SI_SHA256_SIZE];

	if (strlen(hex) != 2 * SI_SHA256_SIZE ||
	    si_hex_decode(buf + SI_SHA256_SIZE, SI_SHA256_SIZE, hex) != SI_SHA256_SIZE)
		return -EINVAL;
	memcpy(buf, v, SI_SHA256_SIZE);
	si_sha256(buf, sizeof(buf), v);
	return 0;
}

/* hex (either case) is the SHA-256 of data. */
static bool digest_is(const char *hex, const void *data, size_t len)
{
	uint8_t want[SI_SHA256_SIZE], got[SI_SHA256_SIZE];

	return strlen(hex) == 2 * SI_SHA256_SIZE &&
	       si_hex_decode(got, sizeof(got), hex) == SI_SHA256_SIZE &&
	       si_sha256(data, len, want) == 0 && !memcmp(want, got, sizeof(want));
}

static void record_from(struct json_object *o, struct si_event_record *r)
{
	struct json_object *v, *c, *dg;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (json_object_object_get_ex(o, "pcr", &v))
		r->pcr = (unsigned int)json_object_get_int(v);
	if (json_object_object_get_ex(o, "content", &c) &&
	    json_object_object_get_ex(c, "string", &v) && json_object_is_type(v, json_type_string))
		snprintf(r->string, sizeof(r->string), "%s", json_object_get_string(v));
	if (!json_object_object_get_ex(o, "digests", &dg) || !json_object_is_type(dg, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(dg); i++) {
		struct json_object *e = json_object_array_get_idx(dg, i), *alg, *hex;

		if (json_object_object_get_ex(e, "hashAlg", &alg) &&
		    !strcmp(json_object_get_string(alg), "sha256") &&
		    json_object_object_get_ex(e, "digest", &hex))
			snprintf(r->digest, sizeof(r->digest), "%s", json_object_get_string(hex));
	}
	r->cap = digest_is(r->digest, SI_CAP_EVENT, strlen(SI_CAP_EVENT));
	r->forged = !strncmp(r->string, "sealinit:", 9) &&
		    !digest_is(r->digest, r->string, strlen(r->string));
}

int si_eventlog_parse(const char *text, size_t len,
		      void (*fn)(void *ctx, const struct si_event_record *r), void *ctx,
		      struct si_diag *d)
{
	static struct si_event_record rec;
	size_t pos = 0;
	int n = 0;

	while (pos < len) {
		size_t start, end;
		struct json_object *o, *pcr;

		/* RFC 7464: RS, JSON text, LF. Tolerate blank space between. */
		while (pos < len && (text[pos] == 0x1e || text[pos] == '\n' || text[pos] == ' '))
			pos++;
		if (pos >= len)
			break;
		start = pos;
		while (pos < len && text[pos] != 0x1e)
			pos++;
		end = pos;
		n++;
		/* The record's JSON text, without the LF that ends it. */
		while (end > start && (text[end - 1] == '\n' || text[end - 1] == ' '))
			end--;
		o = si_json_object(text + start, end - start, 8);
		if (!o || !json_object_object_get_ex(o, "pcr", &pcr) || !json_object_is_type(pcr, json_type_int) ||
		    json_object_get_int(pcr) < 0 || json_object_get_int(pcr) > 23) {
			json_object_put(o);
			si_diag_set(d, "event log record %d: not a CEL-JSON record with a PCR 0-23", n);
			return -EINVAL;
		}
		record_from(o, &rec);
		json_object_put(o);
		fn(ctx, &rec);
	}
	return n;
}

static void replay_record(void *ctx, const struct si_event_record *r)
{
	struct si_log_replay *lr = ctx;
	uint32_t bit = UINT32_C(1) << r->pcr;

	lr->seen |= bit;
	lr->records++;
	if (si_event_extend_hex(lr->full[r->pcr], r->digest) < 0)
		lr->bad |= bit;
	if (r->forged && !(lr->forged & bit)) {
		lr->forged |= bit;
		lr->bad |= bit;
		lr->forged_at[r->pcr] = lr->records;
	}
	/* The cap by its digest: a relabelled record cannot move it. */
	if (r->cap) {
		lr->capped |= bit;
		lr->last_cap |= bit;
	} else {
		lr->last_cap &= ~bit;
		if (!(lr->capped & bit))
			si_event_extend_hex(lr->before_cap[r->pcr], r->digest);
	}
}

int si_eventlog_replay(const char *text, size_t len, const struct si_pcr_expect *initial,
		       struct si_log_replay *out, struct si_diag *d)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; initial && i < SI_PCR_COUNT; i++)
		if (initial->mask & (UINT32_C(1) << i)) {
			memcpy(out->full[i], initial->sha256[i], SI_SHA256_SIZE);
			memcpy(out->before_cap[i], initial->sha256[i], SI_SHA256_SIZE);
		}
	return si_eventlog_parse(text, len, replay_record, out, d);
}
