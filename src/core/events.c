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

/*
 * The kernel's isspace() (lib/ctype.c): HT, LF, VT, FF, CR, space, and
 * 0xA0, which its Latin-1 table marks as a space too. next_arg() in
 * lib/cmdline.c ends a word at any of them outside double quotes.
 */
static bool kernel_space(unsigned char ch)
{
	return (ch >= '\t' && ch <= '\r') || ch == ' ' || ch == 0xa0;
}

/*
 * Bytes on which the kernel and systemd (proc_cmdline_parse:
 * extract_first_word over " \t\n\r", unquoting '...' and "..." and
 * reading backslash escapes) would find different words. Where they
 * differ, a word we measure or leave out is not the word systemd acts on:
 * refused, by byte and offset. NULL when the byte at i is fine.
 */
static const char *byte_refused(const char *s, size_t i)
{
	unsigned char ch = (unsigned char)s[i], next = (unsigned char)s[i + 1];

	if (ch == '\v' || ch == '\f' || ch == 0xa0)
		return "the kernel ends a word there and systemd does not";
	if (ch == '\'')
		return "systemd reads it as a quote and the kernel does not";
	/* \E in a UEFI path (initrd=\EFI\...) means the same to both; a
	 * backslash before a quote, a space or another backslash does not. */
	if (ch == '\\' && (!next || next == '"' || next == '\'' || next == '\\' ||
			   kernel_space(next)))
		return "systemd reads it as an escape and the kernel does not";
	return NULL;
}

int si_cmdline_words(const char *cmdline,
		     int (*fn)(void *ctx, const struct si_cmdline_word *w), void *ctx,
		     struct si_diag *d)
{
	size_t i, pos = 0;

	for (i = 0; cmdline[i]; i++) {
		const char *why = byte_refused(cmdline, i);

		if (why) {
			si_diag_set(d, "byte 0x%02x at offset %zu of the kernel command line: %s; "
				    "refused, so that every word measured or left out is the word "
				    "the kernel and systemd see", (unsigned char)cmdline[i], i, why);
			return -EINVAL;
		}
	}
	for (;;) {
		struct si_cmdline_word w = { 0 };
		bool quoted = false, in_quote = false;
		const char *p, *eq = NULL;
		size_t n;
		int r;

		while (cmdline[pos] && kernel_space((unsigned char)cmdline[pos]))
			pos++;
		if (!cmdline[pos])
			return 0;
		/* next_arg(): a leading quote opens the word and is not part of
		 * the parameter; any quote toggles; the first '=' (past the
		 * word's first byte) ends the parameter's name. */
		p = cmdline + pos;
		if (*p == '"') {
			quoted = in_quote = true;
			p++;
		}
		for (n = 0; p[n]; n++) {
			if (kernel_space((unsigned char)p[n]) && !in_quote)
				break;
			if (!eq && n > 0 && p[n] == '=')
				eq = p + n;
			if (p[n] == '"')
				in_quote = !in_quote;
		}
		w.word = cmdline + pos;
		w.len = (size_t)(p + n - w.word);
		w.offset = pos;
		w.key = p;
		if (eq) {
			w.key_len = (size_t)(eq - p);
			w.val = eq + 1;
			w.val_len = (size_t)(p + n - w.val);
			/* "Don't include quotes in value." */
			if (w.val_len && *w.val == '"') {
				w.val++;
				w.val_len--;
				if (n && p[n - 1] == '"' && w.val_len)
					w.val_len--;
			} else if (quoted && n && p[n - 1] == '"' && w.val_len) {
				w.val_len--;
			}
		} else {
			w.key_len = n - (quoted && n && p[n - 1] == '"');
		}
		pos = (size_t)(p + n - cmdline);
		r = fn(ctx, &w);
		if (r < 0)
			return r;
	}
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

struct measured {
	const char *volatile_keys;
	char *out;
	size_t size, o;
	struct si_diag *d;
};

/* A word is left out of the measurement when the configuration lists its
 * key as volatile, or when it is one of sealinit's keys that are never
 * measured (bootcfg.h: verbosity and timeouts). */
static bool left_out(const char *volatile_keys, const struct si_cmdline_word *w)
{
	return si_kv_listed(volatile_keys, " ,", w->key, w->key_len) ||
	       (w->key_len > 9 && !memcmp(w->key, "sealinit.", 9) &&
		si_bootcfg_key_unmeasured(w->key + 9, w->key_len - 9));
}

static int measure_word(void *ctx, const struct si_cmdline_word *w)
{
	struct measured *m = ctx;

	if (left_out(m->volatile_keys, w)) {
		/* A quote in a word left out could carry the words after it
		 * into the one the measurement drops. */
		if (memchr(w->word, '"', w->len)) {
			si_diag_set(m->d, "`%.*s' at offset %zu of the kernel command line: a word "
				    "left out of the measurement holds a quote; refused, so that "
				    "it cannot carry other words with it", (int)(w->len > 120 ? 120 : w->len),
				    w->word, w->offset);
			return -EINVAL;
		}
		return 0;
	}
	if (m->o + (m->o ? 1 : 0) + w->len >= m->size)
		return -E2BIG;
	if (m->o)
		m->out[m->o++] = ' ';
	memcpy(m->out + m->o, w->word, w->len);
	m->o += w->len;
	m->out[m->o] = '\0';
	return 0;
}

int si_cmdline_measured(const char *cmdline, const char *volatile_keys, char *out, size_t size,
			struct si_diag *d)
{
	struct measured m = { volatile_keys, out, size, 0, d };

	if (!size)
		return -E2BIG;
	out[0] = '\0';
	return si_cmdline_words(cmdline, measure_word, &m, d);
}

int si_cmdline_check(const char *expected, const char *actual, const char *volatile_keys,
		     struct si_diag *d)
{
	static char want[SI_EVENT_MAX + 1], have[4096];
	struct si_diag wd = { { 0 } };
	const char *p = want, *q = have;
	int r;

	r = si_cmdline_measured(expected, volatile_keys, want, sizeof(want), &wd);
	if (r == -EINVAL) {
		si_diag_set(d, "cmdline= in the configuration: %.400s", wd.msg);
		return -EPERM;
	}
	if (r == 0)
		r = si_cmdline_measured(actual, volatile_keys, have, sizeof(have), d);
	if (r == -EINVAL)
		return -EPERM;
	if (r < 0) {
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
	int r;

	set(e, pcr);
	memcpy(e->text, prefix, sizeof(prefix));
	r = si_cmdline_measured(cmdline, volatile_keys, e->text + sizeof(prefix) - 1,
				sizeof(e->text) - (sizeof(prefix) - 1), d);
	if (r == -EINVAL)
		return r;
	if (r < 0) {
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
	if (si_bootcfg_format_measured(c, text, sizeof(text)) < 0) {
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
