/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <tss2/tss2_mu.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/json.h"
#include "core/token.h"
#include "core/tpm/policy.h"

/* The first and only TPM2 alg ids the primary key may use. */
#define ALG_RSA 0x0001
#define ALG_ECC 0x0023

#define JSON_MAX (64 * 1024)

static int bad(struct si_diag *d, const char *field, const char *why)
{
	si_diag_set(d, "token field `%s': %s", field, why);
	return -SI_EBADTOKEN;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* Newer systemd may write single-element arrays for blob and policy hash. */
static const char *get_string_or_single(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 1 &&
	    json_object_is_type(json_object_array_get_idx(v, 0), json_type_string))
		return json_object_get_string(json_object_array_get_idx(v, 0));
	return NULL;
}

static int parse_pcr_array(struct json_object *v, uint32_t *mask, const char *field,
			   struct si_diag *d)
{
	size_t i, n;

	if (!json_object_is_type(v, json_type_array))
		return bad(d, field, "expected an array of PCR numbers");
	n = json_object_array_length(v);
	if (n > SI_PCR_COUNT)
		return bad(d, field, "more than 24 entries");
	*mask = 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		int64_t pcr;

		if (!json_object_is_type(e, json_type_int))
			return bad(d, field, "expected integers 0-23");
		pcr = json_object_get_int64(e);
		if (pcr < 0 || pcr >= SI_PCR_COUNT)
			return bad(d, field, "PCR number out of range 0-23");
		*mask |= UINT32_C(1) << pcr;
	}
	return 0;
}

static int parse_b64_field(struct json_object *o, const char *field, uint8_t *out,
			   size_t cap, size_t *len, bool required, struct si_diag *d)
{
	struct json_object *v = get(o, field);
	const char *s;
	long n;

	*len = 0;
	if (!v)
		return required ? bad(d, field, "missing") : 0;
	s = get_string_or_single(v);
	if (!s)
		return bad(d, field, "expected a base64 string");
	if (strlen(s) > SI_B64_LEN(cap))
		return bad(d, field, "too long");
	n = si_b64_decode(out, cap, s);
	if (n == -ENOSPC)
		return bad(d, field, "too long");
	if (n < 0)
		return bad(d, field, "invalid base64");
	if (n == 0 && required)
		return bad(d, field, "empty");
	*len = (size_t)n;
	return 0;
}

/* The blob must be exactly TPM2B_PRIVATE then TPM2B_PUBLIC, and the
 * sealed object's authPolicy must be the token's policy hash. */
static int check_blob(struct si_token *t, struct si_diag *d)
{
	TPM2B_PRIVATE priv = { 0 };
	TPM2B_PUBLIC pub = { 0 };
	size_t off = 0, priv_end;

	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(t->blob, t->blob_len, &off, &priv))
		return bad(d, "tpm2-blob", "truncated private part");
	priv_end = off;
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(t->blob, t->blob_len, &off, &pub))
		return bad(d, "tpm2-blob", "truncated or invalid public part");
	if (off != t->blob_len)
		return bad(d, "tpm2-blob", "trailing bytes after the public part");
	if (pub.publicArea.type != 0x0008 /* TPM2_ALG_KEYEDHASH */)
		return bad(d, "tpm2-blob", "not a sealed data object");
	if (pub.publicArea.authPolicy.size != t->policy_hash_len ||
	    memcmp(pub.publicArea.authPolicy.buffer, t->policy_hash, t->policy_hash_len))
		return bad(d, "tpm2-policy-hash", "does not match the sealed object's policy");
	t->blob_private_len = priv_end;
	return 0;
}

