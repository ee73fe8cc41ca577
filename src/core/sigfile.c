/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/json.h"
#include "core/sigfile.h"

#define BANK "sha256"

/* Every message about an entry names it so: `sha256[2].pol'. */
static int bad(struct si_diag *d, size_t i, const char *field, const char *why)
{
	si_diag_set(d, "`" BANK "[%zu].%s': %s", i, field, why);
	return -SI_EBADSIG;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int hex32(struct json_object *o, const char *key, uint8_t out[32], size_t i,
		 struct si_diag *d)
{
	struct json_object *v = get(o, key);

	if (!v)
		return bad(d, i, key, "missing");
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != 64 ||
	    si_hex_decode(out, 32, json_object_get_string(v)) != 32)
		return bad(d, i, key, "expected 64 hex digits (a SHA-256 digest)");
	return 0;
}

static int parse_object(struct json_object *o, size_t i, struct si_sig *e, struct si_diag *d)
{
	memset(e, 0, sizeof(*e));
	e->index = i;
	if (!json_object_is_type(o, json_type_object)) {
		si_diag_set(d, "`" BANK "[%zu]': expected an object", i);
		return -SI_EBADSIG;
	}
	return 0;
}

static int parse_pcrs(struct json_object *o, size_t i, struct si_sig *e, struct si_diag *d)
{
	struct json_object *v = get(o, "pcrs");
	size_t k, n;

	if (!v)
		return bad(d, i, "pcrs", "missing");
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > SI_PCR_COUNT)
		return bad(d, i, "pcrs", "expected an array of at most 24 PCR numbers");
	for (k = 0; k < n; k++) {
		struct json_object *p = json_object_array_get_idx(v, k);
		int64_t pcr;

		if (!json_object_is_type(p, json_type_int))
			return bad(d, i, "pcrs", "expected integers 0-23");
		pcr = json_object_get_int64(p);
		if (pcr < 0 || pcr >= SI_PCR_COUNT)
			return bad(d, i, "pcrs", "PCR number out of range 0-23");
		e->pcr_mask |= UINT32_C(1) << pcr;
	}
	return 0;
}

/* sealinit_counter, when the entry has it. */
static int parse_counter(struct json_object *o, size_t i, struct si_sig *e, struct si_diag *d)
{
	struct json_object *v = get(o, "sealinit_counter");

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return bad(d, i, "sealinit_counter", "expected an integer 0-9223372036854775807");
	e->counter = (uint64_t)json_object_get_int64(v);
	if (json_object_get_uint64(v) != e->counter)
		return bad(d, i, "sealinit_counter", "expected an integer 0-9223372036854775807");
	e->counted = true;
	return 0;
}

static int parse_sig(struct json_object *o, size_t i, struct si_sig *e, struct si_diag *d)
{
	struct json_object *v = get(o, "sig");
	const char *s;
	long len;

	if (!v)
		return bad(d, i, "sig", "missing");
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!s || strlen(s) > SI_B64_LEN(SI_SIG_MAX))
		return bad(d, i, "sig", "expected base64 of at most 512 bytes");
	len = si_b64_decode(e->sig, sizeof(e->sig), s);
	if (len <= 0)
		return bad(d, i, "sig", len == 0 ? "empty" : "invalid base64");
	e->sig_len = (size_t)len;
	return 0;
}

/* The whole entry, strictly: what `sign' requires of a file it adds to. */
static int parse_entry(struct json_object *o, size_t i, struct si_sig *e, struct si_diag *d)
{
	int r;

	if ((r = parse_object(o, i, e, d)) < 0 || (r = parse_pcrs(o, i, e, d)) < 0 ||
	    (r = hex32(o, "pkfp", e->pkfp, i, d)) < 0 || (r = hex32(o, "pol", e->pol, i, d)) < 0 ||
	    (r = parse_counter(o, i, e, d)) < 0 || (r = parse_sig(o, i, e, d)) < 0)
		return r;
	return 0;
}

