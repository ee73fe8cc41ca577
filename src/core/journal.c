/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/journal.h"

static int get_slot(struct json_object *o, const char *key, int *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < -1 || n >= 32)
		return -EINVAL;
	*out = (int)n;
	return 0;
}

/* A keyslot's KDF salt as libcryptsetup writes it: base64, nothing else.
 * si_migration_format writes it into JSON as it is. */
static bool salt_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/' && *s != '=')
			return false;
	return true;
}

int si_migration_parse(const char *json, struct si_migration_state *st, struct si_diag *d)
{
	struct json_object *o, *salt;
	int r = -SI_EBADTOKEN;

	memset(st, 0, sizeof(*st));
	st->token = st->legacy_keyslot = st->pending_keyslot = st->tpm_keyslot = -1;
	o = json_tokener_parse(json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		si_diag_set(d, "not a JSON object");
	} else if (get_slot(o, "legacy_keyslot", &st->legacy_keyslot) || st->legacy_keyslot < 0) {
		si_diag_set(d, "`legacy_keyslot' must be a keyslot number 0-31");
	} else if (get_slot(o, "pending_keyslot", &st->pending_keyslot) ||
		   get_slot(o, "tpm2_keyslot", &st->tpm_keyslot)) {
		si_diag_set(d, "`pending_keyslot' and `tpm2_keyslot' must be -1 or 0-31");
	} else if (!json_object_object_get_ex(o, "legacy_salt", &salt) ||
		   !json_object_is_type(salt, json_type_string) ||
		   snprintf(st->legacy_salt, sizeof(st->legacy_salt), "%s",
			    json_object_get_string(salt)) >= (int)sizeof(st->legacy_salt) ||
		   !salt_ok(st->legacy_salt)) {
		si_diag_set(d, "`legacy_salt' must be a base64 KDF salt of at most %zu characters",
			    sizeof(st->legacy_salt) - 1);
	} else {
		r = 0;
	}
	json_object_put(o);
	if (r < 0) {
		memset(st, 0, sizeof(*st));
		st->token = st->legacy_keyslot = st->pending_keyslot = st->tpm_keyslot = -1;
	}
	return r;
}

int si_migration_format(const struct si_migration_state *st, char *buf, size_t size)
{
	int n;

	if (!salt_ok(st->legacy_salt))
		return -EINVAL;
	n = snprintf(buf, size,
		     "{\"type\":\"" SI_MIGRATION_TOKEN "\",\"keyslots\":[],\"legacy_keyslot\":%d,"
		     "\"legacy_salt\":\"%s\",\"pending_keyslot\":%d,\"tpm2_keyslot\":%d}",
		     st->legacy_keyslot, st->legacy_salt, st->pending_keyslot, st->tpm_keyslot);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