int si_token_parse(const char *json, struct si_token *t, struct si_diag *d)
{
	struct json_object *o = NULL, *v;
	const char *s;
	long n;
	int r;

	memset(t, 0, sizeof(*t));
	t->keyslot = -1;
	t->pcr_bank = 0x000B;        /* absent: sha256, as systemd assumes */
	t->primary_alg = ALG_ECC;    /* absent: ECC, as systemd assumes */

	if (!json || strlen(json) > JSON_MAX)
		return bad(d, "(token)", "missing or larger than 64 KiB");
	o = si_json_object(json, strlen(json), JSON_TOKENER_DEFAULT_DEPTH);
	if (!o) {
		r = bad(d, "(token)", "not a JSON object");
		goto out;
	}

	v = get(o, "type");
	if (!v || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), SI_TOKEN_TYPE)) {
		r = bad(d, "type", "expected \"" SI_TOKEN_TYPE "\"");
		goto out;
	}

	v = get(o, "keyslots");
	if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) < 1) {
		r = bad(d, "keyslots", "expected a non-empty array");
		goto out;
	} else {
		struct json_object *e = json_object_array_get_idx(v, 0);
		char *end;
		unsigned long ks;

		s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
		errno = 0;
		ks = s ? strtoul(s, &end, 10) : 0;
		if (!s || !*s || *end || errno || ks > 31 || *s == '-' || *s == '+') {
			r = bad(d, "keyslots", "expected keyslot numbers 0-31 as strings");
			goto out;
		}
		t->keyslot = (int)ks;
	}

	v = get(o, "tpm2-pcrs");
	if (!v) {
		r = bad(d, "tpm2-pcrs", "missing");
		goto out;
	}
	r = parse_pcr_array(v, &t->pcr_mask, "tpm2-pcrs", d);
	if (r < 0)
		goto out;

	v = get(o, "tpm2-pcr-bank");
	if (v) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		t->pcr_bank = si_bank_from_name(s);
		if (!t->pcr_bank) {
			r = bad(d, "tpm2-pcr-bank", "expected sha1, sha256, sha384 or sha512");
			goto out;
		}
	}

	v = get(o, "tpm2-primary-alg");
	if (v) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (strcmp(s, "ecc") == 0) {
			t->primary_alg = ALG_ECC;
		} else if (strcmp(s, "rsa") == 0) {
			t->primary_alg = ALG_RSA;
		} else {
			r = bad(d, "tpm2-primary-alg", "expected ecc or rsa");
			goto out;
		}
	}

	v = get(o, "tpm2-policy-hash");
	s = v ? get_string_or_single(v) : NULL;
	if (!s) {
		r = bad(d, "tpm2-policy-hash", v ? "expected a hex string" : "missing");
		goto out;
	}
	n = si_hex_decode(t->policy_hash, sizeof(t->policy_hash), s);
	if (n != 32) {
		r = bad(d, "tpm2-policy-hash", "expected 64 hex digits (a SHA-256 digest)");
		goto out;
	}
	t->policy_hash_len = (size_t)n;

	v = get(o, "tpm2-pin");
	if (v) {
		if (!json_object_is_type(v, json_type_boolean)) {
			r = bad(d, "tpm2-pin", "expected true or false");
			goto out;
		}
		t->pin = json_object_get_boolean(v);
	}

	v = get(o, "tpm2_pcrlock");
	if (v) {
		if (!json_object_is_type(v, json_type_boolean)) {
			r = bad(d, "tpm2_pcrlock", "expected true or false");
			goto out;
		}
		t->pcrlock = json_object_get_boolean(v);
	}

	v = get(o, "tpm2_pubkey_pcrs");
	if (v) {
		r = parse_pcr_array(v, &t->pubkey_pcr_mask, "tpm2_pubkey_pcrs", d);
		if (r < 0)
			goto out;
	}

	r = parse_b64_field(o, "tpm2_pubkey", t->pubkey, sizeof(t->pubkey), &t->pubkey_len, false, d);
	if (r < 0)
		goto out;
	/* systemd asserts it; a signed policy needs its key. */
	if (t->pubkey_pcr_mask && !t->pubkey_len) {
		r = bad(d, "tpm2_pubkey", "missing, and tpm2_pubkey_pcrs needs it");
		goto out;
	}
	v = get(o, "sealinit_counter_nv");
	if (v) {
		const char *h = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		unsigned long idx = 0;
		char *end = NULL;

		if (strlen(h) == 10 && h[0] == '0' && h[1] == 'x' && isxdigit((unsigned char)h[2]))
			idx = strtoul(h + 2, &end, 16);
		if (!end || *end || idx < SI_COUNTER_FIRST || idx > SI_COUNTER_LAST) {
			r = bad(d, "sealinit_counter_nv",
				"expected an NV index of the owner range, \"0x01800000\"-\"0x01bfffff\"");
			goto out;
		}
		if (!t->pubkey_pcr_mask) {
			r = bad(d, "sealinit_counter_nv", "set, and tpm2_pubkey_pcrs is empty: a counter "
				"belongs to a signed policy");
			goto out;
		}
		t->counter_nv = (uint32_t)idx;
	}
	r = parse_b64_field(o, "tpm2_salt", t->salt, sizeof(t->salt), &t->salt_len, false, d);
	if (r < 0)
		goto out;
	r = parse_b64_field(o, "tpm2_srk", t->srk, sizeof(t->srk), &t->srk_len, false, d);
	if (r < 0)
		goto out;
	r = parse_b64_field(o, "tpm2-blob", t->blob, sizeof(t->blob), &t->blob_len, true, d);
	if (r < 0)
		goto out;
	r = check_blob(t, d);