/* The file's object and its sha256 array (NULL when absent); with strict,
 * every entry checked. */
static int load(const char *json, bool strict, struct json_object **root,
		struct json_object **bank, struct si_diag *d)
{
	struct json_object *o;
	struct si_sig e;
	size_t i, n;
	int r;

	*root = *bank = NULL;
	if (!json || strlen(json) > SI_SIGFILE_MAX) {
		si_diag_set(d, "signature file: missing or larger than %d KiB", SI_SIGFILE_MAX / 1024);
		return -SI_EBADSIG;
	}
	o = si_json_object(json, strlen(json), JSON_TOKENER_DEFAULT_DEPTH);
	if (!o) {
		si_diag_set(d, "signature file: not a JSON object");
		return -SI_EBADSIG;
	}
	*root = o;
	*bank = get(o, BANK);
	if (!*bank)
		return 0;
	if (!json_object_is_type(*bank, json_type_array) ||
	    (n = json_object_array_length(*bank)) > SI_SIGFILE_ENTRIES) {
		si_diag_set(d, "signature file: `" BANK "': expected an array of at most %d entries",
			    SI_SIGFILE_ENTRIES);
		r = -SI_EBADSIG;
		goto fail;
	}
	for (i = 0; strict && i < n; i++) {
		struct si_diag why;

		r = parse_entry(json_object_array_get_idx(*bank, i), i, &e, &why);
		if (r < 0) {
			si_diag_set(d, "signature file: %.480s", why.msg);
			goto fail;
		}
	}
	return 0;
fail:
	json_object_put(o);
	*root = *bank = NULL;
	return r;
}

int si_sigfile_read(const char *path, char **json, struct si_diag *d)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	*json = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = -EINVAL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SI_SIGFILE_MAX) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto fail;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*json = buf;
	return 0;
fail:
	si_diag_set(d, "cannot read the signature file `%.300s': %s", path,
		    r == -EINVAL ? "not a regular file" : strerror(-r));
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

/* Why no entry matched, from how many were for these PCRs and this key. */
static int no_match(uint32_t pcr_mask, const uint8_t pkfp[32], size_t for_pcrs, size_t for_key,
		    bool counted, struct si_diag *d)
{
	char pcrs[96], fp[65];

	si_pcrs_format(pcr_mask, pcrs, sizeof(pcrs));
	si_hex_encode(fp, pkfp, 32);
	if (!for_pcrs) {
		si_diag_set(d, "the signature file has no " BANK " signature%s for PCRs %s",
			    counted ? " with a rollback counter" : "", pcrs[0] ? pcrs : "(none)");
		return -SI_ENOSIG;
	}
	if (!for_key) {
		si_diag_set(d, "the signature file's %zu signature(s) for PCRs %s are by another "
			    "key than the token's (pkfp %.16s...)", for_pcrs, pcrs, fp);
		return -SI_ESIGKEY;
	}
	si_diag_set(d, "none of the %zu signature(s)%s for PCRs %s is for their current "
		    "values (the PCRs hold a state nobody signed)", for_key,
		    counted ? " with a rollback counter" : "", pcrs);
	return -SI_ENOSIG;
}

/* What a lookup asks for: the PCRs, the key, and the digest (pol, or for
 * counted entries pol_for of the entry's counter). */
struct want {
	uint32_t pcr_mask;
	const uint8_t *pkfp;
	bool counted;
	const uint8_t *pol;
	si_sig_pol_fn pol_for;
	void *ctx;
};

enum fit {
	FIT_OTHER_PCRS,   /* another kind of entry, or other PCRs */
	FIT_OTHER_KEY,    /* these PCRs, another key */
	FIT_OTHER_STATE,  /* these PCRs and key, other values */
	FIT_BROKEN,       /* could be for this lookup, but a field does not parse */
	FIT_MATCH,
};

/*
 * How entry i relates to the lookup. Fields are read in the order that
 * rules the entry out soonest, so that an entry is FIT_BROKEN (its field
 * named in why) only when nothing that did parse says it is someone
 * else's: a merged file may hold other tools' entries, and those are not
 * this lookup's business. <0: pol_for failed.
 */
static int fit(struct json_object *o, size_t i, const struct want *w, struct si_sig *e,
	       struct si_diag *why)
{
	uint8_t pol[32];
	int r;

	if (parse_object(o, i, e, why) < 0)
		return FIT_BROKEN;
	if ((get(o, "sealinit_counter") != NULL) != w->counted)
		return FIT_OTHER_PCRS;
	if (parse_pcrs(o, i, e, why) < 0)
		return FIT_BROKEN;
	if (e->pcr_mask != w->pcr_mask)
		return FIT_OTHER_PCRS;
	if (hex32(o, "pkfp", e->pkfp, i, why) < 0)
		return FIT_BROKEN;
	if (memcmp(e->pkfp, w->pkfp, 32))
		return FIT_OTHER_KEY;
	if (parse_counter(o, i, e, why) < 0 || hex32(o, "pol", e->pol, i, why) < 0)
		return FIT_BROKEN;
	if (w->counted) {
		r = w->pol_for(e->counter, pol, w->ctx);
		if (r < 0)
			return r;
	} else {
		memcpy(pol, w->pol, 32);
	}
	if (memcmp(e->pol, pol, 32))
		return FIT_OTHER_STATE;
	if (parse_sig(o, i, e, why) < 0)
		return FIT_BROKEN;
	return FIT_MATCH;
}

/* Append "; msg" (or msg) to d, as far as it fits. */
static void append(struct si_diag *d, const char *msg)
{
	size_t len = strlen(d->msg);

	if (len + 3 < sizeof(d->msg))
		snprintf(d->msg + len, sizeof(d->msg) - len, "%s%s", len ? "; " : "", msg);
}

static int lookup(const char *json, const struct want *w, struct si_sig **out, size_t *count,
		  struct si_diag *d)
{
	struct json_object *root, *bank;
	struct si_sig *list = NULL, tmp;
	struct si_diag why, skipped = { { 0 } };
	size_t i, k, n, found = 0, broken = 0, for_pcrs = 0, for_key = 0;
	int r;

	*out = NULL;
	*count = 0;
	r = load(json, false, &root, &bank, d);
	if (r < 0)
		return r;
	n = bank ? json_object_array_length(bank) : 0;
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		why.msg[0] = '\0';
		r = fit(json_object_array_get_idx(bank, i), i, w, &list[found], &why);
		if (r < 0)
			goto out;
		for_pcrs += r >= FIT_OTHER_KEY;
		for_key += r >= FIT_OTHER_STATE;
		if (r == FIT_BROKEN) {
			broken++;
			append(&skipped, why.msg);
		} else if (r == FIT_MATCH) {
			found++;
		}
	}
	/* Counted entries newest first; among equal counters, file order
	 * (insertion sort: stable, and at most SI_SIGFILE_ENTRIES). */
	for (i = 1; w->counted && i < found; i++) {
		tmp = list[i];
		for (k = i; k > 0 && list[k - 1].counter < tmp.counter; k--)
			list[k] = list[k - 1];
		list[k] = tmp;
	}
	if (found) {
		*out = list;
		*count = found;
		list = NULL;
		*d = skipped;
		r = 0;
	} else if (broken) {
		si_diag_set(d, "signature file: no usable entry; %.460s", skipped.msg);
		r = -SI_EBADSIG;
	} else {
		r = no_match(w->pcr_mask, w->pkfp, for_pcrs, for_key, w->counted, d);
	}
out:
	free(list);
	json_object_put(root);
	return r;
}

int si_sigfile_match(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
		     const uint8_t pol[32], struct si_sig **out, size_t *n, struct si_diag *d)
{
	struct want w = { .pcr_mask = pcr_mask, .pkfp = pkfp, .pol = pol };

	return lookup(json, &w, out, n, d);
}