out:
	if (o)
		json_object_put(o);
	return r;
}

static int add_b64(struct json_object *o, const char *key, const uint8_t *data, size_t len)
{
	char *s = malloc(SI_B64_LEN(len) + 1);
	struct json_object *v;

	if (!s)
		return -ENOMEM;
	si_b64_encode(s, data, len);
	v = json_object_new_string(s);
	free(s);
	if (!v)
		return -ENOMEM;
	json_object_object_add(o, key, v);
	return 0;
}

static struct json_object *pcr_array(uint32_t mask)
{
	struct json_object *a = json_object_new_array();
	int i;

	for (i = 0; a && i < SI_PCR_COUNT; i++)
		if (mask & (UINT32_C(1) << i))
			json_object_array_add(a, json_object_new_int(i));
	return a;
}

int si_token_format(const struct si_token *t, char **json)
{
	struct json_object *o = json_object_new_object(), *ks;
	char buf[16], hex[2 * sizeof(t->policy_hash) + 1];
	const char *bank = si_bank_name(t->pcr_bank);
	int r = -ENOMEM;

	if (!o)
		return -ENOMEM;
	if (!bank || t->keyslot < 0 || t->policy_hash_len > sizeof(t->policy_hash)) {
		r = -EINVAL;
		goto out;
	}
	/* Field order as systemd writes it; readers do not depend on it. */
	json_object_object_add(o, "type", json_object_new_string(SI_TOKEN_TYPE));
	ks = json_object_new_array();
	snprintf(buf, sizeof(buf), "%d", t->keyslot);
	json_object_array_add(ks, json_object_new_string(buf));
	json_object_object_add(o, "keyslots", ks);
	if ((r = add_b64(o, "tpm2-blob", t->blob, t->blob_len)) < 0)
		goto out;
	json_object_object_add(o, "tpm2-pcrs", pcr_array(t->pcr_mask));
	json_object_object_add(o, "tpm2-pcr-bank", json_object_new_string(bank));
	json_object_object_add(o, "tpm2-primary-alg",
			       json_object_new_string(t->primary_alg == ALG_RSA ? "rsa" : "ecc"));
	si_hex_encode(hex, t->policy_hash, t->policy_hash_len);
	json_object_object_add(o, "tpm2-policy-hash", json_object_new_string(hex));
	json_object_object_add(o, "tpm2-pin", json_object_new_boolean(t->pin));
	/* Written whenever set, so no field read is lost on re-emit. */
	if (t->pubkey_len || t->pubkey_pcr_mask)
		json_object_object_add(o, "tpm2_pubkey_pcrs", pcr_array(t->pubkey_pcr_mask));
	if (t->pubkey_len && (r = add_b64(o, "tpm2_pubkey", t->pubkey, t->pubkey_len)) < 0)
		goto out;
	if (t->counter_nv) {
		snprintf(buf, sizeof(buf), "0x%08x", (unsigned int)t->counter_nv);
		json_object_object_add(o, "sealinit_counter_nv", json_object_new_string(buf));
	}
	if (t->salt_len && (r = add_b64(o, "tpm2_salt", t->salt, t->salt_len)) < 0)
		goto out;
	if (t->srk_len && (r = add_b64(o, "tpm2_srk", t->srk, t->srk_len)) < 0)
		goto out;
	*json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	r = *json ? 0 : -ENOMEM;
out:
	json_object_put(o);
	return r;
}