int si_sigfile_match_counted(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
			     si_sig_pol_fn pol_for, void *ctx, struct si_sig **out, size_t *n,
			     struct si_diag *d)
{
	struct want w = { .pcr_mask = pcr_mask, .pkfp = pkfp, .counted = true,
			  .pol_for = pol_for, .ctx = ctx };

	return lookup(json, &w, out, n, d);
}

int si_sigfile_find(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
		    const uint8_t pol[32], struct si_sig *out, struct si_diag *d)
{
	struct si_sig *list = NULL;
	size_t n;
	int r = si_sigfile_match(json, pcr_mask, pkfp, pol, &list, &n, d);

	if (r == 0)
		*out = list[0];
	free(list);
	return r;
}

int si_sigfile_find_counted(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
			    si_sig_pol_fn pol_for, void *ctx, struct si_sig *out,
			    struct si_diag *d)
{
	struct si_sig *list = NULL;
	size_t n;
	int r = si_sigfile_match_counted(json, pcr_mask, pkfp, pol_for, ctx, &list, &n, d);

	if (r == 0)
		*out = list[0];
	free(list);
	return r;
}

static struct json_object *entry_object(const struct si_sig *e)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	char hex[65], *b64 = malloc(SI_B64_LEN(SI_SIG_MAX) + 1);
	int i;

	if (!o || !a || !b64 || e->sig_len > SI_SIG_MAX) {
		json_object_put(o);
		json_object_put(a);
		free(b64);
		return NULL;
	}
	for (i = 0; i < SI_PCR_COUNT; i++)
		if (e->pcr_mask & (UINT32_C(1) << i))
			json_object_array_add(a, json_object_new_int(i));
	/* systemd-measure's order: pcrs, pkfp, pol, sig. */
	json_object_object_add(o, "pcrs", a);
	si_hex_encode(hex, e->pkfp, 32);
	json_object_object_add(o, "pkfp", json_object_new_string(hex));
	si_hex_encode(hex, e->pol, 32);
	json_object_object_add(o, "pol", json_object_new_string(hex));
	if (e->counted)
		json_object_object_add(o, "sealinit_counter", json_object_new_int64((int64_t)e->counter));
	si_b64_encode(b64, e->sig, e->sig_len);
	json_object_object_add(o, "sig", json_object_new_string(b64));
	free(b64);
	return o;
}

int si_sigfile_add(const char *json, const struct si_sig *e, char **out, struct si_diag *d)
{
	struct json_object *root = NULL, *bank = NULL, *ent;
	const char *s;
	size_t i, n;
	int r;

	*out = NULL;
	if (json) {
		r = load(json, true, &root, &bank, d);
		if (r < 0)
			return r;
	} else {
		root = json_object_new_object();
		if (!root)
			return -ENOMEM;
	}
	r = -ENOMEM;
	if (!bank) {
		bank = json_object_new_array();
		if (!bank)
			goto out;
		json_object_object_add(root, BANK, bank);
	}
	ent = entry_object(e);
	if (!ent)
		goto out;
	n = json_object_array_length(bank);
	for (i = 0; i < n; i++) {
		struct si_sig old;

		(void)parse_entry(json_object_array_get_idx(bank, i), i, &old, d);
		if (old.pcr_mask == e->pcr_mask && !memcmp(old.pkfp, e->pkfp, 32) &&
		    !memcmp(old.pol, e->pol, 32) && old.counted == e->counted)
			break;
	}
	if (i < n) {
		json_object_array_put_idx(bank, i, ent);
	} else if (n >= SI_SIGFILE_ENTRIES) {
		json_object_put(ent);
		si_diag_set(d, "signature file: already %d entries", SI_SIGFILE_ENTRIES);
		r = -E2BIG;
		goto out;
	} else {
		json_object_array_add(bank, ent);
	}
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && asprintf(out, "%s\n", s) < 0)
		*out = NULL;
	r = *out ? 0 : -ENOMEM;
out:
	json_object_put(root);
	return r;
}
